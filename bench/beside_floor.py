"""eventapp beside the floor app, driven as browsers drive them: form, POST with CSRF, confirmation.

Each round serves one app with gunicorn (the same worker count for both; eventapp with its
`eventapp worker` beside it, as `make serve` runs them), lets 32 clients each load the form,
fill it by its labels, post it and follow the redirect to the confirmation page, and notes
all server-side CPU: the web workers, eventapp's worker until every mail is out, and the
PostgreSQL backends of the benchmark's database (SQLite runs inside the web workers).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections import abc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import floor_app
from bench.serving import (
    WORKERS,
    DatabaseCpu,
    Probe,
    gunicorn,
    mail_process,
    server_cpu_seconds,
)
from bench.web_client import Browser, fill_form

CLIENTS = 32
REGISTRATIONS = 200
CAPACITY = 20
# Rounds per app and database; the order alternates (eventapp, floor, floor, eventapp, …).
# A round's burst lasts one to two seconds, and this machine's speed wanders by a fifth from
# one to the next: four rounds of each, pooled, keep one slow moment from deciding a ratio.
ROUNDS = 4
# Cancelled after the burst to see the waiting list move up in order.
CANCELLED_AFTER = 3
GOALS = {"cpu": 1.5, "rate": 0.67, "p95": 1.5}
FLOOR_APP = "bench.floor_app:create_app()"
WORKSHOP = "Gefragter Workshop"


def person(index: int) -> dict[str, str]:
    """Return what participant number index types, by the labels of the form."""
    return {
        "Vorname": f"Vorname{index}",
        "Nachname": f"Nachname{index:05d}",
        "Organisation": "Handwerkskammer Musterstadt",
        "E-Mail-Adresse": f"teilnehmer{index:05d}@example.org",
        "Bundesland": "Berlin",
        "Ich nehme teil als": "Teilnehmer/in",
        "Ich habe die Datenschutzhinweise gelesen": "x",
    }


@dataclass
class Sequence:
    """One visitor's form, POST and confirmation page as the client saw them."""

    seconds: float
    ok: bool
    problem: str = ""


def register_like_a_browser(url: str, form_path: str, typed: dict[str, str]) -> Sequence:
    """Load the form, fill it by its labels, post it, follow the redirect; time all three."""
    browser = Browser(url)
    began = time.perf_counter()
    form = browser.get(form_path)
    if form.status != 200:
        return Sequence(time.perf_counter() - began, False, f"form {form.status}")
    answer = browser.post(form_path, fill_form(form.text, typed))
    seconds = time.perf_counter() - began
    if answer.status != 200 or not answer.redirects or not answer.path.endswith("/bestaetigt"):
        return Sequence(seconds, False, f"POST ended with {answer.status} at {answer.path}")
    return Sequence(seconds, True)


def burst(
    url: str, form_path: str, people: range, with_workshop: bool, clients: int = CLIENTS
) -> list[Sequence]:
    """Let `clients` browsers at a time register the people; return each sequence."""

    def one(index: int) -> Sequence:
        typed = person(index) | ({WORKSHOP: "x"} if with_workshop else {})
        try:
            return register_like_a_browser(url, form_path, typed)
        except Exception as error:
            return Sequence(0.0, False, repr(error))

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, people))


@dataclass
class Round:
    """What one app did for one burst."""

    app: str
    sequences: list[Sequence]
    elapsed: float
    web_cpu: float
    mail_cpu: float
    database_cpu: float
    client_cpu: float
    checks: dict[str, int] = field(default_factory=dict)


def _wait_for(probe: Probe, statement: str, limit_s: float = 120) -> None:
    """Poll until the statement counts 0 (or the limit passes)."""
    waited = time.perf_counter()
    while probe.scalar(statement) and time.perf_counter() - waited < limit_s:
        time.sleep(0.2)


PENDING = "SELECT count(*) FROM outbox_mail WHERE status = 'pending'"


