"""Serialized VEVENTs kept in this process and in the database, so feeds splice stored bytes."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from eventapp.database import brief_write, write_intent
from eventapp.extensions import db
from eventapp.models import ActivityCalendarEntry

log = logging.getLogger(__name__)

# Longest wait for a lock when a read-only request stores entries; past it the store is skipped.
STORE_LOCK_WAIT_S = 0.5
_ENTRIES = ActivityCalendarEntry.__table__
# Session.info key of the entries a reading unit of work built: (engine, entries by key).
_PENDING = "calendar_entries_to_store"
# Dialects with INSERT ... ON CONFLICT DO UPDATE; elsewhere nothing is stored.
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class _VeventCache:
    """Serialized VEVENTs by their inputs: after an edit only the changed activity is rebuilt."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: bytes) -> None:
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


# One per process, shared by its threads; the database holds what every process may reuse.
VEVENT_CACHE = _VeventCache(size=20_000)


@dataclass(frozen=True)
class StoredVevent:
    """One activity's serialized VEVENT in one language, with the fingerprint of its inputs."""

    activity_id: int
    language: str
    fingerprint: str
    vevent: bytes


def load_entries(activity_ids: Sequence[int], language: str) -> dict[int, StoredVevent]:
    """Return the stored entries of these activities in one language, by activity id."""
    if not activity_ids:
        return {}
    rows = db.session.execute(
        sa.select(_ENTRIES.c.fingerprint, _ENTRIES.c.vevent, _ENTRIES.c.activity_id).where(
            _ENTRIES.c.activity_id.in_(activity_ids), _ENTRIES.c.language == language
        )
    )
    return {
        row.activity_id: StoredVevent(row.activity_id, language, row.fingerprint, row.vevent)
        for row in rows
    }


def _upsert(dialect_name: str) -> Any | None:
    """Return an INSERT that replaces the entry of the same activity and language (or None)."""
    insert = _INSERTS.get(dialect_name)
    if insert is None:
        return None
    statement = insert(_ENTRIES)
    return statement.on_conflict_do_update(
        index_elements=[_ENTRIES.c.activity_id, _ENTRIES.c.language],
        set_={
            "fingerprint": statement.excluded.fingerprint,
            "vevent": statement.excluded.vevent,
        },
        where=_ENTRIES.c.fingerprint != statement.excluded.fingerprint,
    )


def save_entries(entries: Sequence[StoredVevent]) -> None:
    """Store entries with a writing unit of work, or right after a reading one ends.

    A unit of work that writes stores them in a savepoint of its own transaction, committed
    with it. A read-only one (a feed request) leaves its transaction a reader: its entries are
    stored in a short transaction of their own once its reading transaction has ended, so
    its snapshot stays valid, and a busy database makes the store give up, not wait.
    """
    if not entries:
        return
    if write_intent.get():
        _store_in_savepoint(entries)
        return
    session = db.session()
    if not session.in_transaction():
        _store_briefly(db.engine, entries)
        return
    _engine, pending = session.info.setdefault(_PENDING, (db.engine, {}))
    pending.update(((e.activity_id, e.language), e) for e in entries)


def _rows(entries: Iterable[StoredVevent]) -> list[dict[str, Any]]:
    """Return one row per activity and language (the last wins), in key order against deadlocks."""
    latest = {(e.activity_id, e.language): e for e in entries}
    return [
        {
            "activity_id": e.activity_id,
            "language": e.language,
            "fingerprint": e.fingerprint,
            "vevent": e.vevent,
        }
        for _key, e in sorted(latest.items())
    ]


def _store_in_savepoint(entries: Sequence[StoredVevent]) -> None:
    """Upsert within the session's transaction; a failure only rolls the savepoint back."""
    statement = _upsert(db.session.get_bind().dialect.name)
    if statement is None:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(statement, _rows(entries))
    except SQLAlchemyError as error:
        _log_failure(len(entries), error)


def _store_briefly(engine: sa.Engine, entries: Iterable[StoredVevent]) -> None:
    """Upsert in a short transaction of its own that gives up when a lock stays taken."""
    rows = _rows(entries)
    try:
        with brief_write(engine, STORE_LOCK_WAIT_S) as connection:
            statement = _upsert(connection.dialect.name)
            if statement is not None:
                connection.execute(statement, rows)
    except SQLAlchemyError as error:
        _log_failure(len(rows), error)


def _log_failure(count: int, error: SQLAlchemyError) -> None:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    log.warning("%d calendar entries not stored (they are rebuilt later): %s", count, reason)


@sa.event.listens_for(Session, "after_transaction_end")
def _store_after_read(session: Session, transaction: SessionTransaction) -> None:
    """Store what a reading unit of work built, once its transaction is over."""
    if transaction.parent is not None or _PENDING not in session.info:
        return
    engine, pending = session.info.pop(_PENDING)
    _store_briefly(engine, pending.values())
