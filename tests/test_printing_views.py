"""Print pages, background print jobs, the public programme PDF and the badge desk."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Event, PrintJob, PrintJobStatus, Registration, RegistrationStatus
from eventapp.services.printing import jobs as print_jobs
from eventapp.timezones import utcnow
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_registration, make_room
from tests.helpers.system import PDF_OUTPUT
from tests.pdf_reading import page_sizes_mm, qr_codes, reader

pytestmark = pytest.mark.system(*PDF_OUTPUT)


def seed(app: Flask, count: int = 3) -> dict[str, Any]:
    """Create an event with a room, an activity and some confirmed registrations."""
    with app.app_context():
        event = make_event(slug="tag", title="Innovationstag 2026")
        room = make_room(event, "Saal 1")
        make_activity(event, "Workshop Fachkräfte", room=room)
        people = [
            make_registration(event, f"Vorname{i}", f"Nachname{i}", organisation=f"Org {i}")
            for i in range(count)
        ]
        db.session.commit()
        return {"event_id": event.id, "ids": [p.id for p in people],
                "codes": [p.checkin_code for p in people]}  # fmt: skip


def fetch(client: FlaskClient, url: str) -> Any:
    """GET a file download and close it (send_file keeps the file open until closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def base(event_id: int) -> str:
    return f"/organisation/veranstaltungen/{event_id}/druck"


def test_badge_job_renders_marks_printed_and_can_be_undone(
    app: Flask, staff_client: FlaskClient
) -> None:
    data = seed(app)
    page = staff_client.get(base(data["event_id"]) + "/")
    assert page.status_code == 200
    assert "Namensschilder erstellen" in page.text
    response = staff_client.post(
        base(data["event_id"]) + "/namensschilder",
        data={"layout": "a4-10", "selection": "all", "role": "participant", "sort": "name",
              "lang": "de"},
    )  # fmt: skip
    assert response.status_code == 302
    job_page = staff_client.get(response.location)
    assert "fertig" in job_page.text and "data-running" not in job_page.text
    download = fetch(staff_client, response.location + "/datei")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert page_sizes_mm(download.data) == [(210.0, 297.0)]
    assert sorted(c.text for c in qr_codes(download.data)) == sorted(data["codes"])
    with app.app_context():
        printed = db.session.scalars(sa.select(Registration.badge_printed_at)).all()
        assert all(printed)
    undo = staff_client.post(response.location + "/zuruecknehmen", follow_redirects=True)
    assert "wieder als nicht gedruckt" in undo.text
    with app.app_context():
        assert not any(db.session.scalars(sa.select(Registration.badge_printed_at)).all())
    again = staff_client.post(response.location + "/zuruecknehmen", follow_redirects=True)
    assert "nichts zurückzunehmen" in again.text


def test_empty_selection_fails_with_a_message(app: Flask, staff_client: FlaskClient) -> None:
    data = seed(app, 1)
    response = staff_client.post(
        base(data["event_id"]) + "/namensschilder",
        data={"layout": "a6", "selection": "role", "role": "press", "sort": "name", "lang": "de"},
    )
    job_page = staff_client.get(response.location)
    assert "fehlgeschlagen" in job_page.text and "Auswahl ist leer" in job_page.text


def test_running_job_page_updates_its_status(app: Flask, staff_client: FlaskClient) -> None:
    data = seed(app, 1)
    with app.app_context():
        job = PrintJob(event_id=data["event_id"], kind="badges", parameters={"layout": "a4-10"},
                       status=PrintJobStatus.RUNNING, done=40, total=100)  # fmt: skip
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = staff_client.get(f"{base(data['event_id'])}/auftraege/{job_id}")
    assert "js/job-progress.js" in page.text and 'data-running="1"' in page.text
    assert 'http-equiv="refresh"' not in page.text
    assert '<progress max="100" value="40">' in page.text
    assert staff_client.get(f"{base(data['event_id'])}/auftraege/{job_id}/datei").status_code == 404
    with app.app_context():  # its worker died twice: the sweep gives it up
        job = db.session.get(PrintJob, job_id)
        job.heartbeat_at = utcnow() - timedelta(minutes=5)
        job.attempts = 2
        db.session.commit()
        assert print_jobs.recover_lost_jobs() == []
    lost = staff_client.get(f"{base(data['event_id'])}/auftraege/{job_id}")
    assert "unterbrochen" in lost.text and "data-running" not in lost.text


@pytest.mark.slow
def test_badge_job_started_from_the_form_gives_its_pdf(
    app: Flask, staff_client: FlaskClient
) -> None:
    data = seed(app, 4)
    response = staff_client.post(
        base(data["event_id"]) + "/namensschilder",
        data={"layout": "a4-4", "selection": "new", "role": "participant", "sort": "organisation",
              "lang": "en"},
    )  # fmt: skip
    assert response.status_code == 302
    job_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 90
    status = None
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(PrintJob, job_id)
            status = job.status
            db.session.remove()
        if status in {PrintJobStatus.DONE, PrintJobStatus.FAILED}:
            break
        time.sleep(0.5)
    assert status == PrintJobStatus.DONE
    download = fetch(staff_client, response.location + "/datei")
    assert page_sizes_mm(download.data) == [(210.0, 297.0)]
    assert "PARTICIPANT" in "".join(p.extract_text() for p in reader(download.data).pages)


def test_document_jobs_and_calibration(app: Flask, staff_client: FlaskClient) -> None:
    data = seed(app, 2)
    url = base(data["event_id"])
    for kind in ("programme", "sign_in_sheets", "door_signs"):
        response = staff_client.post(f"{url}/dokument/{kind}", data={"lang": "de"})
        assert response.status_code == 302, kind
        assert fetch(staff_client, response.location + "/datei").mimetype == "application/pdf"
    assert staff_client.post(f"{url}/dokument/poster", data={"lang": "de"}).status_code == 404
    with_checkins = staff_client.post(
        f"{url}/dokument/sign_in_sheets", data={"lang": "de", "with_checkins": "y"}
    )
    download = fetch(staff_client, with_checkins.location + "/datei")
    assert "Anwesend" in "".join(p.extract_text() for p in reader(download.data).pages)
    assert "mit Anwesenheit" in staff_client.get(with_checkins.location).text

    saved = staff_client.post(
        f"{url}/kalibrierung", data={"layout": "a4-10", "x_mm": "1,5", "y_mm": "-2"},
        follow_redirects=True,
    )  # fmt: skip
    assert "gespeichert" in saved.text
    wrong = staff_client.post(
        f"{url}/kalibrierung", data={"layout": "a4-10", "x_mm": "50", "y_mm": "x"}
    )
    assert wrong.status_code == 400 and "error-summary" in wrong.text
    test_page = staff_client.get(f"{url}/kalibrierung/a4-10.pdf")
    assert test_page.mimetype == "application/pdf"
    assert page_sizes_mm(test_page.data) == [(210.0, 297.0)]
    assert "rechts 1,5 mm" in reader(test_page.data).pages[0].extract_text()
    assert staff_client.get(f"{url}/kalibrierung/a3.pdf").status_code == 404


def test_public_programme_pdf_is_cached_and_only_for_published_events(
    app: Flask, client: FlaskClient
) -> None:
    seed(app, 0)
    first = fetch(client, "/tag/programm.pdf?lang=en")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert reader(first.data).trailer["/Root"]["/Lang"] == "en"
    assert fetch(client, "/tag/programm.pdf?lang=xx").status_code == 200
    assert client.get("/nope/programm.pdf").status_code == 404
    with app.app_context():
        event = db.session.scalar(sa.select(make_event.__globals__["Event"]))
        event.published = False
        db.session.commit()
    assert client.get("/tag/programm.pdf").status_code == 404


def test_checkin_role_uses_desk_but_not_print_pages(app: Flask, client: FlaskClient) -> None:
    data = seed(app, 3)
    with app.app_context():
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        other = db.session.get(Registration, data["ids"][2])
        other.status = RegistrationStatus.CANCELLED
        db.session.commit()
    login(client, "desk@example.org", "desk-password-1")
    assert client.get(base(data["event_id"]) + "/").status_code == 403
    desk = f"/organisation/einlass/{data['event_id']}/"
    by_code = client.get(desk, query_string={"q": data["codes"][1].lower()})
    assert "Vorname1 Nachname1" in by_code.text and "Vorname0" not in by_code.text
    by_org = client.get(desk, query_string={"q": "org"})
    assert by_org.text.count("Einchecken<span") == 2  # the cancelled one cannot be checked in
    checked = client.post(
        desk + "einchecken", data={"registration_id": data["ids"][0], "q": "org"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Eingecheckt" in checked.text and "answer-ok" in checked.text
    twice = client.post(desk + "einchecken", data={"registration_id": data["ids"][0]},
                        follow_redirects=True)  # fmt: skip
    assert "Schon eingecheckt" in twice.text
    refused = client.post(desk + "einchecken", data={"registration_id": data["ids"][2]},
                          follow_redirects=True)  # fmt: skip
    assert "Anmeldung storniert" in refused.text
    # A single badge prints through the worker; the desk opens its PDF once it is ready.
    started = client.post(
        desk + "schild", data={"registration_id": data["ids"][1], "layout": "id1"}
    )
    waiting = started.headers["Location"]
    shown = client.get(waiting)
    assert shown.status_code == 302
    badge = client.get(shown.headers["Location"])
    assert badge.mimetype == "application/pdf"
    assert page_sizes_mm(badge.data) == [(85.6, 54.0)]
    assert [c.text for c in qr_codes(badge.data, dpi=300)] == [data["codes"][1]]
    with app.app_context():
        assert db.session.get(Registration, data["ids"][1]).badge_printed_at is not None
        assert db.session.get(Registration, data["ids"][0]).checked_in_at is not None
        batch = print_jobs.create_job(db.session.get(Event, data["event_id"]), "badges", {}, None)
        db.session.commit()
        batch_id = batch.id
    # The desk opens single badges only, never a whole batch with everyone's details.
    assert client.get(f"{desk}schilder/{batch_id}/datei").status_code == 404
    assert client.get(desk, query_string={"q": "x" * 200}).status_code == 200
