"""Public registration pages: the form, bad input, confirmation, manage link, lost link."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db, task_queue
from eventapp.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Network,
    OutboxMail,
    Registration,
    RegistrationStatus,
)
from tests.factories import make_activity, make_event, make_room
from tests.helpers.mailbox import delivered, mails_to, manage_path, plain_text
from tests.helpers.participants import form_data


@pytest.fixture
def programme(app: Flask) -> dict[str, int]:
    """Create an event with two parallel workshops and one in the afternoon."""
    with app.app_context():
        event = make_event()
        room = make_room(event, "Raum 1", 30)
        first = make_activity(event, "Fachkräfte binden", "10:00", "11:30", room, capacity=1)
        second = make_activity(event, "Ausbildung digital", "10:00", "11:30", room, capacity=5)
        third = make_activity(event, "Willkommenskultur", "14:00", "15:00", room, capacity=5)
        db.session.add(Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt"))
        db.session.commit()
        return {"first": first.id, "second": second.id, "third": third.id}


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_registration_form_shows_seats_and_slots(client: FlaskClient, programme: dict) -> None:
    response = client.get("/testtag/anmeldung")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "noch 1 Platz frei" in page
    assert f'name="slot-{programme["first"]}"' in page
    assert 'for="first_name"' in page


def test_register_confirms_by_mail_with_manage_link(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    response = client.post(
        "/testtag/anmeldung",
        data=form_data(**{f"slot-{programme['first']}": str(programme["first"])}),
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihre Anmeldung ist eingegangen" in page
    assert "/verwalten/" not in page  # the private link only goes by mail
    (message,) = delivered(app)
    text = plain_text(message)
    assert "Ihre Teilnahme ist bestätigt" in text and "Platz bestätigt" in text
    link = re.search(r"(/testtag/verwalten/\S+)", text)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200
    with app.app_context():
        registration = db.session.scalar(sa.select(Registration))
        assert registration.network is not None
        assert registration.privacy_consent_version == "2026-01"
        assert link.group(1).rsplit("/", 1)[1] not in registration.token_hash
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.kind == "registration" and mail.status == "sent"
        assert mail.message == b"" and mail.render_data is None  # no private link kept
        # The personal calendar: a mail client decodes it as UTF-8 and offers to import it.
        (calendar,) = message.iter_attachments()
        assert calendar.get_content_type() == "text/calendar"
        assert calendar.get_param("method") == "PUBLISH"
        assert calendar.get_content() == calendar.get_payload(decode=True).decode("utf-8")
        assert "Fachkräfte" in calendar.get_content()


def test_register_full_workshop_shows_place_in_line(client: FlaskClient, programme: dict) -> None:
    slot = f"slot-{programme['first']}"
    client.post("/testtag/anmeldung", data=form_data(**{slot: str(programme["first"])}))
    other = client.application.test_client()
    other.post(
        "/testtag/anmeldung",
        data=form_data(email="max@example.org", **{slot: str(programme["first"])}),
    )
    (message,) = mails_to(client.application, "max@example.org")
    assert "Warteliste, Platz 1" in plain_text(message)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Bitte geben Sie Ihren Vornamen ein."),
        ("last_name", "", "Bitte geben Sie Ihren Nachnamen ein."),
        ("organisation", "", "Bitte geben Sie Ihre Organisation"),
        ("email", "", "Bitte geben Sie Ihre E-Mail-Adresse ein."),
        ("email", "keine-adresse", "gültige E-Mail-Adresse"),
        ("state", "", "Bitte wählen Sie ein Bundesland."),
        ("state", "Atlantis", "Keine gültige Auswahl"),
        ("privacy_consent", None, "Bitte stimmen Sie den Datenschutzhinweisen zu."),
        ("network", "Netzwerk Nirgendwo", "Bitte wählen Sie ein Netzwerk aus der Liste"),
        ("first_name", "E" * 101, "höchstens 100 Zeichen"),
        ("accessibility_needs", "x" * 1001, "höchstens 1000 Zeichen"),
        ("last_name", "Muster\x00mann", "Steuerzeichen"),
        ("first_name", "Eri\u200bka\x1b", "Steuerzeichen"),
    ],
)
def test_register_bad_field_keeps_input_and_says_why(
    client: FlaskClient, programme: dict, field: str, value: str | None, message: str, app: Flask
) -> None:
    data = form_data(**{field: value}, dietary_wishes="glutenfrei bitte")
    response = client.post("/testtag/anmeldung", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="error-summary"' in page
    assert message in page
    assert "glutenfrei bitte" in page  # input kept
    with app.app_context():
        assert count(Registration) == 0


def test_error_summary_labels_never_end_in_full_stop_and_colon(
    client: FlaskClient, programme: dict
) -> None:
    """The consent label is a sentence ending in a full stop: the summary adds no colon to it."""
    response = client.post(
        "/testtag/anmeldung", data=form_data(privacy_consent=None, first_name="")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "mit der Verarbeitung einverstanden: Bitte stimmen Sie" in page
    assert ".:" not in page


def test_register_tampered_activity_is_refused(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    for value in ("999999", "abc", "1 OR 1=1"):
        response = client.post(
            "/testtag/anmeldung", data=form_data(**{f"slot-{programme['first']}": value})
        )
        assert response.status_code == 400
        assert "Bitte wählen Sie erneut" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Registration) == 0


def test_register_two_overlapping_activities_refused(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    data = form_data()
    data[f"slot-{programme['first']}"] = [str(programme["first"]), str(programme["second"])]
    response = client.post("/testtag/anmeldung", data=data)
    assert response.status_code == 400
    assert "finden gleichzeitig statt" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Registration) == 0 and count(Enrolment) == 0


def test_register_activity_of_other_event_refused(
    client: FlaskClient, app: Flask, programme: dict
) -> None:
    with app.app_context():
        other = make_event("anderer-tag")
        foreign = make_activity(other, capacity=5)
        db.session.commit()
        foreign_id = foreign.id
    response = client.post("/testtag/anmeldung", data=form_data(**{"slot-x": str(foreign_id)}))
    assert response.status_code == 400
    with app.app_context():
        assert count(Registration) == 0


def test_register_honeypot_stores_nothing(client: FlaskClient, programme: dict, app: Flask) -> None:
    response = client.post("/testtag/anmeldung", data=form_data(homepage="http://spam.example"))
    assert response.status_code == 400
    with app.app_context():
        assert count(Registration) == 0


def test_register_twice_stores_nothing_and_mails_the_link(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    client.post("/testtag/anmeldung", data=form_data())
    with app.app_context():
        before = db.session.scalar(sa.select(Registration))
        details = (before.last_name, before.dietary_wishes, before.token_hash)
    slot = f"slot-{programme['third']}"
    response = client.post(
        "/testtag/anmeldung",
        data=form_data(
            email="ERIKA@example.org", last_name="Zweitname", dietary_wishes="vegan",
            **{slot: str(programme["third"])},
        ),
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        assert count(Registration) == 1 and count(Enrolment) == 0
        after = db.session.scalar(sa.select(Registration))
        assert (after.last_name, after.dietary_wishes) == details[:2]
        assert after.token_hash != details[2]  # a fresh link went out
        kinds = db.session.scalars(sa.select(OutboxMail.kind).order_by(OutboxMail.id)).all()
        assert kinds == ["registration", "manage_link"]
    first, again = mails_to(app, "erika@example.org")
    assert "Sie sind bereits angemeldet" in again["Subject"]
    assert "noch einmal" in plain_text(again) and "nicht gespeichert" in plain_text(again)
    assert client.get(manage_path(again)).status_code == 200
    assert client.get(manage_path(first)).status_code == 404  # the older link stops working


def without_csrf_token(page: str) -> str:
    """Return a page with its form token blanked (it differs on every page)."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", page)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_both_forms_answer_a_known_address_as_an_unknown_one(
    app: Flask, programme: dict, database_url: str
) -> None:
    def attempt(path: str, email: str) -> tuple[int, str, str, bool, str]:
        """Load the form, post it, follow the redirect, as a browser does; return the answer."""
        browser = app.test_client()
        form = browser.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
        assert token is not None
        slot = f"slot-{programme['third']}"
        data = form_data(email=email, **{slot: str(programme["third"])})
        if path.endswith("link-anfordern"):
            data = {"email": email}
        posted = browser.post(path, data=data | {"csrf_token": token.group(1)})
        page = browser.get(posted.headers["Location"]).get_data(as_text=True)
        return (
            posted.status_code,
            posted.headers["Location"],
            posted.get_data(as_text=True),
            "Set-Cookie" in posted.headers,
            without_csrf_token(page),
        )

    attempt("/testtag/anmeldung", "erika@example.org")
    for path, new_address in (
        ("/testtag/anmeldung", "neu@example.org"),
        ("/testtag/link-anfordern", "niemand@example.org"),
    ):
        known = attempt(path, "erika@example.org")
        unknown = attempt(path, new_address)
        assert known == unknown, path
        assert known[0] == 302
    assert "Falls diese Adresse schon angemeldet ist" in attempt("/testtag/anmeldung", "x@a.de")[4]
    with app.app_context():
        emails = db.session.scalars(sa.select(Registration.email).order_by(Registration.id))
        assert list(emails) == ["erika@example.org", "neu@example.org", "x@a.de"]
        assert count(Enrolment) == 3  # one each; the known address's second choice is not stored
    # Registered, registered again, asked for the link: each through the worker.
    assert [m["Subject"].split(" – ")[0] for m in mails_to(app, "erika@example.org")] == [
        "Ihre Anmeldung",
        "Sie sind bereits angemeldet",
        "Ihr Link zur Anmeldung",
    ]
    (welcome,) = mails_to(app, "neu@example.org")
    assert "Ihre Anmeldung" in welcome["Subject"] and "/testtag/verwalten/" in plain_text(welcome)
    assert mails_to(app, "niemand@example.org") == []


