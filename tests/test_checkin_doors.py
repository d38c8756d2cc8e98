"""Workshop doors: scan in, admit while seats are free, undo, counts and attendance figures."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    ExportLog,
    Registration,
    RegistrationStatus,
    WorkshopAttendance,
)
from eventapp.services.checkin import doors
from eventapp.services.checkin.attendance import attendance_by_activity
from eventapp.services.checkin.doors import DoorOutcome, SeatTaken
from eventapp.services.registration.data_copy import data_copy
from eventapp.timezones import utcnow
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_registration

JSON = {"Accept": "application/json"}


def seed(app: Flask) -> dict[str, Any]:
    """A workshop with 3 seats: Anna and Bernd confirmed, Dora waiting, Emil not enrolled."""
    with app.app_context():
        event = make_event(slug="tag", title="Innovationstag 2026")
        other = make_event(slug="vorjahr", title="Innovationstag 2025")
        workshop = make_activity(event, "Workshop Fachkräfte", capacity=3)
        talk = make_activity(event, "Plenum", requires_enrolment=False)
        people = {
            name: make_registration(event, name, last)
            for name, last in (("Anna", "Müller"), ("Bernd", "Schulz"), ("Dora", "Warte"),
                               ("Emil", "Neu"), ("Fritz", "Voll"))
        }  # fmt: skip
        people["Carla"] = make_registration(
            event, "Carla", "Weg", status=RegistrationStatus.CANCELLED
        )
        people["Gerd"] = make_registration(
            event, "Gerd", "Tag", status=RegistrationStatus.WAITLISTED
        )
        old = make_registration(other, "Olga", "Alt")
        for name, status in (("Anna", "confirmed"), ("Bernd", "confirmed"), ("Dora", "waitlisted")):
            db.session.add(Enrolment(registration=people[name], activity=workshop, status=status))
        workshop.seats_taken = 2
        make_organiser("door@example.org", "door-password-1", role="checkin")
        db.session.commit()
        ids = {
            "event_id": event.id,
            "workshop_id": workshop.id,
            "talk_id": talk.id,
            "old": old.checkin_code,
        }
        for name, person in people.items():
            ids[name] = person.checkin_code
            ids[f"{name}_id"] = person.id
        return ids


def door_url(ids: dict[str, Any], tail: str = "") -> str:
    return f"/organisation/einlass/{ids['event_id']}/workshops/{ids['workshop_id']}/{tail}"


def scan(client: FlaskClient, ids: dict[str, Any], code: str) -> dict[str, Any]:
    response = client.post(door_url(ids), data={"code": code}, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def test_door_scans_enrolled_admits_free_seat_and_undoes(client: FlaskClient, app: Flask) -> None:
    ids = seed(app)
    login(client, "door@example.org", "door-password-1")
    # The choice lists only activities with registration, with their counts.
    page = client.get(f"/organisation/einlass/{ids['event_id']}/workshops/").get_data(True)
    assert "Workshop Fachkräfte" in page and "Plenum" not in page
    assert "2 von 3 Plätzen, 0 anwesend" in page
    talk = f"/organisation/einlass/{ids['event_id']}/workshops/{ids['talk_id']}/"
    assert client.get(talk).status_code == 404

    first = scan(client, ids, ids["Anna"].lower())
    assert first["outcome"] == "admitted"
    assert "Angemeldet – eingelassen" in first["html"]
    assert first["count"]["text"] == "2 von 3 Plätzen, 1 anwesend"
    again = scan(client, ids, ids["Anna"])
    assert again["outcome"] == "already" and "Eingelassen um" in again["html"]
    with app.app_context():
        anna = db.session.get(Registration, ids["Anna_id"])
        attendance = db.session.scalar(sa.select(WorkshopAttendance))
        # Let in at the door, so checked in at the entrance too, at the same time.
        assert anna.checked_in_at == attendance.scanned_at
        assert attendance.desk == "Workshop Fachkräfte"  # no desk name, no room: the title

    waiting = scan(client, ids, ids["Dora"])
    assert waiting["outcome"] == "waitlisted"
    assert "Einlassen (Platz frei: 1)" in waiting["html"]
    admitted = client.post(
        door_url(ids, "einlassen"), data={"registration_id": ids["Dora_id"]}, headers=JSON
    ).get_json()
    assert admitted["outcome"] == "admitted" and "Von der Warteliste" in admitted["html"]
    assert admitted["count"]["text"] == "3 von 3 Plätzen, 2 anwesend"
    assert "Letzten Einlass zurücknehmen" in admitted["undo_html"]

    full = scan(client, ids, ids["Emil"])
    assert full["outcome"] == "full" and "Ausgebucht" in full["html"]
    refused = client.post(
        door_url(ids, "einlassen"), data={"registration_id": ids["Emil_id"]}, headers=JSON
    ).get_json()
    assert refused["outcome"] == "full"

    # Undo gives Dora's seat back and returns her to the waiting list.
    undone = client.post(door_url(ids, "zuruecknehmen"), headers=JSON).get_json()
    assert undone["outcome"] == "undone"
    assert undone["count"]["text"] == "2 von 3 Plätzen, 1 anwesend"
    with app.app_context():
        dora = db.session.scalar(sa.select(Enrolment).filter_by(registration_id=ids["Dora_id"]))
        assert dora.status == EnrolmentStatus.WAITLISTED
        assert db.session.get(Activity, ids["workshop_id"]).seats_taken == 2
        assert db.session.get(Registration, ids["Dora_id"]).checked_in_at is None
    nothing = client.post(door_url(ids, "zuruecknehmen"), headers=JSON)
    assert nothing.status_code == 409

    # Not enrolled with a seat free: admitted with a new confirmed seat.
    emil = scan(client, ids, ids["Emil"])
    assert emil["outcome"] == "not_enrolled" and "Einlassen (Platz frei: 1)" in emil["html"]
    client.post(door_url(ids, "einlassen"), data={"registration_id": ids["Emil_id"]})
    with app.app_context():
        enrolment = db.session.scalar(
            sa.select(Enrolment).filter_by(registration_id=ids["Emil_id"])
        )
        assert enrolment.status == EnrolmentStatus.CONFIRMED
        assert db.session.get(Activity, ids["workshop_id"]).seats_taken == 3


def test_door_refuses_cancelled_day_waitlisted_unknown_and_other_event(
    client: FlaskClient, app: Flask
) -> None:
    ids = seed(app)
    login(client, "door@example.org", "door-password-1")
    assert scan(client, ids, ids["Carla"])["outcome"] == "cancelled"
    assert scan(client, ids, ids["Gerd"])["outcome"] == "not_confirmed"
    unknown = scan(client, ids, "nichtda")
    assert unknown["outcome"] == "unknown" and "NICHTDA" in unknown["html"]
    other = scan(client, ids, ids["old"])
    assert other["outcome"] == "other_event" and "Innovationstag 2025" in other["html"]
    assert "Olga" not in other["html"]
    for person in ("Carla", "Gerd"):
        refused = client.post(
            door_url(ids, "einlassen"), data={"registration_id": ids[f"{person}_id"]}, headers=JSON
        ).get_json()
        assert refused["outcome"] in {"cancelled", "not_confirmed"}
    hostile = client.post(door_url(ids, "einlassen"), data={"registration_id": "x' OR 1"})
    assert hostile.status_code == 302
    empty = client.post(door_url(ids), data={"code": ""}, headers=JSON)
    assert empty.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WorkshopAttendance.id))) == 0


def test_door_works_without_script(client: FlaskClient, app: Flask) -> None:
    ids = seed(app)
    login(client, "door@example.org", "door-password-1")
    response = client.post(door_url(ids), data={"code": ids["Anna"]})
    assert response.status_code == 302 and response.location.endswith("#scan")
    page = client.get(door_url(ids)).get_data(as_text=True)
    assert "Angemeldet – eingelassen" in page and "Anna Müller" in page
    assert "2 von 3 Plätzen, 1 anwesend" in page
    assert "Letzten Einlass zurücknehmen" in page
    client.post(door_url(ids), data={"code": ids["Emil"]})
    page = client.get(door_url(ids)).get_data(as_text=True)
    assert "Nicht angemeldet" in page and "Einlassen (Platz frei: 1)" in page
    client.post(door_url(ids, "einlassen"), data={"registration_id": ids["Emil_id"]})
    page = client.get(door_url(ids)).get_data(as_text=True)
    assert "Der Platz wurde an der Tür vergeben." in page
    client.post(door_url(ids, "zuruecknehmen"))
    page = client.get(door_url(ids)).get_data(as_text=True)
    assert "Einlass zurückgenommen" in page
    with app.app_context():
        emil = db.session.scalar(sa.select(Enrolment).filter_by(registration_id=ids["Emil_id"]))
        assert emil.status == EnrolmentStatus.CANCELLED
        # The freed seat goes to the next in line, as any cancelled seat.
        dora = db.session.scalar(sa.select(Enrolment).filter_by(registration_id=ids["Dora_id"]))
        assert dora.status == EnrolmentStatus.CONFIRMED
        assert db.session.get(Activity, ids["workshop_id"]).seats_taken == 3


def test_door_is_closed_to_anonymous_visitors(client: FlaskClient, app: Flask) -> None:
    ids = seed(app)
    assert client.get(door_url(ids)).status_code == 302
    assert client.post(door_url(ids), data={"code": ids["Anna"]}).status_code in {302, 400}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WorkshopAttendance.id))) == 0


def test_attendance_by_activity_counts_confirmed_waiting_attended_no_shows(
    ctx: Flask, app: Flask
) -> None:
    ids = seed(app)
    event_id = ids["event_id"]
    workshop = db.session.get(Activity, ids["workshop_id"])
    anna = db.session.get(Registration, ids["Anna_id"])
    assert doors.scan(workshop, anna.checkin_code, utcnow()).outcome == DoorOutcome.ADMITTED
    db.session.commit()
    # The person's copy of their data names the admission.
    (copy,) = data_copy(anna)["workshop_attendance"]
    assert copy["activity"] == "Workshop Fachkräfte" and copy["let_in_at"]
    event = workshop.event
    assert event.id == event_id
    (figures,) = attendance_by_activity(event)
    assert figures.activity.id == workshop.id
    assert (figures.capacity, figures.confirmed, figures.waiting) == (3, 2, 1)
    assert (figures.attended, figures.no_shows) == (1, 1)

    emil = db.session.get(Registration, ids["Emil_id"])
    answer = doors.admit(workshop, emil, utcnow(), "Tür 1")
    assert answer.outcome == DoorOutcome.ADMITTED and answer.seat == SeatTaken.NEW
    db.session.commit()
    (figures,) = attendance_by_activity(event)
    assert (figures.confirmed, figures.attended, figures.no_shows) == (3, 2, 1)
    # Full now: nobody else gets in, and nothing is stored for them.
    fritz = db.session.get(Registration, ids["Fritz_id"])
    assert doors.admit(workshop, fritz, utcnow()).outcome == DoorOutcome.FULL
    db.session.commit()
    assert db.session.scalar(sa.select(Enrolment).filter_by(registration_id=fritz.id)) is None
    assert db.session.get(Activity, workshop.id).seats_taken == 3


def test_exports_show_check_in_time_and_workshop_attendance(
    client: FlaskClient, app: Flask
) -> None:
    ids = seed(app)
    with app.app_context():
        event = db.session.get(Activity, ids["workshop_id"]).event
        make_activity(event, "=SUMME(A1)", "14:00", "15:00", capacity=5)
        make_organiser("team@example.org", "team-password-1", role="staff")
        db.session.commit()
    login(client, "team@example.org", "team-password-1")  # staff may keep a door too
    assert scan(client, ids, ids["Anna"])["outcome"] == "admitted"
    base = f"/organisation/veranstaltungen/{ids['event_id']}/anmeldungen"

    body = client.get(f"{base}/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    header = rows[0]
    assert header[-4:] == [
        "Eingecheckt um",
        "Anwesend in",
        "Anwesend: Workshop Fachkräfte",
        "Anwesend: =SUMME(A1)",
    ]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    anna, bernd, emil = by_name["Anna"], by_name["Bernd"], by_name["Emil"]
    assert anna["Eingecheckt um"]  # checked in at the entrance by the door scan
    assert anna["Anwesend in"] == "Workshop Fachkräfte"
    assert anna["Anwesend: Workshop Fachkräfte"].startswith("ja (")
    assert anna["Anwesend: Workshop Fachkräfte"][4:9] == anna["Eingecheckt um"][-5:]
    assert bernd["Anwesend: Workshop Fachkräfte"] == "nein" and bernd["Eingecheckt um"] == ""
    assert emil["Anwesend: Workshop Fachkräfte"] == "" and by_name["Dora"]["Anwesend in"] == ""

    sheet = load_workbook(io.BytesIO(client.get(f"{base}/export.xlsx").get_data())).active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][-2] == "Anwesend: Workshop Fachkräfte"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    workshop = f"{base}/angebote/{ids['workshop_id']}/anwesenheit"
    page = client.get(f"{base}/angebote/{ids['workshop_id']}").get_data(as_text=True)
    assert "anwesenheit.xlsx" in page
    body = client.get(f"{workshop}.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[0][5:] == ["Platz im Workshop", "Anwesend", "Eingelassen um", "Einlass (Platz)"]
    assert [(r[0], r[5], r[6]) for r in rows[1:]] == [
        ("Müller", "bestätigt", "ja"),
        ("Schulz", "bestätigt", "nein"),
        ("Warte", "Warteliste", "nein"),
    ]
    assert client.get(f"{workshop}.xlsx").status_code == 200
    assert client.get(f"{workshop}.pdf").status_code == 404
    with app.app_context():
        logged = db.session.scalars(sa.select(ExportLog.kind).order_by(ExportLog.id)).all()
        assert logged[-2:] == ["attendance_csv", "attendance_xlsx"]