def eventapp_round(
    database_url: str,
    scratch: Path,
    offset: int,
    workers: int = WORKERS,
    options: abc.Sequence[str] = (),
) -> Round:
    """Run one burst against eventapp with its worker and check the counts it left.

    workers and options (more gunicorn arguments) serve it otherwise than `make serve` does.
    """
    from bench.bench_registrations import prepare

    instance = scratch / "eventapp"
    instance.mkdir()
    (slug, activity_id), (warm_slug, _warm_id) = prepare(
        database_url, instance, CAPACITY, networks=True
    )
    probe = Probe(database_url)
    try:
        with (
            gunicorn(database_url, instance, workers, csrf=True, options=options) as url,
            mail_process(database_url, instance) as worker_pid,
        ):
            # As in production the server has been up a while: every worker has registered
            # someone (compiling its queries and templates) and those mails are out.
            burst(url, f"/{warm_slug}/anmeldung", range(900_000, 900_000 + workers * 4), True)
            _wait_for(probe, PENDING)
            server_pid = int((instance / "gunicorn.pid").read_text())
            measured = _measure(
                url,
                f"/{slug}/anmeldung",
                range(offset, offset + REGISTRATIONS),
                True,
                database_url,
                probe,
                server_pid,
                worker_pid,
                lambda: _wait_for(probe, PENDING),
            )
        measured.app = "eventapp"
        measured.checks = eventapp_checks(database_url, probe, slug, activity_id)
    finally:
        probe.close()
    return measured


def floor_round(database_url: str, scratch: Path, offset: int) -> Round:
    """Run one burst against the floor app and check every registration was stored."""
    instance = scratch / "floor"
    instance.mkdir()
    floor_app.reset(database_url)
    probe = Probe(database_url)
    try:
        env = {"FLOOR_DATABASE_URL": database_url, "FLOOR_SECRET_KEY": "load-test-secret"}
        with gunicorn(database_url, instance, WORKERS, env, app=FLOOR_APP, csrf=True) as url:
            burst(url, "/anmeldung", range(900_000, 900_000 + WORKERS * 4), False)
            server_pid = int((instance / "gunicorn.pid").read_text())
            measured = _measure(
                url,
                "/anmeldung",
                range(offset, offset + REGISTRATIONS),
                False,
                database_url,
                probe,
                server_pid,
                None,
                lambda: None,
            )
        measured.app = "floor"
        stored = probe.scalar("SELECT count(*) FROM floor_registration")
        measured.checks = {"stored": int(stored) - WORKERS * 4}  # type: ignore[call-overload]
    finally:
        probe.close()
    return measured


def _measure(
    url: str,
    form_path: str,
    people: range,
    with_workshop: bool,
    database_url: str,
    probe: Probe,
    server_pid: int,
    worker_pid: int | None,
    drain: Callable[[], None],
) -> Round:
    """Time one burst and the CPU every server-side process spent on it."""
    database = DatabaseCpu(database_url, exclude={probe.backend_pid or 0})
    web_before = server_cpu_seconds(server_pid)
    worker_before = server_cpu_seconds(worker_pid) if worker_pid else 0.0
    client_before = time.process_time()
    database.start()
    began = time.perf_counter()
    sequences = burst(url, form_path, people, with_workshop)
    elapsed = time.perf_counter() - began
    web_cpu = server_cpu_seconds(server_pid) - web_before
    client_cpu = time.process_time() - client_before
    drain()
    mail_cpu = server_cpu_seconds(worker_pid) - worker_before if worker_pid else 0.0
    database_cpu = database.stop()
    return Round("", sequences, elapsed, web_cpu, mail_cpu, database_cpu, client_cpu)


