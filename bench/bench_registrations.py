"""A burst of registrations for one workshop through gunicorn: throughput, latency, overbooking."""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.serving import (
    free_port,
    gunicorn,
    mail_process,
    pending_mail,
    server_cpu_seconds,
)

__all__ = ["free_port", "gunicorn", "mail_process", "pending_mail", "server_cpu_seconds"]

# For the burst with mail sent by its own process (the production setup) on this 2-core machine.
TARGET_PER_S = 150
TARGET_P95_MS = 250


@dataclass
class Attempt:
    """One registration request as the client saw it."""

    index: int
    status: int
    seconds: float
    location: str


def registration_form(index: int, slot_key: str, activity_id: int) -> dict[str, str]:
    """Return a valid registration form for participant number index, as a browser sends it.

    A browser sends every field of the form, the optional ones empty.
    """
    return {
        "salutation": "",
        "title": "",
        "network": "",
        "accessibility_needs": "",
        "dietary_wishes": "",
        "homepage": "",
        "first_name": f"Vorname{index}",
        "last_name": f"Nachname{index:04d}",
        "organisation": "Handwerkskammer Musterstadt",
        "state": "Berlin",
        "email": f"teilnehmer{index:04d}@example.org",
        "role": "participant",
        "language": "de",
        "privacy_consent": "y",
        slot_key: str(activity_id),
    }


def _request(
    url: str, method: str, path: str, body: bytes = b"", cookie: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """Send one HTTP request on a fresh connection (the sync workers close it anyway)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Connection": "close"}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        connection.close()


def burst(
    url: str,
    slug: str,
    activity_id: int,
    count: int,
    concurrency: int = 32,
    start: int = 0,
    *,
    follow: bool = False,
) -> list[Attempt]:
    """Send count registrations at once (concurrency in flight) and time each.

    A light client (http.client in threads) keeps the load generator's own CPU use small.
    With follow, each attempt also loads the confirmation page the 303 leads to, as a browser
    does; the status reported is always the POST's.
    """
    slot_key = f"slot-{activity_id}"

    def one(index: int) -> Attempt:
        body = urlencode(registration_form(index, slot_key, activity_id)).encode()
        began = time.perf_counter()
        status, headers, _ = _request(url, "POST", f"/{slug}/anmeldung", body)
        location = headers.get("location", "")
        if follow and location:
            cookie = headers.get("set-cookie", "").split(";", 1)[0]
            _request(url, "GET", urlsplit(location).path, cookie=cookie)
        seconds = time.perf_counter() - began
        return Attempt(index, status, seconds, location)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(start, start + count)))


def prepare(
    database_url: str, instance: Path, capacity: int, *, networks: bool = False
) -> list[tuple[str, int]]:
    """Create the schema, the burst's event with one workshop and a warm-up event like it.

    With networks, the directory of networks the form offers is loaded as in the demo.

    Returns (slug, workshop id) of the burst's event, then of the warm-up event.
    """
    from datetime import time as clock

    from eventapp import create_app
    from eventapp.extensions import db
    from eventapp.models import Activity, ActivityKind, Event
    from eventapp.timezones import from_local

    os.environ["EVENTAPP_INSTANCE_PATH"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    del os.environ["EVENTAPP_INSTANCE_PATH"]
    created = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        if networks:
            from eventapp.demo.event import seed_networks

            seed_networks()
            db.session.commit()
        day = date(2026, 6, 10)
        for slug, title in (("bench", "Lasttest"), ("aufwaermen", "Aufwärmen")):
            event = Event(slug=slug, title=title, starts_on=day, ends_on=day, published=True)
            workshop = Activity(
                event=event,
                title="Gefragter Workshop",
                kind=ActivityKind.WORKSHOP,
                starts_at=from_local(day, clock(10, 0), "Europe/Berlin"),
                ends_at=from_local(day, clock(11, 0), "Europe/Berlin"),
                capacity=capacity,
                requires_enrolment=True,
            )
            db.session.add_all([event, workshop])
            db.session.commit()
            created.append((event.slug, workshop.id))
        db.engine.dispose()
    return created


def count_overbooked(database_url: str, activity_id: int) -> dict[str, int]:
    """Return confirmed, waitlisted and overbooked counts straight from the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                sa.text(
                    "SELECT status, count(*) FROM enrolment WHERE activity_id = :id GROUP BY status"
                ),
                {"id": activity_id},
            ).all()
        )
        capacity = connection.execute(
            sa.text("SELECT capacity FROM activity WHERE id = :id"), {"id": activity_id}
        ).scalar_one()
    engine.dispose()
    confirmed = int(rows.get("confirmed", 0))
    return {
        "confirmed": confirmed,
        "waitlisted": int(rows.get("waitlisted", 0)),
        "overbooked": max(confirmed - capacity, 0),
    }


