"""The import pages: upload, preview of every row, confirmation (all or nothing), owners only.

The worker runs the preview and the import; tests run its tasks at once, so each step is done
by the time the page is fetched again.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    ImportStatus,
    OutboxMail,
    PendingImport,
    Registration,
)
from eventapp.timezones import utcnow
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser

GOOD = (
    "Vorname;Nachname;E-Mail;Organisation;Bundesland;Workshops\r\n"
    "Jürgen;Groß;juergen@example.org;Handwerkskammer Köln;NRW;Ausbildung digital\r\n"
    "Änne;Weiß;aenne@example.org;IHK Potsdam;Brandenburg;Ausbildung digital\r\n"
)


@pytest.fixture
def event_id(app: Flask) -> int:
    with app.app_context():
        event = make_event()
        make_activity(event, "Ausbildung digital", capacity=1, requires_enrolment=True)
        db.session.commit()
        return event.id


def upload(
    client: FlaskClient,
    event_id: int,
    content: bytes,
    name: str = "liste.csv",
    kind: str = "participants",
) -> object:
    return client.post(
        f"/organisation/veranstaltungen/{event_id}/import/",
        data={"kind": kind, "consent": "y", "datei": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def preview_path(response: object) -> str:
    location = response.headers["Location"]  # type: ignore[attr-defined]
    assert re.search(r"/import/\d+$", location), location
    return location


def count(model: type) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_upload_preview_confirm_with_mails(app: Flask, staff_client: FlaskClient, event_id: int):
    page = staff_client.get(f"/organisation/veranstaltungen/{event_id}/import/")
    assert page.status_code == 200
    assert "Referent*innen" in page.get_data(as_text=True)  # the accepted columns are listed
    response = upload(staff_client, event_id, GOOD.encode("cp1252"))
    assert response.status_code == 302
    path = preview_path(response)
    page = staff_client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Windows-1252" in html and "Jürgen Groß" in html
    assert "„Ausbildung digital“: Warteliste, Platz 1" in html
    assert "Bestätigungsmail senden" in html
    with app.app_context():
        assert count(Registration) == 0  # the preview keeps nothing
    response = staff_client.post(path, data={"send_mail": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(path)
    html = staff_client.get(path).get_data(as_text=True)
    assert "Import abgeschlossen: 2 neu, 0 geändert, 0 unverändert." in html
    assert f"/veranstaltungen/{event_id}/anmeldungen/" in html
    assert "Zeilen importieren" not in html
    with app.app_context():
        assert count(Registration) == 2
        stored = db.session.scalar(sa.select(PendingImport))
        assert stored.status == ImportStatus.IMPORTED and stored.content == b""
        statuses = db.session.scalars(
            sa.select(Enrolment.status).order_by(Enrolment.queued_at, Enrolment.id)
        ).all()
        assert statuses == [EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]
        recipients = db.session.scalars(sa.select(OutboxMail.recipient)).all()
        assert sorted(recipients) == ["aenne@example.org", "juergen@example.org"]
    assert staff_client.post(path, data={"send_mail": "y"}).status_code == 400  # not twice
    with app.app_context():
        assert count(Registration) == 2


def test_confirm_without_mail_sends_none(app: Flask, staff_client: FlaskClient, event_id: int):
    path = preview_path(upload(staff_client, event_id, GOOD.encode("utf-8-sig")))
    assert staff_client.post(path, data={}).status_code == 302
    with app.app_context():
        assert count(Registration) == 2
        assert count(OutboxMail) == 0


def test_errors_block_the_import_and_html_is_escaped(
    app: Flask, staff_client: FlaskClient, event_id: int
):
    bad = GOOD + "<b>Fett</b>;<script>alert(1)</script>;kaputt;IHK;Berlin;\r\n"
    path = preview_path(upload(staff_client, event_id, bad.encode()))
    html = staff_client.get(path).get_data(as_text=True)
    assert "1 Zeile lässt sich nicht importieren" in html
    assert 'href="#zeile-4"' in html
    assert "E-Mail: Bitte geben Sie eine gültige E-Mail-Adresse ein" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Zeilen importieren" not in html  # no confirm button
    response = staff_client.post(path, data={"send_mail": "y"})
    assert response.status_code == 400
    assert "Es wurde nichts importiert" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Registration) == 0
        assert count(OutboxMail) == 0


def test_confirm_checks_again_what_changed_since_the_preview(
    app: Flask, staff_client: FlaskClient, event_id: int
):
    path = preview_path(upload(staff_client, event_id, GOOD.encode()))
    assert "Zeilen importieren" in staff_client.get(path).get_data(as_text=True)
    with app.app_context():
        activity = db.session.scalar(sa.select(Activity))
        activity.cancelled = True  # no longer offered
        db.session.commit()
    response = staff_client.post(path, data={})
    assert response.status_code == 302  # the worker checks every row again, and refuses
    html = staff_client.get(path).get_data(as_text=True)
    assert "seit der Vorschau geändert" in html
    assert "Zeilen importieren" not in html
    assert "„Ausbildung digital“ gibt es bei dieser Veranstaltung nicht zur Anmeldung" in html
    with app.app_context():
        assert count(Registration) == 0
        assert db.session.scalar(sa.select(PendingImport.status)) == ImportStatus.PREVIEWED


def test_another_organisers_or_an_expired_upload_is_not_found(
    app: Flask, client: FlaskClient, event_id: int
):
    with app.app_context():
        make_organiser("eins@example.org", "passwort-eins-1")
        make_organiser("zwei@example.org", "passwort-zwei-2")
        db.session.commit()
    login(client, "eins@example.org", "passwort-eins-1")
    path = preview_path(upload(client, event_id, GOOD.encode()))
    client.post("/organisation/abmelden")
    login(client, "zwei@example.org", "passwort-zwei-2")
    assert client.get(path).status_code == 404
    assert client.post(path, data={}).status_code == 404
    assert client.post(f"{path}/verwerfen", data={}).status_code == 404
    other_event = path.replace(f"/veranstaltungen/{event_id}/", "/veranstaltungen/999999/")
    assert client.get(other_event).status_code == 404
    client.post("/organisation/abmelden")
    login(client, "eins@example.org", "passwort-eins-1")
    assert client.get(path).status_code == 200
    with app.app_context():
        db.session.execute(sa.update(PendingImport).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    assert client.get(path).status_code == 404
    with app.app_context():
        from eventapp.services.imports import pending

        assert pending.expire() == 1
        db.session.commit()


def test_discard_forgets_the_upload(app: Flask, staff_client: FlaskClient, event_id: int):
    path = preview_path(upload(staff_client, event_id, GOOD.encode()))
    response = staff_client.post(f"{path}/verwerfen", data={})
    assert response.status_code == 302
    with app.app_context():
        assert count(PendingImport) == 0


@pytest.mark.parametrize(
    ("content", "name", "kind", "message"),
    [
        (b"\x00\x01\x02binary\xff\xfe\x00", "daten.csv", "participants", "keine Tabelle"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "alt.xls", "people", "(.xls)"),
        (b"PK\x03\x04garbage", "kaputt.xlsx", "programme", "beschädigt"),
        (b"Vorname;Nachname\nA;B\n", "liste.csv", "participants", "„E-Mail“"),
        (b"Titel;Beginn\nA;09:00\n", "p.csv", "programme", "„Ende“"),
        (b"", "", "participants", "Bitte wählen Sie eine Datei aus."),
    ],
)
def test_unreadable_uploads_get_a_message(
    app: Flask,
    staff_client: FlaskClient,
    event_id: int,
    content: bytes,
    name: str,
    kind: str,
    message: str,
):
    response = upload(staff_client, event_id, content, name, kind)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert count(PendingImport) == 0


def test_upload_form_errors_and_a_huge_file(staff_client: FlaskClient, event_id: int):
    path = f"/organisation/veranstaltungen/{event_id}/import/"
    response = staff_client.post(path, data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Bitte wählen Sie, was die Datei enthält." in html
    response = staff_client.post(
        path,
        data={"kind": "participants", "datei": (io.BytesIO(GOOD.encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "den Datenschutzhinweisen zugestimmt haben" in response.get_data(as_text=True)
    huge = io.BytesIO(b"Name;E-Mail\n" + b"x" * (6 * 1024 * 1024))
    environ = EnvironBuilder(
        path=path,
        method="POST",
        data={"kind": "people", "datei": (huge, "gross.csv")},
        content_type="multipart/form-data",
    ).get_environ()
    try:
        response = staff_client.open(environ)
    finally:
        environ["wsgi.input"].close()  # the test client leaves a large body's file open
    assert response.status_code == 413
    assert "größer als 5 MB" in response.get_data(as_text=True)


def test_files_are_still_refused_elsewhere(staff_client: FlaskClient, event_id: int):
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/raeume",
        data={"name": "Saal", "datei": (io.BytesIO(b"x"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Dieses Formular nimmt keine Dateien an." in response.get_data(as_text=True)


def test_check_in_staff_cannot_import(app: Flask, client: FlaskClient, event_id: int):
    with app.app_context():
        make_organiser("desk@example.org", "passwort-desk-1", role="checkin")
        db.session.commit()
    login(client, "desk@example.org", "passwort-desk-1")
    assert client.get(f"/organisation/veranstaltungen/{event_id}/import/").status_code == 403


def test_programme_import_through_the_pages(app: Flask, staff_client: FlaskClient, event_id: int):
    text = "Titel;Art;Beginn;Ende\nMittagspause;Pause;12:00;13:00\n"
    path = preview_path(upload(staff_client, event_id, text.encode(), "p.csv", "programme"))
    assert "Bestätigungsmail" not in staff_client.get(path).get_data(as_text=True)
    response = staff_client.post(path, data={})
    assert response.status_code == 302
    html = staff_client.get(path).get_data(as_text=True)
    assert f'href="/organisation/veranstaltungen/{event_id}/programm"' in html
    with app.app_context():
        assert count(Activity) == 2


def test_an_unfinished_run_shows_its_progress(app: Flask, staff_client: FlaskClient, event_id: int):
    path = preview_path(upload(staff_client, event_id, GOOD.encode()))
    with app.app_context():
        db.session.execute(
            sa.update(PendingImport).values(
                status=ImportStatus.PREVIEWING, done=340, total=1000, heartbeat_at=utcnow()
            )
        )
        db.session.commit()
    page = staff_client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Zeile 340 von 1.000 geprüft" in html
    assert "job-progress.js" in html and 'data-running="1"' in html
    assert f'href="{path}"' in html  # "Aktualisieren" without JavaScript
    assert "Zeilen importieren" not in html
    response = staff_client.post(path, data={})  # not previewed yet: nothing to confirm
    assert response.status_code == 400
    with app.app_context():
        db.session.execute(
            sa.update(PendingImport).values(status=ImportStatus.IMPORTING, done=12, total=1000)
        )
        db.session.commit()
    html = staff_client.get(path).get_data(as_text=True)
    assert "Zeile 12 von 1.000 importiert" in html
    assert staff_client.post(f"{path}/verwerfen", data={}).status_code == 302
    with app.app_context():
        assert count(PendingImport) == 1  # a running import is not discarded
        assert count(Registration) == 0


def test_the_sweep_recovers_a_run_whose_worker_died(
    app: Flask, staff_client: FlaskClient, event_id: int
):
    from eventapp.services.imports import jobs

    path = preview_path(upload(staff_client, event_id, GOOD.encode()))
    lost = utcnow() - jobs.LOST_AFTER - timedelta(seconds=5)
    with app.app_context():
        stored = db.session.scalar(sa.select(PendingImport))
        assert stored.status == ImportStatus.PREVIEWED and stored.attempts == 1
        db.session.execute(
            sa.update(PendingImport).values(
                status=ImportStatus.IMPORTING, heartbeat_at=lost, attempts=1, done=1, total=2
            )
        )
        db.session.commit()
        assert jobs.recover_lost() == [("run_import", stored.id)]
        assert jobs.recover_lost() == []  # taken once
        jobs.run_confirmed_import(stored.id)  # the queued task, as the sweep queues it
        db.session.expire_all()
        assert db.session.get(PendingImport, stored.id).status == ImportStatus.IMPORTED
        assert count(Registration) == 2
    # A second death gives the run up with a reason; nothing of it was kept.
    path = preview_path(upload(staff_client, event_id, GOOD.encode()))
    with app.app_context():
        newest = db.session.scalar(sa.select(sa.func.max(PendingImport.id)))
        db.session.execute(
            sa.update(PendingImport)
            .where(PendingImport.id == newest)
            .values(status=ImportStatus.PREVIEWING, heartbeat_at=lost, attempts=2)
        )
        db.session.commit()
        app.extensions["task_queue"].enqueue("sweep")
        assert db.session.get(PendingImport, newest).status == ImportStatus.FAILED
    html = staff_client.get(path).get_data(as_text=True)
    assert "zweimal unterbrochen" in html and "data-running" not in html