def eventapp_checks(database_url: str, probe: Probe, slug: str, activity_id: int) -> dict[str, int]:
    """Count what eventapp stored, then cancel a few seats and see who moves up.

    The waiting list is in order when the people who move up are exactly the first in line
    (by the time they chose the workshop).
    """
    import sqlalchemy as sa

    from bench.bench_registrations import count_overbooked

    counts = count_overbooked(database_url, activity_id)
    stored = probe.scalar(
        "SELECT count(*) FROM registration r JOIN event e ON e.id = r.event_id WHERE e.slug = :s",
        s=slug,
    )
    unsent = probe.scalar(PENDING)
    engine = probe.engine
    with engine.connect() as connection:
        first_in_line = list(
            connection.execute(
                sa.text(
                    "SELECT id FROM enrolment WHERE activity_id = :a AND status = 'waitlisted' "
                    "ORDER BY queued_at, id LIMIT :n"
                ),
                {"a": activity_id, "n": CANCELLED_AFTER},
            ).scalars()
        )
        connection.rollback()
    moved_up = promote_after_cancelling(database_url, activity_id)
    return {
        "stored": int(stored),  # type: ignore[call-overload]
        "confirmed": counts["confirmed"],
        "waitlisted": counts["waitlisted"],
        "overbooked": counts["overbooked"],
        "unsent": int(unsent),  # type: ignore[call-overload]
        "waitlist in order": int(moved_up == first_in_line and len(first_in_line) > 0),
    }


def promote_after_cancelling(database_url: str, activity_id: int) -> list[int]:
    """Cancel the first confirmed registrations; return the enrolments that moved up."""
    import sqlalchemy as sa

    from eventapp import create_app
    from eventapp.extensions import db
    from eventapp.models import Enrolment, EnrolmentStatus, Registration
    from eventapp.services.registration import registrations as service

    with tempfile.TemporaryDirectory() as folder:
        os.environ["EVENTAPP_INSTANCE_PATH"] = folder
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
        finally:
            del os.environ["EVENTAPP_INSTANCE_PATH"]
        with app.app_context():
            waiting_before = set(
                db.session.scalars(
                    sa.select(Enrolment.id).where(
                        Enrolment.activity_id == activity_id,
                        Enrolment.status == EnrolmentStatus.WAITLISTED,
                    )
                )
            )
            cancelled = db.session.scalars(
                sa.select(Registration)
                .join(Enrolment)
                .where(
                    Enrolment.activity_id == activity_id,
                    Enrolment.status == EnrolmentStatus.CONFIRMED,
                )
                .order_by(Enrolment.id)
                .limit(CANCELLED_AFTER)
            ).all()
            for registration in cancelled:
                service.cancel_registration(registration, notify=False)
            db.session.commit()
            moved_up = db.session.scalars(
                sa.select(Enrolment)
                .where(
                    Enrolment.id.in_(waiting_before),
                    Enrolment.status == EnrolmentStatus.CONFIRMED,
                )
                .order_by(Enrolment.queued_at, Enrolment.id)
            ).all()
            result = [e.id for e in moved_up]
            db.engine.dispose()
    return result


@contextmanager
def database_for(kind: str) -> Iterator[str]:
    """Yield a fresh SQLite file's URL, or the configured PostgreSQL database's."""
    if kind == "PostgreSQL":
        yield os.environ["EVENTAPP_BENCH_DATABASE_URL"]
        return
    with tempfile.TemporaryDirectory() as scratch:
        yield f"sqlite:///{scratch}/bench.sqlite3"


def databases() -> list[str]:
    """SQLite always; PostgreSQL when EVENTAPP_BENCH_DATABASE_URL names one."""
    return [
        "SQLite (WAL)",
        *(["PostgreSQL"] if os.environ.get("EVENTAPP_BENCH_DATABASE_URL") else []),
    ]


def rounds_in_order() -> list[str]:
    """Return the apps in the order they run: eventapp, floor, floor, eventapp, …"""
    order: list[str] = []
    for number in range(ROUNDS):
        order += ["eventapp", "floor"] if number % 2 == 0 else ["floor", "eventapp"]
    return order


