"""The organisers' registration list with 3,000 registrations: time per page beside a floor.

A fresh database gets one event with 600 networks, 12 workshops and 3,000 registrations (most
with one or two workshop places). eventapp and the floor app (a bare SQL query of the same
rows rendered by a minimal template, bench/floor_app.py) are served by gunicorn side by side;
one logged-in organiser opens four kinds of list page, one request at a time, the two apps in
alternating order: the first page, a page sorted by organisation (descending), a filtered
page (confirmed, in one workshop) and a late page. Goal: the list page answers in < 150 ms.
Beside the times, the web servers' CPU per page (all gunicorn processes): on a shared,
loaded machine the wall time mostly waits for a core, the CPU time does not.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.beside_floor import FLOOR_APP, database_for, databases, percentile
from bench.serving import gunicorn, server_cpu_seconds
from bench.web_client import Browser

REGISTRATIONS = 3_000
NETWORKS = 600
WORKSHOPS = 12
WARM_UP = 5
TIMED = 40
GOAL_MS = 150.0
ORGANISER = ("bench@example.org", "bench-password-1")
FIRST = ["Erika", "Maximilian-Alexander", "Jörg", "Zoë", "Hans-Jürgen", "Ayşe", "Małgorzata"]
LAST = ["Mustermann", "Schönebeck-Großkopf", "Öztürk", "Weißgerber", "Ändrich", "van der Berg"]
ORGS = [
    "Agentur für Arbeit Musterstadt",
    "Industrie- und Handelskammer zu Frankfurt am Main",
    "Handwerkskammer Düsseldorf",
    "Kommunales Jobcenter",
    "Wirtschaftsförderung Altmark",
]
STATES = ["Berlin", "Bayern", "Sachsen", "Hessen", "Bremen"]


def seed(database_url: str, instance: Path) -> int:
    """Fill a fresh database: the event, networks, workshops, registrations with places."""
    import sqlalchemy as sa

    from eventapp import create_app
    from eventapp.extensions import db
    from eventapp.models import Enrolment, Network, Registration
    from tests.factories import make_activity, make_event, make_organiser

    os.environ["EVENTAPP_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    finally:
        del os.environ["EVENTAPP_INSTANCE_PATH"]
    with app.app_context():
        db.drop_all()
        db.create_all()
        event = make_event(slug="innovationstag", title="Innovationstag 2026")
        make_organiser(*ORGANISER, role="staff")
        db.session.execute(
            sa.insert(Network),
            [
                {"name": f"Fachkräftenetzwerk {i:03d}", "state": STATES[i % 5]}
                for i in range(NETWORKS)
            ],
        )
        workshops = [
            make_activity(
                event,
                f"Workshop {i + 1}: Fachkräfte gewinnen",
                f"{10 + 2 * (i // 6):02d}:00",
                f"{11 + 2 * (i // 6):02d}:00",
                capacity=400,
            )
            for i in range(WORKSHOPS)
        ]
        start = datetime(2026, 5, 1, 8, tzinfo=UTC)
        statuses = ["confirmed"] * 8 + ["waitlisted", "cancelled"]
        rows = [
            {
                "event_id": event.id, "first_name": FIRST[i % len(FIRST)],
                "last_name": f"{LAST[i % len(LAST)]} {i:04d}", "organisation": ORGS[i % len(ORGS)],
                "network_id": 1 + i % NETWORKS if i % 7 else None, "state": STATES[i % 5],
                "email": f"p{i}@example.org", "role": ["participant", "speaker", "press"][i % 3],
                "privacy_consent_version": "2026-01", "privacy_consent_at": start,
                "token_hash": f"t-{i}", "calendar_token_hash": f"c-{i}", "checkin_code": f"k-{i}",
                "status": statuses[i % len(statuses)],
                "created_at": start + timedelta(minutes=i), "updated_at": start,
                "checked_in_at": start if i % 5 == 0 else None,
            }
            for i in range(REGISTRATIONS)
        ]  # fmt: skip
        db.session.execute(sa.insert(Registration), rows)
        ids = db.session.scalars(sa.select(Registration.id).order_by(Registration.id)).all()
        places = [
            {
                "registration_id": registration_id,
                "activity_id": workshops[(n + k * 6) % WORKSHOPS].id,
                "status": "confirmed",
                "queued_at": start,
                "confirmed_at": start,
            }
            for n, registration_id in enumerate(ids)
            for k in range(n % 3)
        ]
        db.session.execute(sa.insert(Enrolment), places)
        db.session.commit()
        event_id, workshop_id = event.id, workshops[0].id
        db.engine.dispose()
    assert event_id == 1  # the floor reads event 1
    return workshop_id


def cases(workshop_id: int) -> dict[str, tuple[str, str]]:
    """Return each case's eventapp path and floor path."""
    base = "/organisation/veranstaltungen/1/anmeldungen/"
    return {
        "first page": (base, "/liste"),
        "sorted by organisation ↓": (
            f"{base}?sortierung=organisation&richtung=ab&seite=3",
            "/liste?sortierung=organisation&seite=3",
        ),
        "filtered (confirmed, one workshop)": (
            f"{base}?status=confirmed&angebot={workshop_id}",
            "/liste?status=confirmed",
        ),
        "late page (60 of 60)": (f"{base}?seite=60", "/liste?seite=60"),
    }


