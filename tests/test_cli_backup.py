"""`eventapp backup` copies the SQLite database while registrations are written; `restore` puts a
copy back only when it is an eventapp database of a known schema version."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade

import eventapp
from eventapp import create_app
from eventapp.extensions import db
from eventapp.models import Event, Registration
from eventapp.services.registration import registrations as service
from tests.factories import make_event
from tests.helpers.participants import person

WRITERS = 3

# The newest schema version the migrations know: alembic's head (a revision made on a branch
# and rebased may carry a lower number than the one below it).
(HEAD,) = ScriptDirectory(str(Path(eventapp.__file__).parent / "migrations")).get_heads()


def sqlite_app(folder: Path) -> Flask:
    """Return an app on its own SQLite file (created by the migrations, as in production)."""
    folder.mkdir(parents=True, exist_ok=True)
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "backup-test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'eventapp.sqlite3'}",
            "MAIL_BACKEND": "file",
            "MAIL_FILE_DIR": str(folder / "mail"),
            "RATELIMIT_ENABLED": False,
        }
    )


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Flask]:
    """An instance with the migrated schema and an event open for registration."""
    app = sqlite_app(tmp_path / "live")
    with app.app_context():
        upgrade()
        make_event()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def rows(database: Path, query: str) -> list[tuple]:
    """Run one statement on a database file with plain sqlite3 and commit it."""
    connection = sqlite3.connect(database)
    try:
        found = connection.execute(query).fetchall()
        connection.commit()
        return found
    finally:
        connection.close()


def database_file(app: Flask) -> Path:
    with app.app_context():
        return Path(db.engine.url.database)


def test_backup_while_registrations_are_written_restores_every_committed_row(
    live: Flask, tmp_path: Path
) -> None:
    committed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def register_people(writer: int) -> None:
        with live.app_context():
            event = db.session.scalar(sa.select(Event))
            number = 0
            try:
                while not stop.is_set():
                    number += 1
                    email = f"w{writer}-{number}@example.org"
                    service.register(event, person(number, email=email), [], notify=False)
                    db.session.commit()
                    with lock:
                        committed.append(email)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    writers = [threading.Thread(target=register_people, args=(n,)) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    try:
        while len(committed) < 30 and not errors:
            time.sleep(0.01)
        with lock:
            before = list(committed)
        copy = tmp_path / "backups" / "eventapp-backup.sqlite3"
        copy.parent.mkdir()
        result = live.test_cli_runner().invoke(args=["backup", "-o", str(copy)])
        assert result.exit_code == 0, result.output
        while len(committed) < len(before) + 10 and not errors:
            time.sleep(0.01)  # writers went on during and after the backup
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert not errors, errors
    assert f"schema version {HEAD}" in result.output

    fresh = sqlite_app(tmp_path / "fresh")
    restored = fresh.test_cli_runner().invoke(args=["restore", str(copy)])
    assert restored.exit_code == 0, restored.output
    target = database_file(fresh)
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    emails = {email for (email,) in rows(target, "SELECT email FROM registration")}
    assert set(before) <= emails
    assert emails <= set(committed)  # nothing half-written or invented
    assert len(emails) < len(committed)  # the copy is from the moment of the backup
    with fresh.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == len(
            emails
        )
        db.engine.dispose()


def snapshot(app: Flask) -> list[str]:
    """Return the live database's content as SQL, to see that nothing changed."""
    connection = sqlite3.connect(database_file(app))
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def test_restore_refuses_a_file_that_is_no_eventapp_database(live: Flask, tmp_path: Path) -> None:
    before = snapshot(live)
    text = tmp_path / "notes.sqlite3"
    text.write_text("Teilnehmerliste\n" * 100)
    other = tmp_path / "other.sqlite3"
    rows(other, "CREATE TABLE guests (name TEXT)")
    runner = live.test_cli_runner()
    for path, reason in ((text, "not a SQLite database"), (other, "not an eventapp database")):
        result = runner.invoke(args=["restore", str(path)])
        assert result.exit_code != 0
        assert reason in result.output, result.output
    assert snapshot(live) == before


def test_restore_refuses_an_unknown_schema_version(live: Flask, tmp_path: Path) -> None:
    copy = tmp_path / "future.sqlite3"
    runner = live.test_cli_runner()
    assert runner.invoke(args=["backup", "-o", str(copy)]).exit_code == 0
    rows(copy, "UPDATE alembic_version SET version_num = '9999'")
    before = snapshot(live)
    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code != 0
    assert "schema version 9999" in result.output and HEAD in result.output
    assert snapshot(live) == before


def test_backup_on_postgresql_shows_the_pg_dump_line_without_the_password(
    tmp_path: Path,
) -> None:
    app = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ev:geheim@db.example.org:5433/ev",
        }
    )
    for args in (["backup", "-o", str(tmp_path / "x")], ["restore", __file__]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code != 0
        assert "pg_dump --format=custom --file=eventapp.dump" in result.output
        assert "'postgresql://ev@db.example.org:5433/ev'" in result.output
        assert "geheim" not in result.output
    assert not (tmp_path / "x").exists()
