"""The check-in desk: scanning, search, counts, undo, desk names and walk-ins (without browser)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    Enrolment,
    EnrolmentStatus,
    OutboxMail,
    PrintJob,
    Registration,
    RegistrationStatus,
)
from eventapp.services.checkin import desk
from eventapp.timezones import utcnow
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_registration
from tests.helpers.system import PDF_OUTPUT
from tests.pdf_reading import page_sizes_mm, qr_codes

JSON = {"Accept": "application/json"}


def seed(app: Flask) -> dict[str, Any]:
    """An event with a workshop, four people (one cancelled, one waiting) and another event."""
    with app.app_context():
        event = make_event(slug="tag", title="Innovationstag 2026")
        other = make_event(slug="vorjahr", title="Innovationstag 2025")
        workshop = make_activity(event, "Workshop Fachkräfte", capacity=2)
        anna = make_registration(event, "Anna", "Müller", organisation="IHK Straßburg")
        bernd = make_registration(event, "Bernd", "Schulz", organisation="Agentur für Arbeit")
        gone = make_registration(event, "Carla", "Weg", status=RegistrationStatus.CANCELLED)
        waiting = make_registration(event, "Dora", "Warte", status=RegistrationStatus.WAITLISTED)
        old = make_registration(other, "Emil", "Alt")
        db.session.add(Enrolment(registration=anna, activity=workshop,
                                 status=EnrolmentStatus.CONFIRMED))  # fmt: skip
        workshop.seats_taken = 1
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
        return {
            "event_id": event.id,
            "workshop_id": workshop.id,
            "anna": anna.checkin_code,
            "anna_id": anna.id,
            "bernd": bernd.checkin_code,
            "gone": gone.checkin_code,
            "waiting": waiting.checkin_code,
            "old": old.checkin_code,
        }


def desk_client(client: FlaskClient) -> FlaskClient:
    login(client, "desk@example.org", "desk-password-1")
    return client


def test_scan_checks_in_at_once_and_answers_in_words(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    desk_client(client)
    url = f"/organisation/einlass/{data['event_id']}/"
    response = client.post(url + "scan", data={"code": f" {data['anna'].lower()} "})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Eingecheckt" in page.text and "Anna Müller" in page.text
    assert "IHK Straßburg" in page.text and "Workshop Fachkräfte" in page.text
    assert "answer-ok" in page.text
    assert "autofocus" in page.text and "1 von 2 eingecheckt" in page.text
    # The answer is shown once; the next page view is a fresh desk.
    assert "answer-ok" not in client.get(url).text
    with app.app_context():
        assert db.session.get(Registration, data["anna_id"]).checked_in_at is not None


def test_scan_answers_every_case_as_json(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    desk_client(client)
    scan = f"/organisation/einlass/{data['event_id']}/scan"
    client.post(f"/organisation/einlass/{data['event_id']}/platz", data={"desk_name": "Nord"})

    def outcome(code: str) -> tuple[str, str]:
        answer = client.post(scan, data={"code": code}, headers=JSON).get_json()
        return answer["outcome"], answer["html"]

    assert outcome(data["anna"])[0] == "checked_in"
    again, html = outcome(data["anna"])
    assert again == "already" and "am Platz „Nord“" in html
    assert outcome(data["gone"]) == ("cancelled", outcome(data["gone"])[1])
    assert "storniert" in outcome(data["gone"])[1]
    assert outcome(data["waiting"])[0] == "waitlisted"
    unknown, html = outcome("NICHTDA")
    assert unknown == "unknown" and "NICHTDA" in html
    other, html = outcome(data["old"])
    assert other == "other_event" and "Innovationstag 2025" in html and "Emil" not in html
    empty = client.post(scan, data={"code": ""}, headers=JSON)
    assert empty.status_code == 400


def test_undo_takes_back_this_desks_last_check_in(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    desk_client(client)
    base = f"/organisation/einlass/{data['event_id']}/"
    first = client.post(base + "scan", data={"code": data["anna"]}, headers=JSON).get_json()
    assert "Letzten Check-in zurücknehmen" in first["undo_html"]
    assert first["count"]["checked_in"] == 1
    undone = client.post(base + "zuruecknehmen", headers=JSON).get_json()
    assert undone["outcome"] == "undone" and undone["count"]["checked_in"] == 0
    assert undone["undo_html"].strip() == ""
    assert client.post(base + "zuruecknehmen", headers=JSON).status_code == 409
    with app.app_context():
        person = db.session.get(Registration, data["anna_id"])
        assert person.checked_in_at is None and person.checked_in_desk == ""
    # Without script: a plain form post and a redirect.
    client.post(base + "scan", data={"code": data["anna"]})
    assert client.post(base + "zuruecknehmen").status_code == 302
    assert "Check-in zurückgenommen" in client.get(base).text


def test_undo_leaves_a_later_check_in_at_another_desk(app: Flask) -> None:
    with app.app_context():
        event = make_event()
        person = make_registration(event)
        first = utcnow()
        assert desk.check_in(person, first, "Nord")
        desk.undo_check_in(person, first)
        second = utcnow()
        assert desk.check_in(person, second, "Süd")
        assert not desk.undo_check_in(person, first)
        assert person.checked_in_desk == "Süd"


def test_search_matches_german_spellings(app: Flask) -> None:
    with app.app_context():
        event = make_event()
        make_registration(event, "Anna", "Müller", organisation="IHK Straßburg")
        make_registration(event, "Jörg", "Schulz", organisation="Agentur für Arbeit")
        make_registration(event, "Samuel", "Weiß", organisation="Handwerkskammer")
        db.session.commit()

        def names(text: str) -> list[str]:
            return [r.last_name for r in desk.search(event, text)]

        for query in ("Müller", "mueller", "MULLER", "anna müll"):
            assert names(query) == ["Müller"], query
        assert names("strasse") == [] and names("strassb") == ["Müller"]
        assert names("joerg") == ["Schulz"] and names("Jorg schulz") == ["Schulz"]
        assert names("weiss") == ["Weiß"] and names("WEISS handwerk") == ["Weiß"]
        assert names("agentur arbeit") == ["Schulz"]
        assert names("niemand") == []


def test_search_results_carry_a_check_in_button(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    desk_client(client)
    base = f"/organisation/einlass/{data['event_id']}/"
    found = client.get(base, query_string={"q": "mueller"})
    assert "Anna Müller" in found.text and found.text.count("Einchecken<span") == 1
    form = {"registration_id": data["anna_id"], "q": "mueller"}
    checked = client.post(base + "einchecken", data=form, follow_redirects=True)
    assert "Eingecheckt" in checked.text and "Einchecken<span" not in checked.text


def test_counts_endpoint(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    desk_client(client)
    base = f"/organisation/einlass/{data['event_id']}/"
    assert client.get(base + "stand.json").get_json() == {
        "checked_in": 0, "expected": 2, "text": "0 von 2 eingecheckt"}  # fmt: skip
    client.post(base + "scan", data={"code": data["bernd"]})
    assert client.get(base + "stand.json").get_json()["checked_in"] == 1


@pytest.mark.system(*PDF_OUTPUT)
def test_walk_in_is_registered_checked_in_and_badge_printed(
    app: Flask, client: FlaskClient
) -> None:
    data = seed(app)
    desk_client(client)
    base = f"/organisation/einlass/{data['event_id']}/"
    form = client.get(base + "spontan")
    assert form.status_code == 200 and "Workshop Fachkräfte (1 frei)" in form.text
    response = client.post(base + "spontan", data={
        "first_name": "Fritz", "last_name": "Spontan", "organisation": "Jobcenter Halle",
        "role": "participant", "activity": str(data["workshop_id"]), "layout": "id1",
        "lang": "de", "privacy_consent": "y",
    })  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Fritz Spontan" in page.text and "Namensschild öffnen" in page.text
    with app.app_context():
        person = db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Spontan")
        )
        assert person.checked_in_at is not None and not person.has_email
        assert [e.status for e in person.enrolments] == [EnrolmentStatus.CONFIRMED]
        job = db.session.scalar(sa.select(PrintJob))
        assert job.parameters["registration_id"] == person.id
        assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 0
        job_id = job.id
    # The workshop is now full: a second walk-in cannot take a seat, and nothing is stored.
    full = client.post(base + "spontan", data={
        "first_name": "Greta", "last_name": "Voll", "organisation": "Jobcenter Halle",
        "role": "participant", "activity": str(data["workshop_id"]), "layout": "a6",
        "lang": "de", "privacy_consent": "y", "email": "greta@example.org",
    })  # fmt: skip
    assert full.status_code == 400 and "voll" in full.text
    with app.app_context():
        assert db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Voll")) is None  # fmt: skip
    # The worker made the badge (tasks run right after the commit in tests): one ID-1 card
    # whose QR code holds the walk-in's check-in code, shown in the browser.
    status = client.get(f"{base}schilder/{job_id}.json").get_json()
    assert status["status"] == "done"
    assert client.get(f"{base}schilder/{job_id}").headers["Location"] == status["file"]
    pdf = client.get(status["file"])
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert page_sizes_mm(pdf.data) == [(85.6, 54.0)]
    with app.app_context():
        person = db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Spontan")
        )
        assert [c.text for c in qr_codes(pdf.data, dpi=300)] == [person.checkin_code]
        assert person.badge_printed_at is not None


def test_walk_in_needs_name_organisation_and_consent(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    desk_client(client)
    response = client.post(
        f"/organisation/einlass/{data['event_id']}/spontan", data={"role": "participant"}
    )
    assert response.status_code == 400
    assert "Bitte geben Sie den Vornamen ein." in response.text
    assert "Bitte bestätigen Sie die Zustimmung zum Datenschutz." in response.text
