"""Pages kept per programme version: seats filled in per visit, edits seen at once everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Activity, Event, Network
from eventapp.services.registration.waitlist import claim_seat, release_seat
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_room
from tests.helpers.hosts import another_host
from tests.helpers.participants import form_data
from tests.helpers.statements import count_statements


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_form_keeps_programme_but_shows_current_seats_and_edits_from_another_host(
    app: Flask, client: FlaskClient, database_url: str, tmp_path: Path
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        event = make_event()
        room = make_room(event, "Raum 1", 30)
        workshop = make_activity(event, "Fachkräfte binden", "10:00", "11:30", room, capacity=1)
        db.session.commit()
        workshop_id = workshop.id
    first = client.get("/testtag/anmeldung").get_data(as_text=True)
    again = client.get("/testtag/anmeldung").get_data(as_text=True)
    assert "noch 1 Platz frei" in first and "noch 1 Platz frei" in again
    assert "\x00" not in again
    assert "Die Veranstaltung ist ausgebucht" not in again
    # Another visitor gets a token of their own, and it works.
    other = app.test_client()
    page = other.get("/testtag/anmeldung").get_data(as_text=True)
    assert csrf_token(page) != csrf_token(first)
    answer = other.post(
        "/testtag/anmeldung",
        data=form_data(csrf_token=csrf_token(page), network="")
        | {f"slot-{workshop_id}": str(workshop_id)},
    )
    assert answer.status_code == 302
    assert "ausgebucht – Warteliste" in client.get("/testtag/anmeldung").get_data(as_text=True)

    # A second host on the same database renames the workshop, as the programme editor does.
    second = another_host(database_url, tmp_path / "second")
    with second.app_context():
        activity = db.session.get(Activity, workshop_id)
        activity.title = "Fachkräfte halten"
        activity.event.programme_changed_at = utcnow()
        db.session.commit()
        db.engine.dispose()
    renamed = client.get("/testtag/anmeldung").get_data(as_text=True)
    assert "Fachkräfte halten" in renamed and "Fachkräfte binden" not in renamed

    # A change of the event itself made anywhere shows at once too.
    with app.app_context():
        db.session.execute(sa.update(Event).values(venue="Kongresshalle am Alex"))
        db.session.commit()
    assert "Kongresshalle am Alex" in client.get("/testtag/anmeldung").get_data(as_text=True)


def test_public_pages_answer_repeat_visitors_with_304_until_the_programme_changes(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        event = make_event()
        room = make_room(event, "Raum 1", 30)
        workshop = make_activity(event, "Fachkräfte binden", "10:00", "11:30", room, capacity=5)
        db.session.commit()
        path = f"/testtag/programm/{workshop.id}"
    for address in ("/testtag/", path):
        first = client.get(address)
        assert first.status_code == 200 and first.headers["ETag"]
        again = client.get(address, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
    with app.app_context():
        activity = db.session.get(Activity, workshop.id)
        activity.title = "Fachkräfte halten"
        activity.event.programme_changed_at = utcnow()
        db.session.commit()
    changed = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Fachkräfte halten" in changed.get_data(as_text=True)
    # What someone typed after the address is never shown to the next visitor.
    assert "boese" in client.get("/testtag/?boese=1").get_data(as_text=True)
    assert "boese" not in client.get("/testtag/").get_data(as_text=True)


def test_kept_pages_read_their_version_in_one_statement(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        event = make_event(capacity=50)
        room = make_room(event, "Raum 1", 30)
        workshop = make_activity(event, "Fachkräfte binden", "10:00", "11:30", room, capacity=5)
        make_activity(event, "Offen für alle", "12:00", "13:00", requires_enrolment=True)
        db.session.commit()
        path = f"/testtag/programm/{workshop.id}"
    with client.session_transaction() as session:
        session["registered"] = {"event": "testtag"}
    pages = ("/testtag/", path, "/testtag/programm.ics", "/testtag/anmeldung")
    for address in (*pages, "/testtag/anmeldung/bestaetigt"):
        assert client.get(address).status_code == 200  # kept now
        with count_statements(app) as statements:
            page = client.get(address)
        assert page.status_code == 200
        assert len(statements) == 1, (address, statements)
    form = client.get("/testtag/anmeldung").get_data(as_text=True)
    assert "noch 5 Plätze frei" in form and "ohne Platzbegrenzung" in form


def test_form_lists_a_network_added_after_it_was_kept(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_event()
        db.session.add(Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt"))
        db.session.commit()
    assert "Fachkräftenetzwerk Altmark" in client.get("/testtag/anmeldung").text
    with app.app_context():
        db.session.add(Network(name="Netzwerk Uckermark", state="Brandenburg"))
        db.session.commit()
    assert '<option value="Netzwerk Uckermark">' in client.get("/testtag/anmeldung").text


def test_seat_texts_follow_each_visitors_language(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        event = make_event()
        make_activity(event, "Fachkräfte binden", "10:00", "11:30", capacity=1)
        make_activity(event, "Offen für alle", "12:00", "13:00", requires_enrolment=True)
        db.session.commit()
    german = app.test_client()
    for _ in range(2):
        assert "noch 1 Platz frei" in german.get("/testtag/anmeldung").text
        client.get("/sprache/en")
        english = client.get("/testtag/anmeldung").text
        assert "1 seat left" in english and "no seat limit" in english
        assert "Platz" not in english
        client.get("/sprache/de")
        assert "ohne Platzbegrenzung" in client.get("/testtag/anmeldung").text


def test_kept_page_answers_carry_one_set_of_headers_and_leave_the_date_to_the_server(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_event()
        db.session.commit()
    client.get("/testtag/")
    for _ in range(2):
        answer = client.get("/testtag/")
        headers = answer.headers
        assert answer.status_code == 200 and "Testtag" in answer.text
        assert headers.getlist("ETag") == [headers["ETag"]] and headers["ETag"].startswith('"')
        assert headers.getlist("Cache-Control") == ["no-cache"]
        assert headers.getlist("Vary") == ["Cookie"]
        assert headers["Content-Length"] == str(len(answer.data))
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        # The server adds the Date; a second one from the app would make the answer invalid.
        assert "Date" not in headers
    tag = headers["ETag"]
    assert client.get("/testtag/", headers={"If-None-Match": tag}).status_code == 304
    assert client.get("/testtag/", headers={"If-None-Match": '"anderes"'}).status_code == 200
    assert client.get("/testtag/", headers={"If-Match": '"anderes"'}).status_code == 412


def test_pages_show_a_seat_moved_from_one_workshop_to_another(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        event = make_event()
        room = make_room(event, "Raum 1", 30)
        first = make_activity(event, "Erster", "10:00", "11:00", room, capacity=5)
        second = make_activity(event, "Zweiter", "10:00", "11:00", room, capacity=5)
        claim_seat(Activity, first.id)
        db.session.commit()
        ids = first.id, second.id
    pages = [f"/testtag/programm/{activity_id}" for activity_id in ids]
    assert "noch 4 Plätze frei" in client.get(pages[0]).text
    assert "noch 5 Plätze frei" in client.get(pages[1]).text
    # A participant changes workshops: one seat freed, one taken, the total as it was.
    with app.app_context():
        release_seat(Activity, ids[0])
        claim_seat(Activity, ids[1])
        db.session.commit()
    assert "noch 5 Plätze frei" in client.get(pages[0]).text
    assert "noch 4 Plätze frei" in client.get(pages[1]).text
