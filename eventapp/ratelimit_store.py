"""Rate-limit counters in a small SQLite file, shared by every app process on one machine.

Flask-Limiter's default in-memory store counts per process (with four gunicorn workers an
address gets four times its limit) and starts a cleanup thread on nearly every hit. This store
keeps fixed-window counters in their own SQLite database beside the app's (never in its write
lock): one short UPSERT per hit. Several hosts share Redis instead (RATELIMIT_STORAGE_URI).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from limits.storage import Storage

SCHEME = "eventapp-sqlite"
# Expired counters are deleted at most this often (seconds), by the hit that finds them due.
SWEEP_EVERY = 60.0


class SQLiteStorage(Storage):
    """Fixed-window counters in SQLite (WAL): `eventapp-sqlite:///absolute/path.sqlite3`."""

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
            self.local.connection = connection
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count a hit in the key's window (a new window when the last one has ended)."""
        now = time.time()
        connection = self._connection()
        if now - self.swept > SWEEP_EVERY:
            self.swept = now
            connection.execute("DELETE FROM hits WHERE expires <= ?", (now,))
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

    def reset(self) -> int | None:
        """Forget every counter; return how many there were."""
        return self._connection().execute("DELETE FROM hits").rowcount

    def clear(self, key: str) -> None:
        """Forget one key's counter."""
        self._connection().execute("DELETE FROM hits WHERE key = ?", (key,))
