"""Engine settings (SQLite WAL, BEGIN IMMEDIATE for writers, lock timeouts) and the write unit."""

from __future__ import annotations

import contextvars
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from eventapp import collation
from eventapp.extensions import db
from eventapp.services import DomainError

T = TypeVar("T")

# True while the current unit of work may write: SQLite then takes the write lock at BEGIN,
# so a transaction never has to upgrade a read lock (which fails at once when contended);
# PostgreSQL runs a unit without it outside a transaction until it writes.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)
# Longest wait in seconds for the write lock at BEGIN; None means the configured busy timeout.
write_wait: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "write_wait", default=None
)


@contextmanager
def read_only() -> Iterator[None]:
    """Run the enclosed unit of work as a reader: deferred BEGIN on SQLite, none on PostgreSQL."""
    token = write_intent.set(False)
    try:
        yield
    finally:
        write_intent.reset(token)


@contextmanager
def brief_write(engine: Engine, wait_s: float) -> Iterator[Connection]:
    """Run an optional write on its own connection, waiting at most wait_s for any lock.

    For writes a read-only request may skip (stored caches): its own transaction stays a
    reader, and a busy database makes the write fail fast instead of the request wait.
    """
    intent, wait = write_intent.set(True), write_wait.set(wait_s)
    try:
        with engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait_s * 1000)}ms'")
            yield connection
    finally:
        write_wait.reset(wait)
        write_intent.reset(intent)


def end_read_phase(session: Session) -> None:
    """End a request's reading before its writes, keeping what it loaded.

    SQLite: the reading transaction commits, so the next statement takes the write lock
    (BEGIN IMMEDIATE) for the writes alone. PostgreSQL locks rows, not the database: the same
    transaction simply goes on, which saves a round of BEGIN and COMMIT. Either way, what
    counts (seat counters, limits) is read again under its lock by the writes themselves.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def engine_options(uri: str, app_config: dict[str, Any]) -> dict[str, Any]:
    """Return create_engine() options for the database URL."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": app_config["SQLITE_BUSY_TIMEOUT"]}}
    if uri.startswith("postgresql"):
        timeout_ms = int(app_config["LOCK_TIMEOUT"]) * 1000
        # Sent with the connection's start-up, so it costs no round trip of its own.
        connect_args: dict[str, Any] = {"options": f"-c lock_timeout={timeout_ms}"}
        if sa.make_url(uri).get_driver_name() == "psycopg":
            connect_args["prepare_threshold"] = app_config["POSTGRESQL_PREPARE_THRESHOLD"]
        # No ping on every checkout (a round trip per request): see install_postgresql_hooks.
        return {"connect_args": connect_args}
    return {}


def install_sqlite_hooks(engine: Engine, busy_timeout_s: int) -> None:
    """Switch SQLite to WAL, foreign keys on, and explicit BEGIN (IMMEDIATE for writers)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s) * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # German sorting in SQL (collation.GermanSortKey): SQLite's lower() folds ASCII only.
        dbapi_connection.create_function(
            collation.SQLITE_FUNCTION, 1, collation.german_sort_key, deterministic=True
        )

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if write_intent.get():
            begin_immediate(connection, busy_timeout_s, write_wait.get())
        else:
            connection.exec_driver_sql("BEGIN")


def begin_immediate(
    connection: Connection, busy_timeout_s: int, wait_s: float | None = None
) -> None:
    """Take SQLite's write lock, polling finely instead of SQLite's coarse busy sleeps.

    SQLite's own busy handler sleeps up to 100 ms between tries, so under a burst the lock
    often sits free while every waiter sleeps; polling every millisecond hands it on at once.
    Waits wait_s seconds when given, else the busy timeout.
    """
    dbapi_connection = connection.connection.dbapi_connection
    deadline = time.monotonic() + (busy_timeout_s if wait_s is None else wait_s)
    pause = 0.0001
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.001)
        # Out of time: one last try through SQLAlchemy, which raises its OperationalError.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_s) * 1000}")


def configure_engine(app: Flask, engine: Engine) -> None:
    """Install the per-dialect hooks on the app's engine."""
    if engine.dialect.name == "sqlite":
        install_sqlite_hooks(engine, app.config["SQLITE_BUSY_TIMEOUT"])
    elif engine.dialect.name == "postgresql":
        install_postgresql_hooks(engine)


