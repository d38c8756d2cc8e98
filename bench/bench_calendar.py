"""Time the programme feed for 500 activities, the 304 answer, the frab exports and the API."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

ACTIVITIES = 500
ROOMS = 10
TARGET_MS = 100.0
# New processes (gunicorn workers after a start or restart) timed for the first build each.
FRESH_PROCESSES = 5
REPOSITORY = Path(__file__).resolve().parents[1]


def _timed(
    action: Callable[[], Any], repeat: int, prepare: Callable[[], Any] | None = None
) -> list[float]:
    """Run an action `repeat` times after one warm-up; return each duration in milliseconds.

    `prepare` runs before each timed call and is not counted.
    """
    action()
    durations = []
    for _ in range(repeat):
        if prepare is not None:
            prepare()
        started = time.perf_counter()
        action()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def _row(case: str, durations: list[float], target: float | None = None) -> dict[str, Any]:
    median = statistics.median(durations)
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {
        "benchmark": "calendar",
        "case": case,
        "runs": len(durations),
        "median_ms": median,
        "p95_ms": p95,
        "target_ms": target if target is not None else "",
        "ok": ("yes" if median < target else "NO") if target is not None else "",
    }


def _app(folder: Path) -> Flask:
    """Return the app on the benchmark's SQLite database in `folder`."""
    from eventapp import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
            "RATELIMIT_ENABLED": False,
            "MAIL_BACKEND": "file",
            "MAIL_FILE_DIR": str(folder / "mail"),
        }
    )


def _make_app(folder: Path) -> Flask:
    from eventapp.extensions import db

    app = _app(folder)
    with app.app_context():
        db.create_all()
    return app


def build_programme_feed(slug: str) -> bytes:
    """Build the programme feed as its request does: read-only, the transaction ended after."""
    import sqlalchemy as sa

    from eventapp.database import read_only
    from eventapp.extensions import db
    from eventapp.models import Event
    from eventapp.services.calendar import ical

    with read_only():
        event = db.session.scalar(sa.select(Event).where(Event.slug == slug))
        assert event is not None
        body = ical.programme_ics(event)
        db.session.rollback()  # as at the end of a request: stores what was built
    return body


def first_build_in_this_process(folder: str, slug: str) -> None:
    """Print the milliseconds of this process's first programme feed and its size."""
    app = _app(Path(folder))
    with app.app_context():
        started = time.perf_counter()
        body = build_programme_feed(slug)
        print((time.perf_counter() - started) * 1000, len(body))


def _fresh_processes(folder: Path, slug: str, size: int) -> list[float]:
    """Time the first feed build in each of several new processes on the stored VEVENTs."""
    durations = []
    for _ in range(FRESH_PROCESSES):
        code = (
            "from bench.bench_calendar import first_build_in_this_process as first; "
            f"first({str(folder)!r}, {slug!r})"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True
        )
        milliseconds, length = result.stdout.split()
        assert int(length) == size, "a fresh process built a different feed"
        durations.append(float(milliseconds))
    return durations


def _seed() -> tuple[str, str]:
    """Create an event with 500 activities in 10 rooms over two days; return slug and token."""
    from eventapp.extensions import db
    from eventapp.models import (
        Activity,
        ActivityKind,
        ActivityPerson,
        Enrolment,
        EnrolmentStatus,
        Event,
        Person,
        PersonRole,
        Registration,
        Room,
    )
    from eventapp.services.registration.tokens import (
        calendar_token_for,
        new_checkin_code,
        new_token,
        token_hash,
    )
    from eventapp.timezones import from_local, utcnow

    event = Event(
        slug="benchtag",
        title="Benchtag",
        starts_on=date(2026, 10, 24),
        ends_on=date(2026, 10, 25),
        venue="Haus der Deutschen Wirtschaft",
        address="Breite Straße 29, 10178 Berlin",
        published=True,
    )
    rooms = [Room(event=event, name=f"Raum {n}", capacity=40, position=n) for n in range(ROOMS)]
    people = [Person(name=f"Referentin {n}", title="Dr.") for n in range(100)]
    kinds = list(ActivityKind)
    activities = []
    for n in range(ACTIVITIES):
        day = event.starts_on + timedelta(days=n % 2)
        slot = (n // (ROOMS * 2)) % 25
        hour, minute = 7 + slot * 30 // 60, slot * 30 % 60
        starts_at = from_local(day, time_of(hour, minute), event.timezone)
        activity = Activity(
            event=event,
            room=rooms[n % ROOMS],
            title=f"Programmpunkt {n}: Fachkräfte für die Region",
            kind=kinds[n % len(kinds)],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=25),
            capacity=40,
            description="Beschreibung mit Umlauten äöü und Zeilen.\n\nZweiter Absatz." * 3,
            cancelled=n % 50 == 0,
        )
        activity.people.append(
            ActivityPerson(person=people[n % len(people)], role=PersonRole.SPEAKER)
        )
        activities.append(activity)
    manage_token = new_token()
    person = Registration(
        event=event,
        first_name="Erika",
        last_name="Mustermann",
        email="erika@example.org",
        privacy_consent_version="bench",
        privacy_consent_at=utcnow(),
        token_hash=token_hash(manage_token),
        calendar_token_hash=token_hash(calendar_token_for(manage_token)),
        checkin_code=new_checkin_code(),
    )
    db.session.add_all([event, person, *activities])
    db.session.flush()
    for activity in activities[:8]:
        db.session.add(
            Enrolment(registration=person, activity=activity, status=EnrolmentStatus.CONFIRMED)
        )
    db.session.commit()
    return event.slug, calendar_token_for(manage_token)


