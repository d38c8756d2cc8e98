"""Write a new schema migration on top of the existing ones for what the models changed.

The initial migration (0001) is frozen: databases with real data were created from it, so every
schema change is a further revision that `eventapp db upgrade` applies to them.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import migrate, upgrade

from eventapp import create_app
from eventapp.extensions import db

MIGRATIONS = Path(__file__).resolve().parent
NUMBERED = re.compile(r"^(\d{4})_.*\.py$")


def next_revision_id(versions: Path) -> str:
    """Return the next four-digit revision id after the highest one in versions/."""
    numbers = [int(m.group(1)) for p in versions.iterdir() if (m := NUMBERED.match(p.name))]
    return f"{max(numbers, default=0) + 1:04d}"


def new_revision(message: str, directory: Path = MIGRATIONS) -> Path | None:
    """Autogenerate a revision on top of the newest; return its file (None: nothing changed)."""
    versions = directory / "versions"
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/migrated.sqlite3",
                "SECRET_KEY": "new-revision",
            }
        )
        with app.app_context():
            upgrade(directory=str(directory))
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "render_as_batch": True}
                )
                changed = compare_metadata(context, db.metadata)
            if not changed:
                db.engine.dispose()
                return None
            before = set(versions.iterdir())
            migrate(directory=str(directory), message=message, rev_id=next_revision_id(versions))
            db.engine.dispose()
    (written,) = set(versions.iterdir()) - before
    return written


def main(argv: list[str]) -> int:
    """Create the revision named by the message on the command line and say where it is."""
    message = " ".join(argv).strip()
    if not message:
        print('Say what changes: make migration MESSAGE="add a phone number to rooms"')
        return 2
    written = new_revision(message)
    if written is None:
        print("The models and the migrations agree; no migration written.")
        return 0
    print(f"Wrote {written}: read it, adjust it where needed (data, SQLite batches), commit it.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
