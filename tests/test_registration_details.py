"""A registered person corrects their own details through the private manage link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Network, OutboxMail, Registration
from eventapp.services.registration import registrations as service
from tests.factories import make_event
from tests.helpers.mailbox import delivered, plain_text


def register(app: Flask, **event_fields: Any) -> dict[str, Any]:
    """Register Erika for a new event; return the page address and her registration id."""
    with app.app_context():
        event = make_event(slug="tag", **event_fields)
        altmark = Network(
            name="Fachkräftenetzwerk Altmark", region="Stendal", state="Sachsen-Anhalt"
        )
        full = Network(name="Netzwerk Voll", region="Halle", state="Sachsen-Anhalt")
        db.session.add_all([altmark, full])
        db.session.flush()
        if event.per_network_limit:
            for n in range(event.per_network_limit):
                service.register(event, participant(f"voll{n}@example.org", full.id), [])
        result = service.register(event, participant("erika@example.org", altmark.id), [])
        db.session.commit()
        return {
            "url": f"/tag/verwalten/{result.manage_token}/angaben",
            "manage": f"/tag/verwalten/{result.manage_token}",
            "id": result.registration.id,
            "full": full.name,
        }


def participant(email: str, network_id: int | None) -> service.Participant:
    """Return a participant's details as the form would send them."""
    return service.Participant(
        first_name="Erika", last_name="Musterman", email=email, network_id=network_id,
        organisation="Agentur für Arbeit Stendal", state="Sachsen-Anhalt",
        privacy_consent_version="2026-01",
    )  # fmt: skip


def details(**overrides: str) -> dict[str, str]:
    """Return the details form as a browser sends it."""
    data = {
        "salutation": "Frau", "title": "Dr.", "first_name": "Erika", "last_name": "Mustermann",
        "organisation": "Agentur für Arbeit Stendal", "network": "Fachkräftenetzwerk Altmark",
        "state": "Sachsen-Anhalt", "language": "de", "accessibility_needs": "",
        "dietary_wishes": "vegan",
    }  # fmt: skip
    return data | overrides


def stored(app: Flask, registration_id: int) -> Registration:
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        assert registration is not None
        db.session.expunge(registration)
        return registration


def test_person_corrects_a_typo_and_the_badge_is_printed_again(
    app: Flask, client: FlaskClient
) -> None:
    data = register(app)
    with app.app_context():
        db.session.get(Registration, data["id"]).badge_printed_at = datetime(2026, 5, 1, tzinfo=UTC)
        db.session.commit()
    page = client.get(data["url"])
    assert page.status_code == 200
    assert 'value="Musterman"' in page.text and "erika@example.org" in page.text
    response = client.post(data["url"], data=details())
    assert response.status_code == 302 and response.headers["Location"].endswith(data["manage"])
    manage = client.get(data["manage"]).text
    assert "Ihre Angaben sind gespeichert." in manage
    assert "Ihr Namensschild wird mit den neuen Angaben gedruckt." in manage
    assert "Dr. Erika Mustermann" in manage
    registration = stored(app, data["id"])
    assert (registration.title, registration.last_name) == ("Dr.", "Mustermann")
    assert registration.dietary_wishes == "vegan" and registration.badge_printed_at is None
    assert registration.email == "erika@example.org"  # the address stays
    # The address is told what is stored now, with the private link.
    with app.app_context():
        sent = db.session.scalar(
            sa.select(OutboxMail).where(OutboxMail.subject.contains("Angaben wurden geändert"))
        )
        assert sent is not None and sent.status == "sent"
        assert sent.message == b""  # delivered: the stored copy keeps no private link
    (text,) = [t for t in map(plain_text, delivered(app)) if "Name: Dr. Erika" in t]
    assert data["manage"] in text


def test_saving_unchanged_details_sends_no_mail(app: Flask, client: FlaskClient) -> None:
    data = register(app)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(OutboxMail.id)))
    same = details(salutation="", title="", last_name="Musterman", dietary_wishes="")
    assert client.post(data["url"], data=same).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == before


def test_full_network_is_refused_with_the_input_kept(app: Flask, client: FlaskClient) -> None:
    data = register(app, per_network_limit=1)
    response = client.post(data["url"], data=details(last_name="Neu", network=data["full"]))
    assert response.status_code == 400
    assert "höchstens 1 Personen" in response.text
    assert 'value="Neu"' in response.text
    assert stored(app, data["id"]).last_name == "Musterman"


def test_empty_name_gets_a_message_next_to_the_field(app: Flask, client: FlaskClient) -> None:
    data = register(app)
    response = client.post(data["url"], data=details(first_name=""))
    assert response.status_code == 400
    assert "Bitte geben Sie Ihren Vornamen ein." in response.text
    assert 'value="Mustermann"' in response.text


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_expired_form_shows_again_with_the_input_kept(app: Flask, client: FlaskClient) -> None:
    data = register(app)
    response = client.post(data["url"], data=details(last_name="Neu"))
    assert response.status_code == 400
    assert "Das Formular war abgelaufen" in response.text
    assert 'value="Neu"' in response.text
    assert stored(app, data["id"]).last_name == "Musterman"


def test_cancelled_registration_cannot_be_changed_and_other_links_are_unknown(
    app: Flask, client: FlaskClient
) -> None:
    data = register(app)
    with app.app_context():
        service.cancel_registration(db.session.get(Registration, data["id"]))
        db.session.commit()
    response = client.post(data["url"], data=details(last_name="Neu"))
    assert "ist storniert" in response.text
    assert stored(app, data["id"]).last_name == "Musterman"
    assert client.get("/tag/verwalten/falsch/angaben").status_code == 404