# A pooled connection idle for longer is checked before use (a database restart ends it).
IDLE_BEFORE_PING_S = 10.0


# Marks a pooled PostgreSQL connection these hooks switched to autocommit for reading.
_READING = "eventapp_reading"


def install_postgresql_hooks(engine: Engine) -> None:
    """Read without a transaction, and check pooled connections that sat idle before use.

    A reading unit of work (write_intent false: GET and HEAD requests) runs its statements in
    autocommit: at READ COMMITTED each statement of a transaction sees its own snapshot anyway,
    so leaving out BEGIN and ROLLBACK changes nothing it reads and saves two round trips. Its
    first statement that is not a plain SELECT (a write, a locking read, a savepoint, any raw
    SQL) ends the autocommit first, so from there on it is one transaction again, committed or
    rolled back whole as before. Without a ROLLBACK per request psycopg also keeps the
    statements it prepared on the server (a rollback makes it drop them all).

    Busy connections are in use every moment and need no round trip to prove it; one that sat
    idle may have been ended by a database restart or a network timeout meanwhile. A failed
    check makes the pool open a fresh connection instead (SQLAlchemy retries the checkout).
    """

    @sa.event.listens_for(engine, "begin")
    def _read_without_transaction(connection: Connection) -> None:
        pooled = connection.connection
        dbapi_connection = pooled.dbapi_connection
        if not write_intent.get():
            if not dbapi_connection.autocommit:  # an explicit AUTOCOMMIT level stays as it is
                dbapi_connection.autocommit = True
                pooled.info[_READING] = True
        elif pooled.info.pop(_READING, False):
            dbapi_connection.autocommit = False

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _transaction_before_writing(
        connection: Connection | None,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if connection is None:  # a prebuilt read (eventapp/prebuilt.py): one SELECT, autocommit
            return
        pooled = connection.connection
        # A prebuilt statement in a transaction (no context) counts as a write.
        if _READING in pooled.info and (context is None or not is_plain_read(context)):
            del pooled.info[_READING]
            pooled.dbapi_connection.autocommit = False  # psycopg sends BEGIN before it

    @sa.event.listens_for(engine, "checkin")
    def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _check_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_S:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as error:
            raise sa.exc.DisconnectionError(str(error)) from error


def is_plain_read(context: Any) -> bool:
    """Tell whether a statement only reads and takes no lock: a compiled SELECT, not FOR UPDATE."""
    compiled = context.compiled
    if compiled is None or context.execution_options.get("stream_results"):
        return False
    statement = compiled.statement
    return bool(statement.is_select) and getattr(statement, "_for_update_arg", None) is None


def is_lock_timeout(error: OperationalError) -> bool:
    """Tell whether a database error means a lock could not be had in time."""
    text = str(error.orig).lower()
    return "database is locked" in text or "lock timeout" in text or "lock_timeout" in text


def is_retryable(error: OperationalError) -> bool:
    """Tell whether the database aborted the transaction so it may simply be run again."""
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    text = str(error.orig).lower()
    return code in {"40P01", "40001"} or "deadlock detected" in text


class DatabaseBusy(DomainError):
    """The database could not take a change in time; nothing was stored, the input is kept."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Gerade melden sich sehr viele Menschen gleichzeitig an. Es wurde nichts "
                "gespeichert; Ihre Eingaben sind erhalten. Bitte senden Sie das Formular in "
                "einigen Sekunden noch einmal."
            )
        )


def write_unit(work: Callable[[], T], attempts: int = 3) -> T:
    """Run one unit of writes and commit it; the only place a request's transaction ends.

    A deadlock or serialization failure (PostgreSQL) runs the unit again from the start; a
    lock that could not be had in time (SQLite busy, PostgreSQL lock_timeout) raises
    DatabaseBusy. Any error rolls the unit back, so nothing of it is stored.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except OperationalError as error:
            db.session.rollback()
            if is_retryable(error) and attempt < attempts:
                continue
            if is_retryable(error) or is_lock_timeout(error):
                raise DatabaseBusy() from error
            raise
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
