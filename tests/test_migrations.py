"""The migrations create exactly the schema the models describe."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from eventapp import create_app
from eventapp.extensions import db


def assert_no_drift(database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    assert_no_drift(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


def test_migrations_match_models_on_postgresql() -> None:
    url = os.environ.get("EVENTAPP_TEST_DATABASE_URL")
    if not url:
        return  # covered by the PostgreSQL run in CI
    name = f"eventapp_drift_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        assert_no_drift(sa.make_url(url).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