def run_registrations() -> dict[str, list[dict[str, Any]]]:
    """Run eventapp and the floor in alternating rounds on each database; return two tables."""
    comparison: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    for label in databases():
        results: dict[str, list[Round]] = {"eventapp": [], "floor": []}
        for number, app in enumerate(rounds_in_order()):
            offset = number * 10_000
            with database_for(label) as database_url, tempfile.TemporaryDirectory() as scratch:
                runner = eventapp_round if app == "eventapp" else floor_round
                results[app].append(runner(database_url, Path(scratch), offset))
        summary = {app: summarise(rounds) for app, rounds in results.items()}
        for app, rounds in results.items():
            details.append({"database": label, "app": app} | summary[app] | merged_checks(rounds))
        comparison += compare(label, summary["eventapp"], summary["floor"])
    return {
        "beside the floor (form + POST with CSRF + confirmation)": comparison,
        "details": details,
    }


def summarise(rounds: list[Round]) -> dict[str, Any]:
    """Pool the rounds of one app: rates and CPU over all registrations, p95 over all."""
    sequences = [s for r in rounds for s in r.sequences]
    count = len(sequences)
    seconds = sorted(s.seconds for s in sequences if s.ok) or [0.0]
    elapsed = sum(r.elapsed for r in rounds)
    per_registration = 1000 / count
    web = sum(r.web_cpu for r in rounds) * per_registration
    mail = sum(r.mail_cpu for r in rounds) * per_registration
    database = sum(r.database_cpu for r in rounds) * per_registration
    problems = [s.problem for s in sequences if not s.ok]
    return {
        "rounds": len(rounds),
        "registrations": count,
        "errors": len(problems),
        "registrations/s": sum(1 for s in sequences if s.ok) / elapsed,  # completed ones
        "p50 ms": statistics.median(seconds) * 1000,
        "p95 ms": percentile(seconds, 0.95) * 1000,
        "web cpu ms/reg": web,
        "mail cpu ms/reg": mail,
        "db cpu ms/reg": database,
        "server cpu ms/reg": web + mail + database,
        "client cpu ms/reg": sum(r.client_cpu for r in rounds) * per_registration,
        "first error": problems[0][:60] if problems else "",
        "load": os.getloadavg()[0],
    }


def merged_checks(rounds: list[Round]) -> dict[str, Any]:
    """Return each round's checks side by side ("200/200" …)."""
    keys = list(rounds[0].checks)
    merged: dict[str, Any] = {}
    for key in keys:
        values = [r.checks[key] for r in rounds]
        if key == "waitlist in order":
            merged[key] = "yes" if all(values) else "NO"
        else:
            merged[key] = "/".join(str(v) for v in values)
    return merged


def percentile(ordered: list[float], share: float) -> float:
    """Return the value below which `share` of the sorted values lie (nearest rank)."""
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * share + 0.999999) - 1))]


def compare(label: str, eventapp: dict[str, Any], floor: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the three rows of eventapp against the floor, each with its goal."""
    sound = eventapp["errors"] == 0 and floor["errors"] == 0
    rows = []
    for measure, key, goal, higher_is_better in (
        (
            "server cpu ms/registration (web + mail worker + database)",
            "server cpu ms/reg",
            GOALS["cpu"],
            False,
        ),
        ("registrations/s at 32 clients", "registrations/s", GOALS["rate"], True),
        ("p95 ms of form + POST + confirmation", "p95 ms", GOALS["p95"], False),
    ):
        ratio = eventapp[key] / floor[key] if floor[key] else float("inf")
        met = ratio >= goal if higher_is_better else ratio <= goal
        rows.append(
            {
                "database": label,
                "measure": measure,
                "eventapp": eventapp[key],
                "floor": floor[key],
                "ratio": ratio,
                "goal": f"{'≥' if higher_is_better else '≤'} {goal}×",
                "met": "yes" if met and sound else "NO",
            }
        )
    return rows
