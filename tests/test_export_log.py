"""The export log: every organiser export is written down (who, when, from where, what)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import ExportKind, ExportLog, Organiser
from eventapp.services.audit import export_log
from eventapp.timezones import utcnow
from tests.conftest import login
from tests.factories import make_event, make_organiser, make_registration

SPOOFED = {"X-Forwarded-For": "203.0.113.9"}


def seed(app: Flask) -> int:
    """Create an event with three registrations, a staff, a desk and an admin account."""
    with app.app_context():
        event = make_event(title="Innovationstag 2026")
        make_registration(event, "Erika", "Mustermann")
        make_registration(event, "Max", "Muster")
        make_registration(event, "Petra", "Privat")
        make_organiser("staff@example.org", "staff-password-1", role="staff")
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        make_organiser("admin@example.org", "admin-password-1", role="admin")
        db.session.commit()
        return event.id


def entries(app: Flask) -> list[ExportLog]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ExportLog).order_by(ExportLog.id)))
        db.session.expunge_all()
        return found


def download(client: FlaskClient, url: str, **kwargs: Any) -> Any:
    """GET a download, read and close it."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_spreadsheet_exports_are_logged_with_the_real_client(
    app: Flask, client: FlaskClient
) -> None:
    event_id = seed(app)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"  # every request via the proxy
    login(client, "staff@example.org", "staff-password-1")
    url = f"/organisation/veranstaltungen/{event_id}/anmeldungen/export"
    before = utcnow()
    assert download(client, url + ".csv?q=erika").status_code == 200
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.10"  # a new address: log in again
    assert download(client, url + ".xlsx").status_code == 302
    login(client, "staff@example.org", "staff-password-1")
    assert download(client, url + ".xlsx").status_code == 200
    csv_entry, xlsx_entry = entries(app)
    assert csv_entry.organiser_email == "staff@example.org"
    assert csv_entry.kind == ExportKind.REGISTRATIONS_CSV
    assert csv_entry.event_id == event_id
    assert csv_entry.row_count == 1
    assert csv_entry.detail == "q=erika"
    assert csv_entry.client_address == "203.0.113.9"
    assert before - timedelta(seconds=1) <= csv_entry.created_at <= utcnow()
    assert xlsx_entry.kind == ExportKind.REGISTRATIONS_XLSX and xlsx_entry.row_count == 3
    assert xlsx_entry.client_address == "203.0.113.10"


def test_spoofed_forwarded_for_is_not_logged_and_keeps_the_login(
    app: Flask, client: FlaskClient
) -> None:
    event_id = seed(app)
    login(client, "staff@example.org", "staff-password-1")
    url = f"/organisation/veranstaltungen/{event_id}/anmeldungen/export.csv"
    assert download(client, url, headers=SPOOFED).status_code == 200
    (entry,) = entries(app)
    assert entry.client_address == "127.0.0.1"


def test_print_downloads_and_desk_badges_are_logged(app: Flask, client: FlaskClient) -> None:
    event_id = seed(app)
    login(client, "staff@example.org", "staff-password-1")
    started = client.post(
        f"/organisation/veranstaltungen/{event_id}/druck/namensschilder",
        data={"layout": "a4-10", "selection": "all", "role": "participant", "sort": "name",
              "lang": "de"},
    )  # fmt: skip
    assert started.status_code == 302
    assert entries(app) == []  # starting a job is no export; taking the file is
    assert download(client, started.location + "/datei").status_code == 200
    client.post("/organisation/abmelden")
    login(client, "desk@example.org", "desk-password-1")
    with app.app_context():
        registration_id = db.session.scalars(sa.text("SELECT min(id) FROM registration")).one()
    started = client.post(
        f"/organisation/einlass/{event_id}/schild",
        data={"registration_id": registration_id, "layout": "id1"},
    )
    ready = client.get(started.headers["Location"])
    assert len(entries(app)) == 1  # printing and waiting is no export yet
    badge = download(client, ready.headers["Location"])
    assert badge.mimetype == "application/pdf"
    sheets, single = entries(app)
    assert (sheets.kind, sheets.organiser_email) == ("badges", "staff@example.org")
    assert sheets.detail.endswith(".pdf") and sheets.row_count == 3
    assert (single.kind, single.organiser_email) == ("single_badge", "desk@example.org")
    assert single.row_count == 1


def test_admins_see_the_log_and_no_one_else(app: Flask, client: FlaskClient) -> None:
    event_id = seed(app)
    with app.app_context():
        staff = db.session.scalar(sa.select(Organiser).where(Organiser.role == "staff"))
        export_log.record_export(
            staff, ExportKind.REGISTRATIONS_CSV, "192.0.2.1", row_count=7, detail="status=x"
        )
        db.session.commit()
    assert client.get("/organisation/protokoll/exporte").status_code == 302
    login(client, "staff@example.org", "staff-password-1")
    assert client.get("/organisation/protokoll/exporte").status_code == 403
    assert "Exportprotokoll" not in client.get("/organisation/").get_data(as_text=True)
    client.post("/organisation/abmelden")
    login(client, "admin@example.org", "admin-password-1")
    assert "Exportprotokoll" in client.get("/organisation/").get_data(as_text=True)
    download(client, f"/organisation/veranstaltungen/{event_id}/anmeldungen/export.csv")
    page = client.get("/organisation/protokoll/exporte")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "staff@example.org" in text and "192.0.2.1" in text
    assert "Anmeldeliste (CSV)" in text and "status=x" in text
    assert text.index("admin@example.org</td>") < text.index("staff@example.org</td>")
    assert "Innovationstag 2026" in text


def test_log_page_keeps_to_a_fixed_number_of_queries(app: Flask, client: FlaskClient) -> None:
    seed(app)
    with app.app_context():
        staff = db.session.scalar(sa.select(Organiser).where(Organiser.role == "staff"))
        events = [make_event(f"tag-{n}") for n in range(5)]
        for n in range(40):
            export_log.record_export(staff, ExportKind.BADGES, "192.0.2.1", events[n % 5])
        db.session.commit()
    login(client, "admin@example.org", "admin-password-1")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/organisation/protokoll/exporte").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 4
