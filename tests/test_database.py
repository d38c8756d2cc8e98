"""Engine settings: SQLite's write lock handed on promptly, retryable PostgreSQL aborts, reads
outside a transaction on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg.errors
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from eventapp import database
from eventapp.database import (
    brief_write,
    install_sqlite_hooks,
    is_lock_timeout,
    is_retryable,
    read_only,
)
from eventapp.extensions import db
from eventapp.models import Event, ExportLog, Network
from tests.factories import make_event


def sqlite_engine(path: Path, busy_timeout_s: int) -> sa.Engine:
    """Return an engine with the app's SQLite hooks and one table."""
    engine = sa.create_engine(f"sqlite:///{path}")
    install_sqlite_hooks(engine, busy_timeout_s)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS item (x INTEGER)")
    return engine


def test_begin_immediate_waits_for_the_lock_and_gets_it_when_freed(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3", busy_timeout_s=10)
    blocker = sqlite3.connect(
        tmp_path / "db.sqlite3", isolation_level=None, check_same_thread=False
    )
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.3, blocker.execute, args=("COMMIT",))
    timer.start()
    began = time.monotonic()
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO item VALUES (1)")
    waited = time.monotonic() - began
    timer.join()
    blocker.close()
    assert 0.25 <= waited < 5
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    engine.dispose()


def test_begin_immediate_times_out_as_lock_timeout(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3", busy_timeout_s=1)
    blocker = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError) as caught, engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO item VALUES (1)")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert is_lock_timeout(caught.value)
    assert not is_retryable(caught.value)
    engine.dispose()


def test_brief_write_gives_up_after_its_own_short_wait(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "db.sqlite3", busy_timeout_s=10)
    blocker = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    began = time.monotonic()
    try:
        with (
            read_only(),
            pytest.raises(OperationalError) as caught,
            brief_write(engine, 0.2) as connection,
        ):
            connection.exec_driver_sql("INSERT INTO item VALUES (1)")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert 0.15 <= time.monotonic() - began < 3
    assert is_lock_timeout(caught.value)
    with read_only(), brief_write(engine, 0.2) as connection:
        connection.exec_driver_sql("INSERT INTO item VALUES (2)")
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT x FROM item").scalars().all() == [2]
    engine.dispose()


def test_is_retryable_for_postgresql_deadlock() -> None:
    error = OperationalError("UPDATE activity", {}, psycopg.errors.DeadlockDetected("deadlock"))
    assert is_retryable(error)
    assert not is_lock_timeout(error)


def test_a_read_request_leaves_later_work_in_the_thread_free_to_write(app: object) -> None:
    from flask import Flask

    from eventapp.database import write_intent

    assert isinstance(app, Flask)
    assert app.test_client().get("/").status_code == 200
    assert write_intent.get() is True


def test_write_unit_runs_again_after_a_deadlock_and_commits(ctx: Flask) -> None:
    from eventapp.database import write_unit
    from eventapp.extensions import db
    from eventapp.models import Network

    runs: list[int] = []

    def work() -> str:
        runs.append(1)
        db.session.add(Network(name=f"Netzwerk {len(runs)}", region="Nord", state="Berlin"))
        db.session.flush()
        if len(runs) == 1:
            raise OperationalError("UPDATE activity", {}, psycopg.errors.DeadlockDetected("x"))
        return "stored"

    assert write_unit(work) == "stored"
    db.session.close()
    assert db.session.scalars(sa.select(Network.name)).all() == ["Netzwerk 2"]


def test_write_unit_gives_up_on_repeated_deadlocks_as_busy(ctx: Flask) -> None:
    from eventapp.database import DatabaseBusy, write_unit

    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        raise OperationalError("UPDATE activity", {}, psycopg.errors.DeadlockDetected("x"))

    with pytest.raises(DatabaseBusy) as caught:
        write_unit(work, attempts=3)
    assert len(runs) == 3
    assert "Es wurde nichts gespeichert" in caught.value.message


def test_write_unit_rolls_back_on_a_refusal(ctx: Flask) -> None:
    from eventapp.database import write_unit
    from eventapp.extensions import db
    from eventapp.models import Network
    from eventapp.services import DomainError

    def work() -> None:
        db.session.add(Network(name="Halb gespeichert", region="Nord", state="Berlin"))
        db.session.flush()
        raise DomainError("nein")

    with pytest.raises(DomainError):
        write_unit(work)
    assert db.session.scalars(sa.select(Network)).all() == []


@pytest.mark.parametrize("app_config", [{"SQLITE_BUSY_TIMEOUT": 1}])
def test_write_unit_turns_a_held_lock_into_busy_and_stores_nothing(
    ctx: Flask, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("holds the SQLite write lock directly")
    from eventapp.database import DatabaseBusy, write_unit
    from eventapp.extensions import db
    from eventapp.models import Network

    db.session.commit()
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy):
            write_unit(lambda: db.session.add(Network(name="Zu spät", region="", state="")))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert db.session.scalars(sa.select(Network)).all() == []