def time_of(hour: int, minute: int) -> Any:
    """Return a wall-clock time."""
    from datetime import time as wall

    return wall(hour, minute)


def run() -> list[dict[str, Any]]:
    """Measure the feeds and exports on a fresh SQLite database with 500 activities."""
    import sqlalchemy as sa

    from eventapp.extensions import db
    from eventapp.models import Activity, ActivityCalendarEntry, Event
    from eventapp.services.calendar import frab as schedule_export
    from eventapp.services.calendar import ical

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        app = _make_app(Path(folder))
        with app.app_context():
            slug, token = _seed()

            def build_feed() -> bytes:
                return build_programme_feed(slug)

            def forget_all() -> None:
                ical.VEVENT_CACHE.clear()
                db.session.execute(sa.delete(ActivityCalendarEntry))
                db.session.commit()

            edits = iter(range(1_000_000))

            def edit_one() -> None:
                number = next(edits)
                db.session.execute(
                    sa.update(Activity)
                    .where(Activity.id == 1 + number % ACTIVITIES)
                    .values(title=f"Geändert {number}", revision=Activity.revision + 1)
                )
                db.session.commit()

            size = len(build_feed())
            row = _row(
                f"programme feed, {ACTIVITIES} activities, first build in a fresh process "
                "(stored VEVENTs, empty in-process cache)",
                _fresh_processes(Path(folder), slug, size),
                TARGET_MS,
            )
            row["bytes"] = size
            rows.append(row)
            rows.append(
                _row(
                    f"programme feed, {ACTIVITIES} activities, rebuilt from nothing "
                    "(no stored VEVENTs)",
                    _timed(build_feed, 5, prepare=forget_all),
                )
            )
            rows.append(
                _row(
                    f"programme feed, {ACTIVITIES} activities, rebuilt after an edit",
                    _timed(build_feed, 10, prepare=edit_one),
                    TARGET_MS,
                )
            )

            def build_xml() -> bytes:
                db.session.expire_all()
                event = db.session.scalars(sa.select(Event).where(Event.slug == slug)).one()
                return schedule_export.schedule_xml(event)

            rows.append(_row(f"frab XML, {ACTIVITIES} activities", _timed(build_xml, 5)))
            db.engine.dispose()

        client = app.test_client()
        feed = f"/{slug}/programm.ics"
        first = client.get(feed)
        etag = first.headers["ETag"]
        rows.append(
            _row("GET programme feed, 200 (test client)", _timed(lambda: client.get(feed), 10))
        )
        not_modified = client.get(feed, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304
        rows.append(
            _row(
                "GET programme feed, 304 on ETag (test client)",
                _timed(lambda: client.get(feed, headers={"If-None-Match": etag}), 200),
            )
        )
        since = first.headers["Last-Modified"]
        rows.append(
            _row(
                "GET programme feed, 304 on If-Modified-Since",
                _timed(lambda: client.get(feed, headers={"If-Modified-Since": since}), 200),
            )
        )
        personal = f"/{slug}/kalender/{token}.ics"
        personal_etag = client.get(personal).headers["ETag"]
        rows.append(_row("GET personal feed, 200", _timed(lambda: client.get(personal), 20)))
        rows.append(
            _row(
                "GET personal feed, 304 on ETag",
                _timed(lambda: client.get(personal, headers={"If-None-Match": personal_etag}), 200),
            )
        )
        api = f"/api/v1/events/{slug}/activities?per_page=50"
        rows.append(_row("GET API activities, 50 per page", _timed(lambda: client.get(api), 20)))
        with app.app_context():
            db.engine.dispose()
    return rows


if __name__ == "__main__":
    from bench.__main__ import format_table

    print(format_table(run()))
