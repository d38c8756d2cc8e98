"""Organiser registration pages: list and filter, waiting lists, promote, on-behalf, exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from eventapp.extensions import db
from eventapp.models import Enrolment, EnrolmentStatus, Registration, RegistrationStatus
from eventapp.services.registration import registrations as service
from tests.factories import make_activity, make_event
from tests.helpers.participants import person


@pytest.fixture
def filled(app: Flask) -> dict[str, Any]:
    """An event with a 2-seat workshop, two confirmed and two waiting."""
    with app.app_context():
        event = make_event()
        workshop = make_activity(event, "Fachkräfte sichern", capacity=2)
        for i in range(4):
            service.register(event, person(i, organisation=f"Kammer {i}"), [workshop.id])
        service.register(
            event,
            person(9, last_name='=HYPERLINK("http://x")', organisation="Müller & Söhne"),
            [],
        )
        db.session.commit()
        return {"event": event.id, "workshop": workshop.id}


def base(ids: dict[str, Any]) -> str:
    return f"/organisation/veranstaltungen/{ids['event']}/anmeldungen"


def test_list_needs_login(client: FlaskClient, filled: dict) -> None:
    assert client.get(base(filled) + "/").status_code == 302


def test_list_search_and_filter(staff_client: FlaskClient, filled: dict) -> None:
    page = staff_client.get(base(filled) + "/?q=kammer%202").get_data(as_text=True)
    assert "Nachname2" in page and "Nachname1" not in page
    page = staff_client.get(base(filled) + f"/?angebot={filled['workshop']}").get_data(as_text=True)
    assert "Nachname3" in page and "Söhne" not in page
    page = staff_client.get(base(filled) + "/?status=cancelled").get_data(as_text=True)
    assert "Keine Anmeldungen gefunden." in page


def test_list_query_count_does_not_grow_with_rows(
    staff_client: FlaskClient, filled: dict, app: Flask
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    staff_client.get(base(filled) + "/")
    few = len(statements)
    with app.app_context():
        event = db.session.get(Registration, 1).event
        workshop_id = filled["workshop"]
        for i in range(20, 60):
            service.register(event, person(i), [workshop_id])
        db.session.commit()
    statements.clear()
    staff_client.get(base(filled) + "/")
    sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == few


def test_activity_page_shows_lines_and_promotes_on_capacity(
    staff_client: FlaskClient, filled: dict, app: Flask
) -> None:
    url = base(filled) + f"/angebote/{filled['workshop']}"
    page = staff_client.get(url).get_data(as_text=True)
    assert "Warteliste</h2>" not in page or "Nachname2" in page
    response = staff_client.post(url, data={"action": "capacity", "capacity": "1"})
    assert response.status_code == 400
    assert "nicht unter diese Zahl" in response.get_data(as_text=True)
    response = staff_client.post(url, data={"action": "capacity", "capacity": "3"})
    assert response.status_code == 302
    with app.app_context():
        third = db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Nachname2")
        )
        assert third.enrolments[0].status == EnrolmentStatus.CONFIRMED


def test_promote_by_hand_only_with_free_seat(
    staff_client: FlaskClient, filled: dict, app: Flask
) -> None:
    url = base(filled) + f"/angebote/{filled['workshop']}"
    with app.app_context():
        last = db.session.scalar(
            sa.select(Enrolment)
            .where(Enrolment.status == EnrolmentStatus.WAITLISTED)
            .order_by(Enrolment.id.desc())
        )
        last_id = last.id
    response = staff_client.post(url, data={"action": "promote", "enrolment_id": str(last_id)})
    assert response.status_code == 400
    assert "kein Platz frei" in response.get_data(as_text=True)


def test_on_behalf_registration_ignores_capacity(
    staff_client: FlaskClient, filled: dict, app: Flask
) -> None:
    data = {
        "first_name": "Hubertus",
        "last_name": "Heil",
        "organisation": "Bundesministerium",
        "state": "Berlin",
        "email": "minister@example.org",
        "role": "vip",
        "language": "de",
        "privacy_consent": "y",
        f"slot-{filled['workshop']}": str(filled["workshop"]),
    }
    response = staff_client.post(base(filled) + "/neu", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        vip = db.session.scalar(
            sa.select(Registration).where(Registration.email == "minister@example.org")
        )
        assert vip.added_by_organiser and vip.status == RegistrationStatus.CONFIRMED
        assert (
            vip.enrolments[0].status == EnrolmentStatus.CONFIRMED
            and vip.enrolments[0].over_capacity
        )


def test_cancel_by_organiser_promotes(staff_client: FlaskClient, filled: dict, app: Flask) -> None:
    with app.app_context():
        first = db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Nachname0")
        )
        first_id = first.id
    response = staff_client.post(base(filled) + f"/{first_id}/stornieren")
    assert response.status_code == 302
    with app.app_context():
        third = db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Nachname2")
        )
        assert third.enrolments[0].status == EnrolmentStatus.CONFIRMED


def test_edit_registration_keeps_choices(
    staff_client: FlaskClient, filled: dict, app: Flask
) -> None:
    with app.app_context():
        first = db.session.scalar(
            sa.select(Registration).where(Registration.last_name == "Nachname0")
        )
        first_id = first.id
        first.badge_printed_at = first.created_at  # printed before the name was corrected
        db.session.commit()
    url = base(filled) + f"/{first_id}"
    page = staff_client.get(url).get_data(as_text=True)
    assert 'value="Vorname0"' in page and "checked" in page
    data = {
        "first_name": "Vorname0",
        "last_name": "Neuname",
        "organisation": "Kammer 0",
        "state": "Bayern",
        "email": "person0@example.org",
        "role": "speaker",
        "language": "en",
        "privacy_consent": "y",
        "organiser_notes": "spricht um 10 Uhr",
        f"slot-{filled['workshop']}": str(filled["workshop"]),
    }
    response = staff_client.post(url, data=data, follow_redirects=True)
    assert "kommt mit den geänderten Angaben in den nächsten Druck" in response.text
    with app.app_context():
        first = db.session.get(Registration, first_id)
        assert first.last_name == "Neuname" and first.role == "speaker"
        assert first.badge_printed_at is None
        assert first.organiser_notes == "spricht um 10 Uhr"
        assert first.enrolments[0].status == EnrolmentStatus.CONFIRMED


def test_csv_export_umlauts_and_formula_neutralised(
    staff_client: FlaskClient, filled: dict
) -> None:
    response = staff_client.get(base(filled) + "/export.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Nachname"
    values = [cell for row in rows for cell in row]
    assert "Müller & Söhne" in values
    assert '\'=HYPERLINK("http://x")' in values
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)


def test_xlsx_export_has_no_formulas(staff_client: FlaskClient, filled: dict) -> None:
    response = staff_client.get(base(filled) + "/export.xlsx?q=söhne")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == '\'=HYPERLINK("http://x")'
    assert rows[1][4] == "Müller & Söhne"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_activities_overview_explains_network_limit(
    staff_client: FlaskClient, filled: dict, app: Flask
) -> None:
    with app.app_context():
        registration = db.session.get(Registration, 1)
        registration.event.per_network_limit = 3
        db.session.commit()
    page = staff_client.get(base(filled) + "/angebote").get_data(as_text=True)
    assert "höchstens 3 Personen bestätigt" in page
    assert "Fachkräfte sichern" in page
