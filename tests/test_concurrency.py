"""Never overbooked: 200 concurrent registrations for 20 seats through gunicorn (4 workers)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from bench.bench_registrations import burst, gunicorn, registration_form
from eventapp.extensions import db
from eventapp.models import Enrolment, EnrolmentStatus, Registration
from eventapp.services.registration.tokens import new_token, token_hash
from tests.factories import make_activity, make_event

pytestmark = pytest.mark.slow

SEATS = 20
PEOPLE = 200


def enrolments_in_line(activity_id: int) -> tuple[list[Enrolment], list[Enrolment]]:
    """Return (confirmed, waitlisted) enrolments of an activity, each in queue order."""
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.activity_id == activity_id)
        .order_by(Enrolment.queued_at, Enrolment.id)
    ).all()
    confirmed = [e for e in rows if e.status == EnrolmentStatus.CONFIRMED]
    waiting = [e for e in rows if e.status == EnrolmentStatus.WAITLISTED]
    return confirmed, waiting


def register_one(url: str, slug: str, index: int, activity_id: int) -> None:
    """Register one more person sequentially (their link goes by mail, not shown)."""
    session = requests.Session()
    response = session.post(
        f"{url}/{slug}/anmeldung",
        data=registration_form(index, f"slot-{activity_id}", activity_id),
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    assert response.url.endswith("/anmeldung/bestaetigt")


def test_concurrent_registrations_never_overbook(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        event = make_event()
        workshop = make_activity(event, "Begehrter Workshop", capacity=SEATS)
        slug, activity_id = event.slug, workshop.id
        db.session.commit()

    with gunicorn(database_url, tmp_path) as url:
        attempts = burst(url, slug, activity_id, PEOPLE, concurrency=40)
        statuses = [a.status for a in attempts]
        assert statuses.count(302) == PEOPLE, sorted(set(statuses))

        with app.app_context():
            confirmed, waiting = enrolments_in_line(activity_id)
            assert len(confirmed) == SEATS
            assert len(waiting) == PEOPLE - SEATS
            assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == PEOPLE
            # First come, first served: every seat went to someone queued before all waiters.
            assert max(e.queued_at for e in confirmed) <= min(e.queued_at for e in waiting)
            if db.engine.dialect.name == "sqlite":
                # Writers are serialised, so the queue order is the order of arrival.
                assert [e.id for e in waiting] == sorted(e.id for e in waiting)
            assert db.session.get(type(workshop), activity_id).seats_taken == SEATS

        # Later arrivals join the end of the line, in the order they come.
        for i in range(3):
            register_one(url, slug, PEOPLE + i, activity_id)
        with app.app_context():
            _confirmed, waiting = enrolments_in_line(activity_id)
            tail = [e.registration.email for e in waiting[-3:]]
            # The link is only ever mailed (no worker runs here): issue one directly.
            first_late = waiting[-3].registration
            late_token = new_token()
            first_late.token_hash = token_hash(late_token)
            db.session.commit()
        assert tail == [f"teilnehmer{PEOPLE + i:04d}@example.org" for i in range(3)]
        page = requests.get(f"{url}/{slug}/verwalten/{late_token}", timeout=30).text
        assert "Warteliste, Platz 181" in page

        # At the same moment ten confirmed people cancel and five waiting people drop the
        # workshop: the first ten remaining in line move up, the rest keep their order.
        with app.app_context():
            confirmed, waiting_before = enrolments_in_line(activity_id)
            leaving = [e.registration_id for e in confirmed[:10]]
            keeping = [e.registration_id for e in confirmed[10:]]
            dropping = [e.registration_id for e in waiting_before[2:12:2]]
            staying = [
                e.registration_id for e in waiting_before if e.registration_id not in dropping
            ]
            expected_up, rest_order = staying[:10], staying[10:]
            # Manage links are only ever mailed; issue fresh ones for these people directly.
            tokens = {}
            for registration_id in leaving + dropping:
                registration = db.session.get(Registration, registration_id)
                token = new_token()
                registration.token_hash = token_hash(token)
                tokens[registration_id] = token
            db.session.commit()

        def act(registration_id: int) -> int:
            data = {"action": "cancel", "cancel-confirm": "y"}
            if registration_id in dropping:
                data = {"action": "drop", "activity_id": str(activity_id)}
            response = requests.post(
                f"{url}/{slug}/verwalten/{tokens[registration_id]}",
                data=data,
                allow_redirects=False,
                timeout=60,
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=15) as pool:
            assert list(pool.map(act, leaving + dropping)) == [302] * 15

    with app.app_context():
        confirmed, waiting = enrolments_in_line(activity_id)
        assert len(confirmed) == SEATS
        assert {e.registration_id for e in confirmed} == set(keeping + expected_up)
        assert [e.registration_id for e in waiting] == rest_order
        log = (tmp_path / "gunicorn.log").read_text(errors="replace")
        assert "Traceback" not in log


def test_concurrent_registrations_never_overfill_a_limited_day(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    places = 25
    with app.app_context():
        event = make_event(capacity=places)
        workshop = make_activity(event, "Workshop", capacity=100)
        slug, event_id, activity_id = event.slug, event.id, workshop.id
        db.session.commit()

    with gunicorn(database_url, tmp_path) as url:
        attempts = burst(url, slug, activity_id, 80, concurrency=40)
        assert [a.status for a in attempts].count(302) == 80

        with app.app_context():
            rows = db.session.execute(
                sa.select(Registration.status, sa.func.count()).group_by(Registration.status)
            ).all()
            assert dict(rows) == {"confirmed": places, "waitlisted": 80 - places}
            assert db.session.get(type(event), event_id).seats_taken == places
            # Only people with a place for the day hold a workshop seat.
            confirmed, waiting = enrolments_in_line(activity_id)
            assert (len(confirmed), len(waiting)) == (places, 80 - places)
            assert {e.registration.status for e in confirmed} == {"confirmed"}
