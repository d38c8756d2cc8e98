"""Readers of the public pages (event page, an activity page, the iCal feed) beside the floor.

50 readers at a time load the demo Innovationstag's event page, one workshop's page and the
programme's iCal feed in turn from eventapp under gunicorn; the floor app's static-ish
programme page is read the same way, in the same run, in alternating order. Every request is
a first visit (no cookies, no conditional GET).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.beside_floor import FLOOR_APP, database_for, databases, percentile
from bench.serving import WORKERS, DatabaseCpu, Probe, gunicorn, server_cpu_seconds
from bench.web_client import Browser

READERS = 50
PAGES = 900
ROUNDS = 2
GOALS = {"rate": 0.8, "p95": 1.5}


@dataclass
class Reading:
    """One round of readers against one app."""

    app: str
    seconds: list[float]
    failures: int
    elapsed: float
    web_cpu: float
    database_cpu: float


def prepare_demo(database_url: str, instance: Path) -> list[str]:
    """Load the demo event; return the paths readers open (event, a workshop, the feed)."""
    import sqlalchemy as sa

    from eventapp import create_app
    from eventapp.demo.event import seed_demo
    from eventapp.extensions import db
    from eventapp.models import Activity, ActivityKind

    os.environ["EVENTAPP_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    finally:
        del os.environ["EVENTAPP_INSTANCE_PATH"]
    with app.app_context():
        db.drop_all()
        db.create_all()
        event = seed_demo().event
        event.published = True
        db.session.commit()
        workshop = db.session.scalars(
            sa.select(Activity.id)
            .where(Activity.event_id == event.id, Activity.kind == ActivityKind.WORKSHOP)
            .order_by(Activity.id)
        ).first()
        slug = event.slug
        db.engine.dispose()
    return [f"/{slug}/", f"/{slug}/programm/{workshop}", f"/{slug}/programm.ics"]


def read(url: str, paths: list[str], count: int | None = None) -> tuple[list[float], int, float]:
    """Let READERS readers load the paths in turn, count pages in all; time each page."""
    count = PAGES if count is None else count

    def one(index: int) -> tuple[float, bool]:
        began = time.perf_counter()
        try:
            answer = Browser(url).get(paths[index % len(paths)])
        except OSError:
            return time.perf_counter() - began, False
        return time.perf_counter() - began, answer.status == 200 and len(answer.body) > 0

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        results = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - began
    return [s for s, ok in results if ok], sum(1 for _, ok in results if not ok), elapsed


def reading_round(
    app: str,
    database_url: str,
    scratch: Path,
    workers: int = WORKERS,
    options: Sequence[str] = (),
) -> Reading:
    """Serve one app, warm every worker up, then time the readers.

    workers and options (more gunicorn arguments) serve eventapp otherwise than `make serve`.
    """
    instance = scratch / app
    instance.mkdir()
    if app == "eventapp":
        paths = prepare_demo(database_url, instance)
        serving = gunicorn(database_url, instance, workers, csrf=True, options=options)
    else:
        paths = ["/programm"]
        env = {"FLOOR_DATABASE_URL": database_url, "FLOOR_SECRET_KEY": "load-test-secret"}
        serving = gunicorn(database_url, instance, WORKERS, env, app=FLOOR_APP, csrf=True)
    probe = Probe(database_url)
    try:
        with serving as url:
            read(url, paths, workers * 4 * len(paths))
            server_pid = int((instance / "gunicorn.pid").read_text())
            database = DatabaseCpu(database_url, exclude={probe.backend_pid or 0})
            web_before = server_cpu_seconds(server_pid)
            database.start()
            seconds, failures, elapsed = read(url, paths)
            web_cpu = server_cpu_seconds(server_pid) - web_before
            database_cpu = database.stop()
    finally:
        probe.close()
    return Reading(app, seconds, failures, elapsed, web_cpu, database_cpu)


def summarise(rounds: list[Reading]) -> dict[str, Any]:
    """Pool one app's rounds."""
    seconds = sorted(s for r in rounds for s in r.seconds) or [0.0]
    pages = sum(len(r.seconds) + r.failures for r in rounds)
    return {
        "rounds": len(rounds),
        "pages": pages,
        "errors": sum(r.failures for r in rounds),
        # Pages served whole: a failed request is no page read (and often a quick one).
        "pages/s": sum(len(r.seconds) for r in rounds) / sum(r.elapsed for r in rounds),
        "p50 ms": statistics.median(seconds) * 1000,
        "p95 ms": percentile(seconds, 0.95) * 1000,
        "web cpu ms/page": sum(r.web_cpu for r in rounds) * 1000 / pages,
        "db cpu ms/page": sum(r.database_cpu for r in rounds) * 1000 / pages,
        "load": os.getloadavg()[0],
    }


def run() -> dict[str, list[dict[str, Any]]]:
    """Read eventapp's public pages and the floor's page in alternating rounds."""
    comparison: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    for label in databases():
        results: dict[str, list[Reading]] = {"eventapp": [], "floor": []}
        for number in range(ROUNDS):
            for app in ("eventapp", "floor") if number % 2 == 0 else ("floor", "eventapp"):
                with database_for(label) as database_url, tempfile.TemporaryDirectory() as scratch:
                    results[app].append(reading_round(app, database_url, Path(scratch)))
        summary = {app: summarise(rounds) for app, rounds in results.items()}
        details += [{"database": label, "app": app} | summary[app] for app in summary]
        eventapp, floor = summary["eventapp"], summary["floor"]
        sound = eventapp["errors"] == 0 and floor["errors"] == 0
        for measure, key, goal, higher in (
            (f"pages/s at {READERS} readers", "pages/s", GOALS["rate"], True),
            ("p95 ms per page", "p95 ms", GOALS["p95"], False),
        ):
            ratio = eventapp[key] / floor[key] if floor[key] else float("inf")
            met = ratio >= goal if higher else ratio <= goal
            comparison.append(
                {
                    "database": label,
                    "measure": measure,
                    "eventapp": eventapp[key],
                    "floor": floor[key],
                    "ratio": ratio,
                    "goal": f"{'≥' if higher else '≤'} {goal}×",
                    "met": "yes" if met and sound else "NO",
                }
            )
    return {
        "event page, activity page, iCal feed beside the floor's page": comparison,
        "details": details,
    }


if __name__ == "__main__":
    from bench.__main__ import main

    raise SystemExit(main(["pages"]))
