"""Two desks scanning the same badge at the same moment record one check-in (real gunicorn)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from bench.bench_registrations import gunicorn
from eventapp.extensions import db
from eventapp.models import Registration
from eventapp.timezones import utcnow
from tests.factories import make_event, make_organiser, make_registration

pytestmark = pytest.mark.slow

DESKS = 6
PEOPLE = 5


def desk_session(url: str, event_id: int, name: str) -> requests.Session:
    """Log a check-in account in and name its desk, as staff at the entrance would."""
    session = requests.Session()
    response = session.post(
        f"{url}/organisation/anmelden",
        data={"email": "desk@example.org", "password": "desk-password-1"},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:300]
    named = session.post(
        f"{url}/organisation/einlass/{event_id}/platz", data={"desk_name": name}, timeout=30
    )
    assert named.status_code == 200
    return session


def test_same_badge_scanned_at_several_desks_is_checked_in_once(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        event = make_event()
        people = [make_registration(event, f"Vorname{i}", f"Nachname{i}") for i in range(PEOPLE)]
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
        event_id, codes = event.id, [p.checkin_code for p in people]

    with gunicorn(database_url, tmp_path, workers=4) as url:
        desks = [desk_session(url, event_id, f"Platz {n}") for n in range(DESKS)]
        for code in codes:
            start = threading.Barrier(DESKS)

            def scan(n: int, code: str = code, start: threading.Barrier = start) -> tuple[str, str]:
                start.wait()
                response = desks[n].post(
                    f"{url}/organisation/einlass/{event_id}/scan",
                    data={"code": code},
                    headers={"Accept": "application/json"},
                    timeout=60,
                )
                assert response.status_code == 200, response.text[:300]
                return response.json()["outcome"], response.json()["html"]

            with ThreadPoolExecutor(max_workers=DESKS) as pool:
                answers = list(pool.map(scan, range(DESKS)))
            outcomes = [outcome for outcome, _html in answers]
            assert outcomes.count("checked_in") == 1, outcomes
            assert outcomes.count("already") == DESKS - 1, outcomes
            winner = outcomes.index("checked_in")
            # Every other desk is told where the person was checked in: at the winning desk.
            for outcome, html in answers:
                if outcome == "already":
                    assert f"am Platz „Platz {winner}“" in html

            with app.app_context():
                person = db.session.scalar(sa.select(Registration).filter_by(checkin_code=code))
                assert person.checked_in_at is not None
                assert person.checked_in_desk == f"Platz {winner}"

        count = desks[0].get(f"{url}/organisation/einlass/{event_id}/stand.json", timeout=30)
        assert count.json()["checked_in"] == PEOPLE
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Traceback" not in log


def test_late_batches_and_scans_at_once_keep_the_earliest_check_in(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        event = make_event()
        people = [make_registration(event, f"Vorname{i}", f"Nachname{i}") for i in range(PEOPLE)]
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
        event_id, codes = event.id, [p.checkin_code for p in people]
    now = utcnow()
    # Desk n was offline and scanned everyone n minutes ago; the earliest is desk DESKS-1.
    late_desks = range(DESKS // 2, DESKS)
    earliest = now - timedelta(minutes=max(late_desks))

    with gunicorn(database_url, tmp_path, workers=4) as url:
        desks = [desk_session(url, event_id, f"Platz {n}") for n in range(DESKS)]
        start = threading.Barrier(DESKS)

        def work(n: int) -> list[str]:
            start.wait()
            base = f"{url}/organisation/einlass/{event_id}"
            if n in late_desks:
                scanned_at = (now - timedelta(minutes=n)).isoformat()
                batch = [{"code": c, "scanned_at": scanned_at, "desk": f"Platz {n}"} for c in codes]
                response = desks[n].post(
                    f"{base}/nachtraege", json={"check_ins": batch}, timeout=60
                )
                assert response.status_code == 200, response.text[:300]
                return [r["outcome"] for r in response.json()["results"]]
            outcomes = []
            for code in codes:
                response = desks[n].post(
                    f"{base}/scan", data={"code": code}, headers={"Accept": "application/json"},
                    timeout=60,
                )  # fmt: skip
                assert response.status_code == 200, response.text[:300]
                outcomes.append(response.json()["outcome"])
            return outcomes

        with ThreadPoolExecutor(max_workers=DESKS) as pool:
            answers = list(pool.map(work, range(DESKS)))
        assert all(o in ("checked_in", "already") for outcomes in answers for o in outcomes)
        with app.app_context():
            for code in codes:
                person = db.session.scalar(sa.select(Registration).filter_by(checkin_code=code))
                assert abs(person.checked_in_at - earliest) < timedelta(seconds=1)
                assert person.checked_in_desk == f"Platz {max(late_desks)}"
        count = desks[0].get(f"{url}/organisation/einlass/{event_id}/stand.json", timeout=30)
        assert count.json()["checked_in"] == PEOPLE
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Traceback" not in log