def test_connections_ended_while_idle_are_replaced_before_use(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database restart ends the pooled connections; the next visitor still gets the page."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no connections to lose")
        make_event()
        db.session.commit()
    assert client.get("/testtag/").status_code == 200
    with app.app_context():
        pooled = db.engine.pool.checkedin()
        url = db.engine.url
    assert pooled >= 1
    # As a restart of the database would: end every connection to it from outside the app.
    outside = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with outside.connect() as connection:
        ended = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    outside.dispose()
    assert ended >= pooled
    monkeypatch.setattr(database, "IDLE_BEFORE_PING_S", 0.0)
    for _ in range(3):
        assert client.get("/testtag/").status_code == 200


def require_postgresql(app: Flask) -> None:
    """Skip the test on SQLite, whose transactions these hooks leave as they are."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's transactions")


@contextmanager
def statements_seen(engine: sa.Engine) -> Iterator[list[tuple[str, bool]]]:
    """Record each statement's first word and whether it ran inside a transaction."""
    seen: list[tuple[str, bool]] = []

    def note(connection: sa.Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        status = connection.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
        seen.append(
            (statement.split(None, 1)[0].upper(), status != psycopg.pq.TransactionStatus.IDLE)
        )

    sa.event.listen(engine, "after_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "after_cursor_execute", note)


def test_reading_requests_run_outside_a_transaction_on_postgresql(
    app: Flask, client: FlaskClient
) -> None:
    """No BEGIN and ROLLBACK around the reads of a GET: each statement stands alone."""
    require_postgresql(app)
    with app.app_context():
        make_event()
        db.session.commit()
        engine = db.engine
    with statements_seen(engine) as seen:
        for path in ("/testtag/", "/testtag/anmeldung", "/testtag/programm.ics"):
            assert client.get(path).status_code == 200
    assert seen
    assert [in_transaction for _, in_transaction in seen] == [False] * len(seen)


def test_a_reading_unit_that_writes_keeps_its_writes_in_one_transaction(ctx: Flask) -> None:
    require_postgresql(ctx)
    with statements_seen(db.engine) as seen, read_only():
        assert db.session.scalars(sa.select(Network)).all() == []
        db.session.add_all(
            [
                Network(name="Erstes", region="", state=""),
                Network(name="Zweites", region="", state=""),
            ]
        )
        db.session.flush()
        db.session.rollback()
    assert db.session.scalars(sa.select(Network)).all() == []
    assert seen[0] == ("SELECT", False)
    assert seen[1:] and all(in_transaction for _, in_transaction in seen[1:])

    with read_only():
        assert db.session.scalars(sa.select(Network)).all() == []
        database.write_unit(
            lambda: db.session.add(Network(name="Gespeichert", region="", state=""))
        )
    assert db.session.scalars(sa.select(Network.name)).all() == ["Gespeichert"]


def test_a_locking_read_in_a_reading_unit_holds_its_lock_until_the_end(ctx: Flask) -> None:
    require_postgresql(ctx)
    event_id = make_event().id
    db.session.commit()
    locking = sa.select(Event.id).where(Event.id == event_id).with_for_update(nowait=True)
    other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    try:
        with read_only():
            db.session.execute(locking)
            with other.connect() as connection, pytest.raises(OperationalError):
                connection.execute(locking)
            db.session.rollback()
        with other.connect() as connection:
            assert connection.execute(locking).scalar_one() == event_id
    finally:
        other.dispose()


def test_a_reading_request_that_writes_commits_its_write(
    app: Flask, staff_client: FlaskClient
) -> None:
    """A download is a GET, and its note in the export log is still stored, in a transaction."""
    require_postgresql(app)
    with app.app_context():
        event_id = make_event().id
        db.session.commit()
        engine = db.engine
    url = f"/organisation/veranstaltungen/{event_id}/anmeldungen/export.csv"
    with statements_seen(engine) as seen:
        assert staff_client.get(url).status_code == 200
    assert [in_transaction for word, in_transaction in seen if word == "INSERT"] == [True]
    with app.app_context():
        assert db.session.scalars(sa.select(ExportLog.event_id)).all() == [event_id]


@pytest.mark.parametrize(
    ("app_config", "prepared"),
    [({}, True), ({"POSTGRESQL_PREPARE_THRESHOLD": None}, False)],
)
def test_statements_prepared_on_the_server_outlive_reading_units(
    ctx: Flask, prepared: bool
) -> None:
    """psycopg prepares a statement run often; the end of a reading unit no longer drops them."""
    require_postgresql(ctx)
    make_event()
    db.session.commit()
    for _ in range(8):  # as GET requests through the ORM session would
        with read_only():
            assert db.session.scalars(sa.select(Event.slug)).all() == ["testtag"]
            db.session.rollback()
    assert db.engine.pool.checkedin() == 1  # the connection the reads used
    with db.engine.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM pg_prepared_statements")
        assert bool(names.scalars().all()) is prepared
