"""Rate-limit counters in a small SQLite file, shared by every app process on one machine.

Flask-Limiter's default in-memory store counts per process (with four gunicorn workers an
address gets four times its limit) and starts a cleanup thread on nearly every hit. This store
keeps fixed-window counters in their own SQLite database beside the app's (never in its write
lock): one short UPSERT per hit. Moving windows (failed logins) keep one row per entry. Several
hosts share Redis instead (RATELIMIT_STORAGE_URI).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from limits.storage import MovingWindowSupport, Storage

SCHEME = "eventapp-sqlite"
# Expired counters are deleted at most this often (seconds), by the hit that finds them due.
SWEEP_EVERY = 60.0


class SQLiteStorage(Storage, MovingWindowSupport):
    """Fixed-window counters and moving windows in SQLite (WAL): `eventapp-sqlite:///path`."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = (uri or "").removeprefix(f"{SCHEME}://")
        self.local = threading.local()
        self.swept = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        """Errors of this store (Flask-Limiter lets the request through on them)."""
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS hits "
                "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )
            connection.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL)"
            )
            connection.execute("CREATE INDEX IF NOT EXISTS entries_key_at ON entries (key, at)")
            self.local.connection = connection
        return connection

    def _sweep(self, connection: sqlite3.Connection, now: float) -> None:
        """Delete expired counters and entries, at most every SWEEP_EVERY seconds."""
        if now - self.swept > SWEEP_EVERY:
            self.swept = now
            connection.execute("DELETE FROM hits WHERE expires <= ?", (now,))
            connection.execute("DELETE FROM entries WHERE expires <= ?", (now,))

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count a hit in the key's window (a new window when the last one has ended)."""
        now = time.time()
        connection = self._connection()
        self._sweep(connection, now)
        row = connection.execute(
            "INSERT INTO hits (key, count, expires) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN expires <= ?4 THEN ?2 ELSE count + ?2 END, "
            "expires = CASE WHEN expires <= ?4 THEN ?3 ELSE expires END "
            "RETURNING count",
            (key, amount, now + expiry, now),
        ).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        """Return the hits in the key's current window."""
        row = (
            self._connection()
            .execute("SELECT count FROM hits WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """Return when the key's current window ends (now when it has none)."""
        row = (
            self._connection().execute("SELECT expires FROM hits WHERE key = ?", (key,)).fetchone()
        )
        return float(row[0]) if row and row[0] > time.time() else time.time()

    def check(self) -> bool:
        """Tell whether the store can be read."""
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Add entries to the key's moving window unless that would pass the limit."""
        now = time.time()
        connection = self._connection()
        self._sweep(connection, now)
        connection.execute("BEGIN IMMEDIATE")  # count and insert under one lock
        try:
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            acquired = count + amount <= limit
            if acquired:
                connection.executemany(
                    "INSERT INTO entries (key, at, expires) VALUES (?, ?, ?)",
                    [(key, now, now + expiry)] * amount,
                )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return acquired

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """Return when the key's moving window started and how many entries it holds."""
        now = time.time()
        oldest, count = (
            self._connection()
            .execute(
                "SELECT MIN(at), COUNT(*) FROM entries WHERE key = ? AND at > ?",
                (key, now - expiry),
            )
            .fetchone()
        )
        return (float(oldest) if oldest is not None else now), int(count)

    def reset(self) -> int | None:
        """Forget every counter and entry; return how many there were."""
        connection = self._connection()
        return (
            connection.execute("DELETE FROM hits").rowcount
            + connection.execute("DELETE FROM entries").rowcount
        )

    def clear(self, key: str) -> None:
        """Forget one key's counter and entries."""
        connection = self._connection()
        connection.execute("DELETE FROM hits WHERE key = ?", (key,))
        connection.execute("DELETE FROM entries WHERE key = ?", (key,))
