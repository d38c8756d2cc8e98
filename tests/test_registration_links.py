"""Private links of a registration: a Rundmail link leaves earlier links working, and no new
manage link ever changes the calendar-feed address."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import ManageLink, Network, Registration
from eventapp.services.mail import outbox
from eventapp.services.registration.registrations import send_manage_link
from eventapp.services.registration.tokens import calendar_token_for, new_token, token_hash
from tests.factories import make_activity, make_event, make_registration
from tests.helpers.mailbox import delivered, manage_path
from tests.helpers.participants import form_data
from tests.smtp_server import SmtpServer, text_of


def person_with_links(app: Flask) -> tuple[int, int, str, str]:
    """An event with one confirmed person; returns event id, person id, manage and feed token."""
    with app.app_context():
        event = make_event()
        make_activity(event, "Fachkräfte sichern", capacity=10)
        person = make_registration(event, "Alex", "Wolf", salutation="Frau")
        db.session.commit()
        return event.id, person.id, person.manage_token, person.calendar_token


def feed_link(page: str) -> str:
    found = re.search(r'href="http://localhost(/testtag/kalender/[^"]+\.ics)"', page)
    assert found is not None, "the manage page links to the personal calendar"
    return found.group(1)


def send_rundmail_with_link(staff_client: FlaskClient, event_id: int) -> None:
    url = f"/organisation/veranstaltungen/{event_id}/rundmails/neu"
    data = {
        "segment": "confirmed",
        "activity": "",
        "network": "",
        "role": "participant",
        "language": "de",
        "subject": "Ihr Link",
        "body": "{anrede},\r\n\r\nLink: {verwaltungslink}\r\n",
    }
    page = staff_client.post(url, data=data | {"aktion": "pruefen"}).get_data(as_text=True)
    key = re.search(r'name="send_key" value="([^"]+)"', page)
    assert key is not None, page
    sent = staff_client.post(url, data=data | {"aktion": "senden", "send_key": key.group(1)})
    assert sent.status_code == 302


def test_rundmail_link_keeps_earlier_links_and_the_calendar_feed(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config() | {"MAIL_CAMPAIGN_MAILS_PER_MINUTE": 6000})
    event_id, person_id, first_link, feed = person_with_links(app)
    manage = client.get(f"/testtag/verwalten/{first_link}")
    assert manage.status_code == 200
    feed_path = feed_link(manage.get_data(as_text=True))
    assert client.get(feed_path).status_code == 200

    send_rundmail_with_link(staff_client, event_id)
    with app.app_context():
        outbox.deliver(app.config)
    (message,) = smtp_server.wait_for(1)
    found = re.search(r"Link: http://127\.0\.0\.1:5000(/testtag/verwalten/\S+)", text_of(message))
    assert found is not None
    rundmail_link = found.group(1)
    assert rundmail_link != f"/testtag/verwalten/{first_link}"

    # Both links open the page, and both show the same, still working, calendar address.
    for path in (f"/testtag/verwalten/{first_link}", rundmail_link):
        page = client.get(path)
        assert page.status_code == 200
        assert feed_link(page.get_data(as_text=True)) == feed_path
    assert client.get(feed_path).status_code == 200
    with app.app_context():
        assert db.session.get(Registration, person_id).calendar_token == feed

    # Asking for a new link ends every earlier one, the Rundmail's too, but not the calendar.
    with app.app_context():
        send_manage_link(db.session.get(Registration, person_id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(ManageLink.id))) == 0
    assert client.get(f"/testtag/verwalten/{first_link}").status_code == 404
    assert client.get(rundmail_link).status_code == 404
    assert client.get(feed_path).status_code == 200


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False}])
def test_rundmail_link_sent_after_a_new_link_points_to_the_request_page(
    app: Flask, staff_client: FlaskClient, smtp_server: SmtpServer
) -> None:
    """A Rundmail queued before the person asked for a new link carries no dead link."""
    app.config.update(smtp_server.config() | {"MAIL_CAMPAIGN_MAILS_PER_MINUTE": 6000})
    event_id, person_id, _link, _feed = person_with_links(app)
    send_rundmail_with_link(staff_client, event_id)
    with app.app_context():
        send_manage_link(db.session.get(Registration, person_id))
        db.session.commit()
        outbox.deliver(app.config)
    texts = [text_of(m) for m in smtp_server.wait_for(2)]
    rundmail = next(t for t in texts if "Link:" in t)
    assert "/verwalten/" not in rundmail
    assert "http://127.0.0.1:5000/testtag/link-anfordern" in rundmail


def test_registration_from_before_feed_tokens_keeps_its_feed_until_its_link_is_replaced(
    app: Flask, client: FlaskClient
) -> None:
    _event_id, person_id, manage_token, _feed = person_with_links(app)
    derived = calendar_token_for(manage_token)
    with app.app_context():  # as stored before feed tokens were kept
        person = db.session.get(Registration, person_id)
        person.calendar_token = None
        person.calendar_token_hash = token_hash(derived)
        db.session.commit()
    page = client.get(f"/testtag/verwalten/{manage_token}").get_data(as_text=True)
    assert feed_link(page) == f"/testtag/kalender/{derived}.ics"
    assert client.get(f"/testtag/kalender/{derived}.ics").status_code == 200
    with app.app_context():
        person = db.session.get(Registration, person_id)
        send_manage_link(person)
        db.session.commit()
        own = person.calendar_token
    assert own is not None
    assert client.get(f"/testtag/kalender/{own}.ics").status_code == 200
    assert client.get(f"/testtag/kalender/{derived}.ics").status_code == 404


def test_manage_page_of_an_old_registration_opened_by_a_further_link_shows_no_dead_feed(
    app: Flask, client: FlaskClient
) -> None:
    _event_id, person_id, manage_token, _feed = person_with_links(app)
    further = new_token()
    with app.app_context():
        person = db.session.get(Registration, person_id)
        person.calendar_token = None
        person.calendar_token_hash = token_hash(calendar_token_for(manage_token))
        db.session.add(
            ManageLink(
                registration_id=person_id,
                token_hash=token_hash(further),
                created_at=person.privacy_consent_at,
            )
        )
        db.session.commit()
    page = client.get(f"/testtag/verwalten/{further}")
    assert page.status_code == 200
    assert "/kalender/" not in page.get_data(as_text=True)


def test_registering_and_registering_again_keep_one_feed_address(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_event()
        db.session.add(Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt"))
        db.session.commit()
    assert client.post("/testtag/anmeldung", data=form_data()).status_code == 302
    (confirmation,) = delivered(app)
    first_page = client.get(manage_path(confirmation))
    assert first_page.status_code == 200
    feed_path = feed_link(first_page.get_data(as_text=True))
    with app.app_context():
        token, digest = db.session.execute(
            sa.select(Registration.calendar_token, Registration.calendar_token_hash)
        ).one()
    assert token is not None and token_hash(token) == digest and token in feed_path
    # The same address on the form again: a new manage link by mail, the same calendar.
    assert client.post("/testtag/anmeldung", data=form_data()).status_code == 302
    second = delivered(app)[-1]
    assert manage_path(second) != manage_path(confirmation)
    assert client.get(manage_path(confirmation)).status_code == 404
    page = client.get(manage_path(second)).get_data(as_text=True)
    assert feed_link(page) == feed_path
    assert client.get(feed_path).status_code == 200