def test_register_known_address_gets_the_same_errors(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    client.post("/testtag/anmeldung", data=form_data())
    with app.app_context():
        db.session.execute(sa.update(Event).values(per_network_limit=1))
        db.session.commit()
    pages = []
    for email in ("erika@example.org", "neu@example.org"):
        response = client.post("/testtag/anmeldung", data=form_data(email=email))
        assert response.status_code == 400
        pages.append(response.get_data(as_text=True).replace(email, ""))
    assert pages[0] == pages[1] and "Je Netzwerk können höchstens 1" in pages[0]
    assert len(delivered(app)) == 1  # no link for an attempt that failed


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_register_expired_form_rerenders_with_input(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    response = client.post(
        "/testtag/anmeldung", data=form_data(csrf_token="abgelaufen", dietary_wishes="halal")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Das Formular war abgelaufen" in page
    assert "halal" in page
    with app.app_context():
        assert count(Registration) == 0


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "REGISTER_RATE_LIMIT": "2 per minute"}]
)
def test_register_rate_limit_keeps_input(client: FlaskClient, programme: dict) -> None:
    for n in range(2):
        client.post("/testtag/anmeldung", data=form_data(email=f"p{n}@example.org"))
    response = client.post(
        "/testtag/anmeldung", data=form_data(email="p9@example.org", dietary_wishes="koscher")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "koscher" in page and "warten Sie eine Minute" in page


def test_register_closed_window_shows_message(client: FlaskClient, app: Flask) -> None:
    from datetime import timedelta

    from eventapp.timezones import utcnow

    with app.app_context():
        make_event(registration_closes_at=utcnow() - timedelta(hours=1))
        db.session.commit()
    page = client.get("/testtag/anmeldung").get_data(as_text=True)
    assert "Die Anmeldung ist geschlossen." in page
    assert client.post("/testtag/anmeldung", data=form_data()).status_code == 400


def registered(client: FlaskClient, **slots: int) -> str:
    """Register through the form and return the manage URL from the confirmation mail."""
    data = form_data(**{f"slot-{v}": str(v) for v in slots.values()})
    assert client.post("/testtag/anmeldung", data=data).status_code == 302
    return manage_path(mails_to(client.application, "erika@example.org")[-1])


def test_manage_change_and_drop_and_cancel(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    url = registered(client, first=programme["first"])
    waiting = client.application.test_client()
    data = form_data(
        email="max@example.org", **{f"slot-{programme['first']}": str(programme["first"])}
    )
    waiting.post("/testtag/anmeldung", data=data)

    response = client.post(
        url,
        data={
            "action": "change",
            f"slot-{programme['first']}": str(programme["second"]),
            f"slot-{programme['third']}": str(programme["third"]),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        other = db.session.scalar(
            sa.select(Registration).where(Registration.email == "max@example.org")
        )
        assert other.enrolments[0].status == EnrolmentStatus.CONFIRMED  # moved up at once
    page = client.get(url).get_data(as_text=True)
    assert "Ausbildung digital" in page and "Willkommenskultur" in page

    assert (
        client.post(
            url, data={"action": "drop", "activity_id": str(programme["third"])}
        ).status_code
        == 302
    )
    assert client.post(url, data={"action": "cancel"}).status_code == 400
    assert client.post(url, data={"action": "cancel", "cancel-confirm": "y"}).status_code == 302
    with app.app_context():
        me = db.session.scalar(
            sa.select(Registration).where(Registration.email == "erika@example.org")
        )
        assert me.status == RegistrationStatus.CANCELLED
        assert all(e.status == EnrolmentStatus.CANCELLED for e in me.enrolments)


def test_cancelled_address_registers_again_through_the_form(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    old = registered(client, first=programme["first"])
    assert client.post(old, data={"action": "cancel", "cancel-confirm": "y"}).status_code == 302
    again = registered(client, third=programme["third"])
    assert again != old and client.get(old).status_code == 404
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Registration).where(Registration.email == "erika@example.org")
        ).all()
        assert len(rows) == 1 and rows[0].status == RegistrationStatus.CONFIRMED
        held = {e.activity_id: e.status for e in rows[0].enrolments}
    # The seat given back stays free; the new choice holds a seat.
    assert held == {
        programme["first"]: EnrolmentStatus.CANCELLED,
        programme["third"]: EnrolmentStatus.CONFIRMED,
    }
    assert "Willkommenskultur" in client.get(again).get_data(as_text=True)
    assert "Ihre Anmeldung" in mails_to(app, "erika@example.org")[-1]["Subject"]


def test_manage_overlap_change_refused(client: FlaskClient, programme: dict) -> None:
    url = registered(client)
    data = {
        "action": "change",
        "slot-a": str(programme["first"]),
        "slot-b": str(programme["second"]),
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "finden gleichzeitig statt" in response.get_data(as_text=True)


def test_manage_unknown_token_is_404(client: FlaskClient, programme: dict) -> None:
    assert client.get("/testtag/verwalten/falsch").status_code == 404


def test_data_copy_contains_everything(client: FlaskClient, programme: dict) -> None:
    url = registered(client, third=programme["third"])
    response = client.get(url + "/daten.json")
    data = json.loads(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    assert data["person"]["last_name"] == "Mustermann"
    assert data["person"]["network"] == "Fachkräftenetzwerk Altmark"
    assert data["consents"]["privacy_notice_version"] == "2026-01"
    assert data["choices"][0]["activity"] == "Willkommenskultur"
    assert data["emails"][0]["kind"] == "registration"


def test_resend_link_answers_the_same(client: FlaskClient, programme: dict, app: Flask) -> None:
    registered(client)
    with app.app_context():
        before = db.session.scalar(sa.select(Registration.token_hash))
    known = client.post(
        "/testtag/link-anfordern", data={"email": "erika@example.org"}, follow_redirects=True
    )
    unknown = client.post(
        "/testtag/link-anfordern", data={"email": "wer@example.org"}, follow_redirects=True
    )
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    with app.app_context():  # the worker's task (run at once here) looked the addresses up
        recipients = db.session.scalars(
            sa.select(OutboxMail.recipient).where(OutboxMail.kind == "manage_link")
        ).all()
        assert recipients == ["erika@example.org"]
        assert db.session.scalar(sa.select(Registration.token_hash)) != before


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False}])
def test_resend_link_request_writes_nothing_for_known_or_unknown_addresses(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    client.post("/testtag/anmeldung", data=form_data())
    with app.app_context():
        mails = db.session.scalar(sa.select(sa.func.count(OutboxMail.id)))
        token = db.session.scalar(sa.select(Registration.token_hash))
        queued = task_queue.bound().huey.pending_count()
    for address in ("erika@example.org", "wer@example.org"):
        client.post("/testtag/link-anfordern", data={"email": address})
    with app.app_context():  # only the worker's lookup is queued, one for each request
        assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == mails
        assert db.session.scalar(sa.select(Registration.token_hash)) == token
        assert task_queue.bound().huey.pending_count() == queued + 2


@pytest.mark.parametrize("app_config", [{"SQLITE_BUSY_TIMEOUT": 1}])
def test_register_lock_timeout_is_503_with_input_kept(
    client: FlaskClient, programme: dict, app: Flask, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("holds the SQLite write lock directly")
    import sqlite3

    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = client.post("/testtag/anmeldung", data=form_data(dietary_wishes="ohne Nüsse"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "ohne Nüsse" in page and "Es wurde nichts gespeichert" in page
    with app.app_context():
        assert count(Registration) == 0


def test_manage_token_never_in_access_logs(app: Flask, tmp_path: Path) -> None:
    import logging
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from eventapp.log_redaction import RedactingLogger

    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
        ("GET /testtag/verwalten/GEHEIM123 HTTP/1.1", "200", "-"), None,
    )  # fmt: skip
    assert logging.getLogger("werkzeug").filter(record)  # the app installed the filter
    assert "GEHEIM123" not in record.getMessage() and "/verwalten/…" in record.getMessage()

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/testtag/verwalten/GEHEIM123?x=1",
        "PATH_INFO": "/testtag/verwalten/GEHEIM123",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "http://127.0.0.1/testtag/kalender/FEED456.ics",
    }
    response = SimpleNamespace(
        status="302 FOUND", headers=[("Location", "/testtag/passwort/PW789")], sent=10
    )
    request = [("X-Original-URL", "/testtag/verwalten/HEADER000")]
    access_log = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(access_log))
    # Every atom that could carry a path: the default line, the path, a request header and
    # an answer's header.
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %({x-original-url}i)s '
               "%({location}o)s")  # fmt: skip
    logger = RedactingLogger(config)
    logger.access(response, request, environ, timedelta(seconds=0.01))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = access_log.read_text()
    for secret in ("GEHEIM123", "FEED456", "PW789", "HEADER000"):
        assert secret not in line
    assert line.count("/verwalten/…") == 3 and "/kalender/…" in line and "/passwort/…" in line
    for handler in logger.access_log.handlers:
        handler.close()


def test_event_and_activity_pages_show_registration(
    client: FlaskClient, programme: dict, app: Flask
) -> None:
    page = client.get("/testtag/").get_data(as_text=True)
    assert "Jetzt anmelden" in page and "/testtag/anmeldung" in page
    client.post("/testtag/anmeldung", data=form_data(**{"slot-x": str(programme["first"])}))
    page = client.get(f"/testtag/programm/{programme['first']}").get_data(as_text=True)
    assert "Ausgebucht." in page
    assert f"waehlen={programme['first']}" in page
    form = client.get(f"/testtag/anmeldung?waehlen={programme['first']}").get_data(as_text=True)
    assert re.search(rf'value="{programme["first"]}"[^>]* checked', form)
