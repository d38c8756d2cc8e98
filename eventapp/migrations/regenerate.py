"""Regenerate the initial schema migration from the models (used before the first release)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask_migrate import migrate

from eventapp import create_app

VERSIONS = Path(__file__).resolve().parent / "versions"


def main() -> None:
    """Write versions/0001_initial.py from the current models."""
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/empty.sqlite3",
                "SECRET_KEY": "regenerate",
            }
        )
        with app.app_context():
            migrate(message="initial schema", rev_id="0001")


if __name__ == "__main__":
    main()
