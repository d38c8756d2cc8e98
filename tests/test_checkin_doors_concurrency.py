"""Stewards at one workshop door at the same moment: one admission each, never past capacity."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from bench.bench_registrations import gunicorn
from eventapp.extensions import db
from eventapp.models import Activity, Enrolment, EnrolmentStatus, WorkshopAttendance
from tests.factories import make_activity, make_event, make_organiser, make_registration

pytestmark = pytest.mark.slow

STEWARDS = 6
SEATS = 3


def steward_session(url: str) -> requests.Session:
    """Log a check-in account in, as a steward at a workshop door would."""
    session = requests.Session()
    response = session.post(
        f"{url}/organisation/anmelden",
        data={"email": "door@example.org", "password": "door-password-1"},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:300]
    return session


def test_same_badge_at_several_doors_is_let_in_once_and_seats_never_overflow(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        event = make_event()
        workshop = make_activity(event, "Workshop Fachkräfte", capacity=SEATS)
        enrolled = make_registration(event, "Anna", "Müller")
        db.session.add(
            Enrolment(registration=enrolled, activity=workshop, status=EnrolmentStatus.CONFIRMED)
        )
        workshop.seats_taken = 1
        # More people without a seat than seats free: each steward admits one at once.
        strangers = [make_registration(event, f"Vorname{i}", "Ohne") for i in range(STEWARDS)]
        make_organiser("door@example.org", "door-password-1", role="checkin")
        db.session.commit()
        door = f"/organisation/einlass/{event.id}/workshops/{workshop.id}/"
        code, stranger_ids = enrolled.checkin_code, [s.id for s in strangers]
        workshop_id = workshop.id

    with gunicorn(database_url, tmp_path, workers=4) as url:
        stewards = [steward_session(url) for _ in range(STEWARDS)]
        start = threading.Barrier(STEWARDS)

        def scan(n: int) -> str:
            start.wait()
            response = stewards[n].post(
                url + door, data={"code": code}, headers={"Accept": "application/json"}, timeout=60
            )
            assert response.status_code == 200, response.text[:300]
            return response.json()["outcome"]

        with ThreadPoolExecutor(max_workers=STEWARDS) as pool:
            outcomes = list(pool.map(scan, range(STEWARDS)))
        assert outcomes.count("admitted") == 1, outcomes
        assert outcomes.count("already") == STEWARDS - 1, outcomes

        admit_start = threading.Barrier(STEWARDS)

        def admit(n: int) -> str:
            admit_start.wait()
            response = stewards[n].post(
                f"{url}{door}einlassen",
                data={"registration_id": stranger_ids[n]},
                headers={"Accept": "application/json"},
                timeout=60,
            )
            assert response.status_code == 200, response.text[:300]
            return response.json()["outcome"]

        with ThreadPoolExecutor(max_workers=STEWARDS) as pool:
            admitted = list(pool.map(admit, range(STEWARDS)))
        assert admitted.count("admitted") == SEATS - 1, admitted
        assert admitted.count("full") == STEWARDS - (SEATS - 1), admitted

    with app.app_context():
        assert db.session.get(Activity, workshop_id).seats_taken == SEATS
        confirmed = db.session.scalar(
            sa.select(sa.func.count(Enrolment.id)).where(
                Enrolment.activity_id == workshop_id, Enrolment.status == EnrolmentStatus.CONFIRMED
            )
        )
        assert confirmed == SEATS
        present = db.session.scalar(sa.select(sa.func.count(WorkshopAttendance.id)))
        assert present == SEATS
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "Traceback" not in log
