"""An organiser cancels a registration: a confirmation page first, then the mail with the reason."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import EnrolmentStatus, Registration, RegistrationStatus
from eventapp.services.registration import registrations as service
from eventapp.services.registration.cancellation import cancellation_preview
from tests.factories import make_activity, make_event
from tests.helpers import inline_parts
from tests.helpers.mailbox import delivered, plain_text
from tests.helpers.participants import person


@pytest.fixture
def filled(app: Flask) -> dict[str, Any]:
    """A day for 2 with a 1-seat workshop: person 0 holds it, 1 waits, 2 waits for the day."""
    with app.app_context():
        event = make_event(capacity=2, contact_email="team@example.org")
        workshop = make_activity(event, "Fachkräfte sichern", "10:00", "11:30", capacity=1)
        for i in range(3):
            service.register(event, person(i), [workshop.id])
        db.session.commit()
        ids = {"event": event.id, "workshop": workshop.id}
        for i in range(3):
            ids[f"p{i}"] = db.session.scalar(
                sa.select(Registration.id).where(Registration.last_name == f"Nachname{i}")
            )
        return ids


def url(ids: dict[str, Any], who: str) -> str:
    return f"/organisation/veranstaltungen/{ids['event']}/anmeldungen/{ids[who]}/stornieren"


def mails_to(app: Flask, address: str) -> list[Any]:
    return [m for m in delivered(app) if m["To"] == address]


def test_preview_names_freed_places_and_who_moves_up(app: Flask, filled: dict) -> None:
    with app.app_context():
        preview = cancellation_preview(db.session.get(Registration, filled["p0"]))
        assert preview.frees_day_place
        assert preview.day_next_in_line is not None
        assert preview.day_next_in_line.last_name == "Nachname2"
        [seat] = preview.seats
        assert seat.frees_seat and seat.status == EnrolmentStatus.CONFIRMED
        assert seat.next_in_line is not None and seat.next_in_line.last_name == "Nachname1"
        waiting = cancellation_preview(db.session.get(Registration, filled["p1"]))
        assert waiting.frees_day_place and waiting.seats[0].next_in_line is None
        assert not waiting.seats[0].frees_seat
        day_waiting = cancellation_preview(db.session.get(Registration, filled["p2"]))
        assert not day_waiting.frees_day_place and day_waiting.day_next_in_line is None


def test_cancel_page_asks_first_and_changes_nothing(
    staff_client: FlaskClient, app: Flask, filled: dict
) -> None:
    edit = staff_client.get(url(filled, "p0").removesuffix("/stornieren"))
    assert f'href="{url(filled, "p0")}"' in edit.text  # a link to the question, not a button
    page = staff_client.get(url(filled, "p0"))
    assert page.status_code == 200
    text = page.text
    assert "Anmeldung von Vorname0 Nachname0 stornieren?" in text
    assert "Der Platz für den Tag wird frei." in text
    assert "Von der Warteliste für den Tag rückt Vorname2 Nachname2 nach" in text
    assert "Vorname1 Nachname1 rückt von der Warteliste nach" in text
    assert 'name="reason"' in text
    assert inline_parts(text) == []
    with app.app_context():
        assert db.session.get(Registration, filled["p0"]).status == RegistrationStatus.CONFIRMED
    assert mails_to(app, "person0@example.org") == [] or all(
        "storniert" not in m["Subject"] for m in mails_to(app, "person0@example.org")
    )


def test_cancel_with_reason_mails_it_and_moves_people_up(
    staff_client: FlaskClient, app: Flask, filled: dict
) -> None:
    reason = "Die Veranstaltung ist nur für Mitglieder der Netzwerke.\nBitte melden Sie sich."
    response = staff_client.post(url(filled, "p0"), data={"reason": reason})
    assert response.status_code == 302
    with app.app_context():
        first = db.session.get(Registration, filled["p0"])
        assert first.status == RegistrationStatus.CANCELLED
        second = db.session.get(Registration, filled["p1"])
        assert second.enrolments[0].status == EnrolmentStatus.CONFIRMED
        third = db.session.get(Registration, filled["p2"])
        assert third.status == RegistrationStatus.CONFIRMED
    [mail] = [m for m in mails_to(app, "person0@example.org") if "storniert" in m["Subject"]]
    assert "Ihre Anmeldung wurde vom Organisationsteam storniert" in mail["Subject"]
    body = plain_text(mail)
    assert "das Organisationsteam hat Ihre Anmeldung zu „Testtag“ storniert" in body
    assert "Begründung des Organisationsteams:" in body
    assert reason in body.replace("\r\n", "\n")
    assert "erneut anmelden" not in body
    assert "team@example.org" in body
    assert any("nachgerückt" in m["Subject"] for m in mails_to(app, "person1@example.org"))


def test_cancel_without_reason_says_who_cancelled(
    staff_client: FlaskClient, app: Flask, filled: dict
) -> None:
    assert staff_client.post(url(filled, "p1"), data={"reason": "  "}).status_code == 302
    [mail] = [m for m in mails_to(app, "person1@example.org") if "storniert" in m["Subject"]]
    body = plain_text(mail)
    assert "das Organisationsteam hat Ihre Anmeldung" in body
    assert "Begründung" not in body


def test_own_cancellation_mail_does_not_blame_the_organisers(app: Flask, filled: dict) -> None:
    with app.app_context():
        service.cancel_registration(db.session.get(Registration, filled["p0"]))
        db.session.commit()
    [mail] = [m for m in mails_to(app, "person0@example.org") if "storniert" in m["Subject"]]
    body = plain_text(mail)
    assert "Organisationsteam" not in mail["Subject"] and "Organisationsteam" not in body
    assert "Ihre Anmeldung zu „Testtag“ wurde storniert." in body


def test_too_long_reason_is_refused_and_nothing_cancelled(
    staff_client: FlaskClient, app: Flask, filled: dict
) -> None:
    response = staff_client.post(url(filled, "p0"), data={"reason": "x" * 1001})
    assert response.status_code == 400
    assert "höchstens 1000 Zeichen" in response.text
    with app.app_context():
        assert db.session.get(Registration, filled["p0"]).status == RegistrationStatus.CONFIRMED


def test_cancelling_twice_sends_one_mail(
    staff_client: FlaskClient, app: Flask, filled: dict
) -> None:
    staff_client.post(url(filled, "p0"), data={"reason": ""})
    again = staff_client.post(url(filled, "p0"), data={"reason": "noch einmal"})
    assert again.status_code == 302
    assert "bereits storniert" in staff_client.get(url(filled, "p0")).text
    cancelled = [m for m in mails_to(app, "person0@example.org") if "storniert" in m["Subject"]]
    assert len(cancelled) == 1


def test_cancel_page_needs_staff(client: FlaskClient, filled: dict) -> None:
    assert client.get(url(filled, "p0")).status_code == 302
    assert client.post(url(filled, "p0")).status_code == 302