def measure(
    database_url: str,
    label: str,
    count: int = 500,
    capacity: int = 50,
    *,
    mail: str = "process",
    follow: bool = False,
    workers: int = 4,
) -> dict[str, Any]:
    """Run one burst against a fresh database and return its result row.

    mail="process": the worker renders and sends the mails beside the server (the setup of
    `make serve` and production); mail="none": no worker runs, the mails stay queued.
    """
    extra: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        instance = Path(scratch)
        (slug, activity_id), (warm_slug, warm_id) = prepare(database_url, instance, capacity)
        with (
            gunicorn(database_url, instance, workers, extra) as url,
            mail_process(database_url, instance)
            if mail == "process"
            else nullcontext(0) as mail_pid,
        ):
            # The server and the mail process have been running, as in production: every
            # worker has registered someone (a process's first registration compiles its
            # queries and imports) and those mails are out.
            burst(url, warm_slug, warm_id, workers * 4, concurrency=workers, start=100_000)
            waited = time.perf_counter()
            while pending_mail(database_url) and time.perf_counter() - waited < 60:
                time.sleep(0.2)
            server_pid = int(Path(instance / "gunicorn.pid").read_text())
            cpu_before = server_cpu_seconds(server_pid)
            mail_cpu_before = server_cpu_seconds(mail_pid) if mail_pid else 0.0
            began = time.perf_counter()
            attempts = burst(url, slug, activity_id, count, follow=follow)
            elapsed = time.perf_counter() - began
            cpu = server_cpu_seconds(server_pid) - cpu_before
            drained = time.perf_counter()
            while pending_mail(database_url) and time.perf_counter() - drained < 120:
                time.sleep(0.2)
            drain_seconds = time.perf_counter() - drained
            mail_cpu = server_cpu_seconds(mail_pid) - mail_cpu_before if mail_pid else 0.0
            unsent = pending_mail(database_url)
        latencies = sorted(a.seconds for a in attempts)
        counts = count_overbooked(database_url, activity_id)
    return {
        "benchmark": "registrations",
        "database": label,
        "mail": mail,
        "client": "POST+GET" if follow else "POST",
        "requests": count,
        "ok": sum(1 for a in attempts if a.status == 302),
        "errors": sum(1 for a in attempts if a.status != 302),
        "registrations/s": count / elapsed,
        "p50 ms": statistics.median(latencies) * 1000,
        "p95 ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "server cpu ms/reg": cpu * 1000 / count,
        "mail cpu ms/reg": mail_cpu * 1000 / count,
        "mail done s": drain_seconds,
        "unsent": unsent,
        "confirmed": counts["confirmed"],
        "waitlisted": counts["waitlisted"],
        "overbooked": counts["overbooked"],
        "load": os.getloadavg()[0],
    }


def judge(row: dict[str, Any], with_speed_target: bool) -> dict[str, Any]:
    """Add the target and whether the row meets it (speed only for the production setup)."""
    fast = row["registrations/s"] >= TARGET_PER_S and row["p95 ms"] < TARGET_P95_MS
    sound = row["overbooked"] == 0 and row["errors"] == 0 and row["unsent"] == 0
    if with_speed_target:
        row["target"] = f"≥ {TARGET_PER_S}/s, p95 < {TARGET_P95_MS} ms, 0 overbooked"
        row["met"] = "yes" if fast and sound else "NO"
    else:
        row["target"] = "0 overbooked"
        row["met"] = "yes" if sound else "NO"
    return row


def run() -> dict[str, list[dict[str, Any]]]:
    """Run eventapp beside the floor through the real form, then the POST-only bursts.

    The bursts post 500 registrations straight (CSRF off, no form page) on SQLite, and on
    PostgreSQL when configured.
    """
    from bench.beside_floor import run_registrations

    tables = run_registrations()
    rows = []
    variants = [
        {"mail": "process", "follow": False},
        {"mail": "process", "follow": True},
    ]
    for variant in variants:
        with tempfile.TemporaryDirectory() as scratch:
            row = measure(f"sqlite:///{scratch}/bench.sqlite3", "SQLite (WAL)", **variant)
        # The target holds for the production setup: mail rendered and sent by the worker.
        rows.append(judge(row, variant == variants[0]))
    postgres = os.environ.get("EVENTAPP_BENCH_DATABASE_URL")
    if postgres:
        rows.append(judge(measure(postgres, "PostgreSQL"), True))
    return tables | {"POST-only bursts (CSRF off)": rows}


if __name__ == "__main__":
    from bench.__main__ import main

    raise SystemExit(main(["registrations"]))
