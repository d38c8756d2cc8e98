"""The migrations create exactly the schema the models describe; changes go on top of 0001."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from eventapp import create_app
from eventapp.extensions import db
from eventapp.migrations import new_revision


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
        pytest.skip("EVENTAPP_TEST_DATABASE_URL is not set (CI's PostgreSQL run sets it)")
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


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """Return a copy of the migrations folder to write new revisions into."""
    copy = tmp_path / "migrations"
    shutil.copytree(new_revision.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def model_change() -> Iterator[sa.Table]:
    """Add a table to the models' metadata for the test's duration."""
    table = sa.Table(
        "door_sign_note",
        db.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.String(200), nullable=False),
    )
    yield table
    db.metadata.remove(table)


def test_new_revision_writes_nothing_when_models_and_migrations_agree(
    migrations_copy: Path,
) -> None:
    before = sorted(p.name for p in (migrations_copy / "versions").iterdir())
    assert new_revision.new_revision("nothing", migrations_copy) is None
    assert sorted(p.name for p in (migrations_copy / "versions").iterdir()) == before


def test_new_revision_goes_on_top_and_leaves_the_initial_migration_alone(
    migrations_copy: Path, model_change: sa.Table, tmp_path: Path
) -> None:
    versions = migrations_copy / "versions"
    initial = {p.name: p.read_bytes() for p in versions.glob("0001_*.py")}
    # Numbers count on from the highest; the new revision goes on alembic's one head (a
    # revision made on a branch and rebased may carry a lower number than the one below it).
    highest = max(p.name[:4] for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))
    after = f"{int(highest) + 1:04d}"
    (head,) = ScriptDirectory(str(migrations_copy)).get_heads()
    written = new_revision.new_revision("door sign notes", migrations_copy)
    assert written is not None and written.name == f"{after}_door_sign_notes.py"
    source = written.read_text()
    assert f"revision = '{after}'" in source and f"down_revision = '{head}'" in source
    assert "create_table('door_sign_note'" in source
    assert {p.name: p.read_bytes() for p in versions.glob("0001_*.py")} == initial

    # The new revision upgrades a database made by the earlier ones to the changed models.
    database = f"sqlite:///{tmp_path / 'upgraded.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(migrations_copy))
        assert "door_sign_note" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
    assert new_revision.new_revision("again", migrations_copy) is None


def test_new_revision_ids_count_on_from_the_highest(tmp_path: Path) -> None:
    for name in ("0001_initial_schema.py", "0007_rooms.py", "README", "__init__.py"):
        (tmp_path / name).write_text("")
    assert new_revision.next_revision_id(tmp_path) == "0008"