def timed_get(browser: Browser, path: str) -> float | None:
    """GET a page; return the seconds it took, or None when it failed."""
    began = time.perf_counter()
    try:
        answer = browser.get(path)
    except OSError:
        return None
    seconds = time.perf_counter() - began
    if answer.status != 200 or answer.redirects:
        return None
    return seconds


def measure(label: str) -> list[dict[str, Any]]:
    """Seed one database, serve both apps, time every case; return the rows."""
    rows: list[dict[str, Any]] = []
    with database_for(label) as database_url, tempfile.TemporaryDirectory() as scratch:
        eventapp_dir, floor_dir = Path(scratch) / "eventapp", Path(scratch) / "floor"
        eventapp_dir.mkdir()
        floor_dir.mkdir()
        workshop_id = seed(database_url, eventapp_dir)
        floor_env = {"FLOOR_DATABASE_URL": database_url, "FLOOR_SECRET_KEY": "bench"}
        with (
            gunicorn(database_url, eventapp_dir, 2) as eventapp_url,
            gunicorn(database_url, floor_dir, 2, floor_env, app=FLOOR_APP) as floor_url,
        ):
            organiser = Browser(eventapp_url)
            email, password = ORGANISER
            login = organiser.post(
                "/organisation/anmelden", [("email", email), ("password", password)]
            )
            if login.status != 200 or not login.redirects:
                raise RuntimeError(f"login failed: {login.status}")
            floor = Browser(floor_url)
            servers = {
                app: int((folder / "gunicorn.pid").read_text())
                for app, folder in (("eventapp", eventapp_dir), ("floor", floor_dir))
            }
            for case, (path, floor_path) in cases(workshop_id).items():
                for _ in range(WARM_UP):
                    if timed_get(organiser, path) is None or timed_get(floor, floor_path) is None:
                        raise RuntimeError(f"{case}: the page does not load")
                seconds: dict[str, list[float | None]] = {"eventapp": [], "floor": []}
                cpu_before = {app: server_cpu_seconds(pid) for app, pid in servers.items()}
                for number in range(TIMED):
                    pair = [("eventapp", organiser, path), ("floor", floor, floor_path)]
                    for app, browser, where in pair if number % 2 == 0 else pair[::-1]:
                        seconds[app].append(timed_get(browser, where))
                cpu_ms = {
                    app: (server_cpu_seconds(pid) - cpu_before[app]) * 1000 / TIMED
                    for app, pid in servers.items()
                }
                errors = sum(1 for values in seconds.values() for s in values if s is None)
                ms = {
                    app: sorted(s * 1000 for s in values if s is not None) or [0.0]
                    for app, values in seconds.items()
                }
                p50, p95 = statistics.median(ms["eventapp"]), percentile(ms["eventapp"], 0.95)
                rows.append(
                    {
                        "database": label,
                        "page": case,
                        "p50 ms": p50,
                        "p95 ms": p95,
                        "floor p50 ms": statistics.median(ms["floor"]),
                        "floor p95 ms": percentile(ms["floor"], 0.95),
                        "×floor p50": p50 / statistics.median(ms["floor"]),
                        "cpu ms/page": cpu_ms["eventapp"],
                        "floor cpu ms/page": cpu_ms["floor"],
                        "errors": errors,
                        "goal": f"p95 < {GOAL_MS:.0f} ms",
                        "met": "yes" if p95 < GOAL_MS and not errors else "NO",
                        "load": os.getloadavg()[0],
                    }
                )
    return rows


def run() -> dict[str, list[dict[str, Any]]]:
    """Time the registration list on each database."""
    rows: list[dict[str, Any]] = []
    for label in databases():
        rows += measure(label)
    return {f"registration list, {REGISTRATIONS:,} registrations, beside the floor": rows}


if __name__ == "__main__":
    from bench.__main__ import main

    raise SystemExit(main(["lists"]))
