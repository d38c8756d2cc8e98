"""Rate-limit counters in SQLite: fixed windows, shared by every process on the machine."""

from __future__ import annotations

import time
from multiprocessing import get_context
from pathlib import Path

from flask import Flask

from eventapp.ratelimit_store import SCHEME, SQLiteStorage


def store(path: Path) -> SQLiteStorage:
    """Open the store the way Flask-Limiter does, from its URI."""
    return SQLiteStorage(f"{SCHEME}://{path}")


def test_hits_count_within_a_window_and_start_again_after_it(tmp_path: Path) -> None:
    counters = store(tmp_path / "limits.sqlite3")
    assert [counters.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.get("a") == 3 and counters.get("b") == 0
    assert counters.get_expiry("a") > 0
    assert counters.incr("old", 0) == 1  # a window that ends at once …
    assert counters.incr("old", 60) == 1  # … is over by the next hit
    counters.clear("a")
    assert counters.get("a") == 0
    assert counters.check()


def _hit(path: str, times: int) -> None:
    counters = store(Path(path))
    for _ in range(times):
        counters.incr("shared", 60)


def test_processes_share_the_counters(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite3"
    context = get_context("spawn")
    workers = [context.Process(target=_hit, args=(str(path), 40)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert store(path).get("shared") == 120


def test_app_keeps_its_counters_in_the_instance_folder(app: Flask) -> None:
    assert app.config["RATELIMIT_STORAGE_URI"] == (
        f"{SCHEME}://{Path(app.instance_path) / 'ratelimits.sqlite3'}"
    )


def test_moving_window_counts_entries_of_the_last_period(tmp_path: Path) -> None:
    from limits import RateLimitItemPerSecond
    from limits.strategies import MovingWindowRateLimiter

    window = MovingWindowRateLimiter(store(tmp_path / "limits.sqlite3"))
    limit = RateLimitItemPerSecond(2, 1)
    assert window.test(limit, "login")
    assert window.hit(limit, "login") and window.hit(limit, "login")
    assert not window.test(limit, "login")
    assert not window.hit(limit, "login")  # refused hits do not count
    assert window.test(limit, "other")
    time.sleep(1.05)
    assert window.test(limit, "login")
    assert window.hit(limit, "login")
