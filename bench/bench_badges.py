"""Badges per second and peak memory of the whole `eventapp badges` process; programme time."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

BADGE_TARGET_S = 3.0  # for 1,000 badges of the a4-10 layout
MEMORY_TARGET_MB = 300.0
PROGRAMME_TARGET_S = {"demo": 1.5, "200 activities": 5.0}
FIRST = ["Erika", "Maximilian-Alexander", "Jörg", "Αλέξανδρος", "Анна", "Zoë", "Hans-Jürgen"]
LAST = ["Mustermann", "Schönebeck-Großkopf", "Öztürk", "Παπαδόπουλος", "Иванова", "Weißgerber"]
ORGS = [
    "Agentur für Arbeit Musterstadt",
    "Industrie- und Handelskammer zu Frankfurt am Main, Geschäftsbereich Fachkräftesicherung",
    "Handwerkskammer Düsseldorf",
    "Kommunales Jobcenter",
]


def _make_app(folder: Path) -> Flask:
    from eventapp import create_app
    from eventapp.extensions import db

    os.environ["EVENTAPP_INSTANCE_PATH"] = str(folder)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}"})
    finally:
        del os.environ["EVENTAPP_INSTANCE_PATH"]
    with app.app_context():
        db.create_all()
    return app


def _fill(app: Flask, slug: str, count: int) -> None:
    """Create an event with count confirmed registrations (bulk insert)."""
    import sqlalchemy as sa

    from eventapp.extensions import db
    from eventapp.models import Registration
    from eventapp.services.printing.checkin_qr import checkin_qr_png
    from eventapp.services.registration.tokens import new_checkin_code
    from tests.factories import make_event

    roles = ["participant", "speaker", "press", "staff", "vip"]
    with app.app_context():
        event = make_event(slug=slug, title="Innovationstag 2026")
        codes = [new_checkin_code() for _ in range(count)]
        now = datetime(2026, 5, 1, tzinfo=UTC)
        rows = [
            {
                "event_id": event.id, "first_name": FIRST[i % len(FIRST)],
                "last_name": f"{LAST[i % len(LAST)]}", "organisation": ORGS[i % len(ORGS)],
                "email": f"p{i}@{slug}.example.org", "role": roles[i % len(roles)],
                "privacy_consent_version": "2026-01", "privacy_consent_at": now,
                "token_hash": f"{slug}-t-{i}", "calendar_token_hash": f"{slug}-c-{i}",
                "checkin_code": codes[i], "checkin_qr_png": checkin_qr_png(codes[i]),
                "status": "confirmed", "state": "Sachsen",
            }
            for i in range(count)
        ]  # fmt: skip
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()


def _children_cpu() -> float:
    """Return the CPU seconds (user + system) of all finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _badges_process(folder: Path, slug: str, count: int) -> dict[str, Any]:
    """Run `eventapp badges` as its own process; measure wall time, CPU time and peak memory.

    The CPU time (of the command and its rendering processes together) shows the cost when
    other work on the machine stretches the wall time; the load average is printed beside it.
    """
    env = dict(os.environ)
    env["EVENTAPP_INSTANCE_PATH"] = str(folder)
    env["EVENTAPP_DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    out = folder / f"{slug}.pdf"
    script = (
        "import resource, sys; from eventapp.cli import main; "
        "sys.argv = ['eventapp'] + sys.argv[1:]\n"
        "try:\n    main()\nfinally:\n"
        "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "    print(f'PEAK {own} {kids}', file=sys.stderr)\n"
    )
    load = os.getloadavg()[0]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", script, "badges", "--event", slug, "--layout", "a4-10",
         "--no-mark", "-o", str(out)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu() - cpu_before
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    peak_line = [line for line in result.stderr.splitlines() if line.startswith("PEAK ")][-1]
    own_kb, kids_kb = (int(x) for x in peak_line.split()[1:])
    peak_mb = max(own_kb, kids_kb) / 1024
    row: dict[str, Any] = {
        "benchmark": "badges",
        "case": f"eventapp badges a4-10 × {count}",
        "seconds": seconds,
        "badges_per_s": count / seconds,
        "cpu_s": cpu_seconds,
        "load": load,
        "peak_mb": peak_mb,
        "pdf_kb": out.stat().st_size // 1024,
    }
    if count == 1000:
        row["target"] = f"≤ {BADGE_TARGET_S} s, ≤ {MEMORY_TARGET_MB:.0f} MB"
        row["ok"] = "yes" if seconds <= BADGE_TARGET_S and peak_mb <= MEMORY_TARGET_MB else "NO"
    else:
        row["target"] = f"≤ {MEMORY_TARGET_MB:.0f} MB (flat)"
        row["ok"] = "yes" if peak_mb <= MEMORY_TARGET_MB else "NO"
    return row


def _programme(app: Flask, activities: int, case: str) -> dict[str, Any]:
    """Time the programme booklet for an event with that many activities."""
    from eventapp.extensions import db
    from eventapp.models import Activity, ActivityKind
    from eventapp.services.printing.programme_booklet import render_programme
    from tests.factories import make_event, make_room

    with app.app_context():
        event = make_event(slug=f"prog-{activities}", title="Innovationstag 2026")
        rooms = [make_room(event, f"Raum {i}", 30, position=i) for i in range(8)]
        start = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
        for i in range(activities):
            begin = start + timedelta(minutes=30 * (i // len(rooms)) % 600)
            db.session.add(
                Activity(
                    event=event, title=f"Workshop {i}: Fachkräfte gewinnen und halten",
                    kind=ActivityKind.WORKSHOP, room=rooms[i % len(rooms)], starts_at=begin,
                    ends_at=begin + timedelta(minutes=45), capacity=30, requires_enrolment=True,
                    description="Wie Netzwerke Betriebe bei der Fachkräftesicherung begleiten. "
                    * 3,
                )
            )  # fmt: skip
        db.session.commit()
        started = time.perf_counter()
        pdf = render_programme(event, "de")
        seconds = time.perf_counter() - started
    target = PROGRAMME_TARGET_S[case]
    return {
        "benchmark": "badges",
        "case": f"programme booklet, {case} ({activities})",
        "seconds": seconds,
        "pdf_kb": len(pdf) // 1024,
        "target": f"≤ {target} s",
        "ok": "yes" if seconds <= target else "NO",
    }


def run() -> list[dict[str, Any]]:
    """Render 1,000 and 3,000 badges through the CLI, and the programme booklet twice."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-badges-") as name:
        folder = Path(name)
        app = _make_app(folder)
        _fill(app, "b1000", 1000)
        _fill(app, "b3000", 3000)
        rows.append(_badges_process(folder, "b1000", 1000))
        rows.append(_badges_process(folder, "b3000", 3000))
        rows.append(_programme(app, 25, "demo"))
        rows.append(_programme(app, 200, "200 activities"))
        with app.app_context():
            from eventapp.extensions import db

            db.engine.dispose()
    return rows


if __name__ == "__main__":
    from bench.__main__ import format_table

    print(format_table(run()))
