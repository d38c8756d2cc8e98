"""Gunicorn settings for eventapp compared by measurement: worker class, workers, threads.

Each setting serves eventapp (with `eventapp worker` beside it, CSRF on) for the registration
burst of the registrations benchmark (32 clients: form, POST, confirmation) and for the readers
of the pages benchmark (50 readers: event page, activity page, iCal feed), on SQLite, or on
PostgreSQL too when EVENTAPP_BENCH_DATABASE_URL names a database. The settings run in turn,
the order reversed in the second round, so a machine that gets busier favours none of them.
`make serve` and the README's production line use the setting that does best here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_pages import Reading, reading_round
from bench.bench_pages import summarise as summarise_readings
from bench.beside_floor import (
    REGISTRATIONS,
    Round,
    database_for,
    databases,
    eventapp_round,
)
from bench.beside_floor import summarise as summarise_bursts

# (label, workers, more gunicorn arguments)
SETTINGS: list[tuple[str, int, tuple[str, ...]]] = [
    ("sync, 2 workers", 2, ()),
    ("sync, 3 workers", 3, ()),
    ("sync, 4 workers", 4, ()),
    ("gthread, 2 workers × 4 threads", 2, ("--worker-class", "gthread", "--threads", "4")),
]
ROUNDS = int(os.environ.get("EVENTAPP_BENCH_GUNICORN_ROUNDS", "2"))


def _order(number: int) -> list[tuple[str, int, tuple[str, ...]]]:
    return SETTINGS if number % 2 == 0 else SETTINGS[::-1]


def run() -> list[dict[str, Any]]:
    """Serve eventapp with each setting in turn; return one row per database and setting."""
    rows: list[dict[str, Any]] = []
    for label in databases():
        bursts: dict[str, list[Round]] = {name: [] for name, _w, _o in SETTINGS}
        readings: dict[str, list[Reading]] = {name: [] for name, _w, _o in SETTINGS}
        for number in range(ROUNDS):
            for name, workers, options in _order(number):
                offset = (number * len(SETTINGS) + len(bursts[name])) * 10_000
                with database_for(label) as url, tempfile.TemporaryDirectory() as scratch:
                    bursts[name].append(
                        eventapp_round(url, Path(scratch), offset, workers, options)
                    )
                with database_for(label) as url, tempfile.TemporaryDirectory() as scratch:
                    readings[name].append(
                        reading_round("eventapp", url, Path(scratch), workers, options)
                    )
        for name, _workers, _options in SETTINGS:
            rows.append({"database": label, "setting": name} | _row(bursts[name], readings[name]))
    return rows


def _row(bursts: list[Round], readings: list[Reading]) -> dict[str, Any]:
    """Pool one setting's rounds as the registrations and pages benchmarks pool theirs."""
    burst = summarise_bursts(bursts)
    reading = summarise_readings(readings)
    return {
        "registrations/s": burst["registrations/s"],
        "reg p95 ms": burst["p95 ms"],
        "reg p50 ms": burst["p50 ms"],
        "web cpu ms/reg": burst["web cpu ms/reg"],
        "pages/s": reading["pages/s"],
        "page p95 ms": reading["p95 ms"],
        "errors": burst["errors"] + reading["errors"],
        "registrations": burst["registrations"],
        "expected": REGISTRATIONS * len(bursts),
        "load": os.getloadavg()[0],
    }
