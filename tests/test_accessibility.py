"""The accessibility statement, its feedback form and registration in Leichte Sprache."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, template_rendered
from flask.testing import FlaskClient

from eventapp.extensions import db, task_queue
from eventapp.models import AccessibilityFeedback, OutboxMail
from tests.factories import make_activity, make_event, make_organiser
from tests.helpers.mailbox import delivered, plain_text
from tests.smtp_server import SmtpServer, text_of


def feedback_rows() -> list[AccessibilityFeedback]:
    return list(db.session.scalars(sa.select(AccessibilityFeedback)))


def test_every_footer_links_the_statement(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_event(contact_email="kontakt@example.org")
        db.session.commit()
    for path in ("/", "/testtag/", "/testtag/anmeldung", "/organisation/anmelden", "/nichts/"):
        text = client.get(path).get_data(as_text=True)
        footer = text[text.index('<footer class="site-footer">') :]
        assert 'href="/barrierefreiheit"' in footer, path
        assert "Erklärung zur Barrierefreiheit" in footer


def test_statement_has_what_bitv_asks_for(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_event(contact_email="kontakt@example.org", contact_phone="030 123")
        db.session.commit()
    response = client.get("/barrierefreiheit")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "teilweise vereinbar" in text  # status of conformance
    assert "Nicht barrierefreie Inhalte" in text
    assert "Diese Erklärung wurde am 28. November 2026 erstellt." in text
    assert 'href="mailto:kontakt@example.org"' in text and "030 123" in text  # contact
    assert '<form method="post"' in text  # feedback mechanism
    assert "Schlichtungsstelle nach § 16 BGG" in text  # enforcement procedure
    assert "Mauerstraße 53, 10117 Berlin" in text


def test_statement_in_english(client: FlaskClient) -> None:
    client.get("/sprache/en")
    text = client.get("/barrierefreiheit").get_data(as_text=True)
    assert "Accessibility statement" in text
    assert "partially compliant" in text
    assert "Leichte Sprache" in text or "Easy Read" in text


def test_feedback_is_stored_and_mailed_to_the_organisers(
    app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    with app.app_context():
        make_organiser("chefin@example.org", "password-1234", role="admin")
        make_organiser("team@example.org", "password-1234", role="staff")
        make_organiser("einlass@example.org", "password-1234", role="checkin")
        make_organiser("weg@example.org", "password-1234", role="staff").active = False
        db.session.commit()
    response = client.post(
        "/barrierefreiheit",
        data={
            "message": "Das Feld Bundesland lässt sich\nmit dem Screenreader nicht bedienen.",
            "page": "/testtag/anmeldung",
            "name": "Karl Blind",
            "email": "karl@example.org",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith("/barrierefreiheit#feedback")
    assert "Ihre Nachricht ist angekommen" in client.get("/barrierefreiheit").text
    with app.app_context():
        (stored,) = feedback_rows()
        assert stored.message.startswith("Das Feld Bundesland")
        assert (stored.page, stored.name, stored.email) == (
            "/testtag/anmeldung",
            "Karl Blind",
            "karl@example.org",
        )
        mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.recipient)).all()
        assert [m.recipient for m in mails] == ["chefin@example.org", "team@example.org"]
        assert {m.kind for m in mails} == {"accessibility_feedback"}
        assert mails[0].subject == f"Rückmeldung zur Barrierefreiheit (Nr. {stored.id})"
    delivered = sorted(smtp_server.wait_for(2), key=lambda message: message["To"])
    assert [message["To"] for message in delivered] == ["chefin@example.org", "team@example.org"]
    body = text_of(delivered[0])
    assert "Das Feld Bundesland lässt sich\nmit dem Screenreader" in body
    assert "Karl Blind" in body and "karl@example.org" in body


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False}])
def test_feedback_request_renders_no_mail_the_worker_does(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_organiser("team@example.org", "password-1234", role="staff")
        db.session.commit()
    rendered: list[str] = []

    def note(sender: Flask, template: Any, context: dict, **extra: Any) -> None:
        rendered.append(template.name)

    with template_rendered.connected_to(note, app):
        response = client.post("/barrierefreiheit", data={"message": "Kontrast zu schwach."})
        assert response.status_code == 302
    assert not [name for name in rendered if name.startswith("email/")]
    with app.app_context(), template_rendered.connected_to(note, app):
        queue = task_queue.bound().huey
        queue.execute(queue.dequeue())  # the worker's task renders and sends it
    assert "email/accessibility_feedback.txt" in rendered
    (message,) = delivered(app)
    assert message["To"] == "team@example.org"
    assert "Kontrast zu schwach." in plain_text(message)


def test_empty_feedback_shows_the_error_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.post("/barrierefreiheit", data={"message": "  ", "email": "kein-at"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'id="error-summary"' in text
    assert 'href="#message"' in text and 'href="#email"' in text
    with app.app_context():
        assert feedback_rows() == []
        assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 0


def test_easy_registration_page_linked_from_event_and_form(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_event(contact_email="kontakt@example.org", contact_phone="030 123")
        db.session.commit()
    for path in ("/testtag/", "/testtag/anmeldung"):
        assert 'href="/testtag/leichte-sprache"' in client.get(path).text, path
    text = client.get("/testtag/leichte-sprache").get_data(as_text=True)
    assert "Anmeldung in Leichter Sprache" in text
    assert "Die Veranstaltung heißt: Testtag." in text
    assert "Warte-Liste heißt: Sie warten auf einen Platz." in text  # hard words explained
    assert 'href="/testtag/anmeldung"' in text
    assert "030 123" in text
    assert client.get("/gibt-es-nicht/leichte-sprache").status_code == 404
    client.get("/sprache/en")
    assert "Easy Read" in client.get("/testtag/leichte-sprache").text


def test_german_titles_are_marked_german_on_english_pages(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        event = make_event()
        activity = make_activity(event, "Fachkräftesicherung im ländlichen Raum", language="de")
        db.session.commit()
        activity_id = activity.id
    client.get("/sprache/en")
    assert '<p class="pg-title" lang="de">' in client.get("/testtag/").text
    assert 'lang="de">Fachkräftesicherung' in client.get(f"/testtag/programm/{activity_id}").text
    client.get("/sprache/de")
    assert '<p class="pg-title">' in client.get("/testtag/").text
