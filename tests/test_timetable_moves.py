"""Moving activities on the timetable grid: the JSON endpoint behind drag and drop and the keys."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityChangeNotice,
    ActivityPerson,
    Enrolment,
    EnrolmentStatus,
    Person,
    PersonRole,
)
from eventapp.services.programme.moving import Move, move_activity
from eventapp.services.registration import registrations as registration_service
from eventapp.timezones import to_local
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_room
from tests.helpers.participants import person

DAY = "2026-06-10"


def build(app: Flask) -> dict[str, Any]:
    """Rooms A, B (30 seats) and C (5); workshops W1 (A) and W2 (B) at 10:00, W3 (B) at 11:30.

    Beate Beispiel speaks in W1 and W3.
    """
    with app.app_context():
        event = make_event()
        other_event = make_event(slug="anderer-tag")
        room_a, room_b = make_room(event, "Raum A", 30), make_room(event, "Raum B", 30)
        room_c = make_room(event, "Kabinett", 5)
        foreign_room = make_room(other_event, "Fremder Raum", 30)
        w1 = make_activity(event, "Workshop 1", "10:00", "11:00", room_a, capacity=20)
        w2 = make_activity(event, "Workshop 2", "10:00", "11:00", room_b)
        w3 = make_activity(event, "Workshop 3", "11:30", "12:30", room_b)
        foreign = make_activity(other_event, "Fremder Workshop", "10:00", "11:00", foreign_room)
        speaker = Person(name="Beate Beispiel")
        for activity in (w1, w3):
            db.session.add(
                ActivityPerson(activity=activity, person=speaker, role=PersonRole.SPEAKER)
            )
        db.session.commit()
        return {
            "event": event.id,
            "a": room_a.id,
            "b": room_b.id,
            "c": room_c.id,
            "foreign_room": foreign_room.id,
            "w1": w1.id,
            "w2": w2.id,
            "w3": w3.id,
            "foreign": foreign.id,
        }


def move_url(ids: dict[str, Any], activity: str = "w1") -> str:
    return f"/organisation/veranstaltungen/{ids['event']}/programm/{ids[activity]}/verschieben"


def where(activity_id: int) -> tuple[int | None, str, str]:
    """Return room id and local start and end of an activity as stored."""
    db.session.expire_all()
    activity = db.session.get(Activity, activity_id)
    zone = activity.event.timezone
    return (
        activity.room_id,
        to_local(activity.starts_at, zone).strftime("%H:%M"),
        to_local(activity.ends_at, zone).strftime("%H:%M"),
    )


def test_move_to_a_free_spot_saves_and_undo_moves_back(
    staff_client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    response = staff_client.post(
        move_url(ids), data={"room": str(ids["b"]), "day": DAY, "starts": "13:15"}
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["outcome"] == "saved"
    assert answer["message"] == "„Workshop 1“ verschoben nach Raum B, 13:15–14:15."
    assert answer["position"] == {"room": str(ids["b"]), "day": DAY, "starts": "13:15"}
    assert answer["previous"] == {"room": str(ids["a"]), "day": DAY, "starts": "10:00"}
    with app.app_context():
        assert where(ids["w1"]) == (ids["b"], "13:15", "14:15")
        activity = db.session.get(Activity, ids["w1"])
        assert activity.revision == 1
        # The change notice of a form edit, holding what participants knew before.
        notice = db.session.scalar(
            sa.select(ActivityChangeNotice).where(ActivityChangeNotice.activity_id == ids["w1"])
        )
        assert notice is not None and notice.old_room_id == ids["a"]
        assert to_local(notice.old_starts_at, "Europe/Berlin").time() == time(10, 0)
    # Undo: the previous position through the same endpoint.
    response = staff_client.post(move_url(ids), data=answer["previous"])
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "10:00", "11:00")


def test_move_onto_conflicts_answers_them_without_saving(
    staff_client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    # Room B at 11:30 holds W3, where the speaker also speaks.
    data = {"room": str(ids["b"]), "day": DAY, "starts": "11:30"}
    response = staff_client.post(move_url(ids), data=data)
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["outcome"] == "conflicts"
    assert answer["can_confirm"] is True and answer["needs_clash_choice"] is False
    messages = [c["message"] for c in answer["conflicts"]]
    assert any("Raum „Raum B“ ist zur selben Zeit belegt: „Workshop 3“" in m for m in messages)
    assert any(m.startswith("Beate Beispiel ist zur selben Zeit") for m in messages)
    assert answer["edit_url"].endswith(f"/programm/{ids['w1']}?next=timetable")
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "10:00", "11:00")
    # Confirmed as the form's "bewusst speichern" does, it is saved.
    response = staff_client.post(move_url(ids), data=data | {"confirm": "1"})
    assert response.status_code == 200
    with app.app_context():
        assert where(ids["w1"]) == (ids["b"], "11:30", "12:30")
        assert db.session.get(Activity, ids["w1"]).overlap_confirmed is True


def test_move_breaking_a_hard_rule_cannot_be_confirmed(
    staff_client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    # 20 seats do not fit the 5-seat room, confirmed or not.
    data = {"room": str(ids["c"]), "day": DAY, "starts": "14:00", "confirm": "1"}
    response = staff_client.post(move_url(ids), data=data)
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["can_confirm"] is False
    assert answer["conflicts"] == [
        {
            "kind": "rule",
            "message": "20 Plätze sind mehr, als der Raum „Kabinett“ hat (5).",
        }
    ]
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "10:00", "11:00")


def test_move_with_participant_clashes_asks_and_carries_out_the_choice(
    staff_client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    with app.app_context():
        event = db.session.get(Activity, ids["w1"]).event
        both = registration_service.register(event, person(0), [ids["w1"], ids["w3"]])
        db.session.commit()
        registration_id = both.registration.id
    # W1 to room A at 11:30: no room clash, but the speaker and person 0 hold W3 then.
    data = {"room": str(ids["a"]), "day": DAY, "starts": "11:30", "confirm": "1"}
    response = staff_client.post(move_url(ids), data=data)
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["can_confirm"] is True and answer["needs_clash_choice"] is True
    participant = [c for c in answer["conflicts"] if c["kind"] == "participant"]
    assert len(participant) == 1
    assert participant[0]["message"].startswith("Vorname0 Nachname0 hätte zur selben Zeit auch")
    response = staff_client.post(
        move_url(ids), data=data | {"participant_clash_choice": "waitlist"}
    )
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "11:30", "12:30")
        status = db.session.scalar(
            sa.select(Enrolment.status).where(
                Enrolment.registration_id == registration_id, Enrolment.activity_id == ids["w1"]
            )
        )
        assert status == EnrolmentStatus.WAITLISTED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"room": "abc"}, "Bitte wählen Sie einen Raum dieser Veranstaltung."),
        ({"room": "999999"}, "Bitte wählen Sie einen Raum dieser Veranstaltung."),
        ({"room": "foreign_room"}, "Bitte wählen Sie einen Raum dieser Veranstaltung."),
        ({"room": "1" * 40}, "Bitte wählen Sie einen Raum dieser Veranstaltung."),
        ({"day": "2026-13-45"}, "Bitte wählen Sie einen Tag der Veranstaltung."),
        ({"day": "2025-06-10"}, "Bitte wählen Sie einen Tag der Veranstaltung."),
        ({"day": "0001-01-01"}, "Bitte wählen Sie einen Tag der Veranstaltung."),
        ({"day": ""}, "Bitte wählen Sie einen Tag der Veranstaltung."),
        ({"starts": "25:00"}, "Bitte geben Sie den Beginn als Uhrzeit an, z. B. 10:15."),
        ({"starts": "１０:００"}, "Bitte geben Sie den Beginn als Uhrzeit an, z. B. 10:15."),
        ({"starts": ""}, "Bitte geben Sie den Beginn als Uhrzeit an, z. B. 10:15."),
        ({"starts": "10:03"}, "Programmpunkte beginnen in 5-Minuten-Schritten, z. B. 10:15."),
        (
            {"starts": "23:30"},
            "So spät beginnend würde der Programmpunkt über Mitternacht hinaus dauern. "
            "Bitte wählen Sie einen früheren Beginn.",
        ),
        (
            {"participant_clash_choice": "alle"},
            "Bitte wählen Sie, wie mit den Überschneidungen bei Teilnehmenden umgegangen wird.",
        ),
    ],
)
def test_bad_moves_are_a_400_in_german_and_save_nothing(
    staff_client: FlaskClient, app: Flask, data: dict[str, str], message: str
) -> None:
    ids = build(app)
    posted = {"room": str(ids["b"]), "day": DAY, "starts": "14:00"} | data
    if posted["room"] == "foreign_room":
        posted["room"] = str(ids["foreign_room"])
    response = staff_client.post(move_url(ids), data=posted)
    assert response.status_code == 400
    assert response.get_json() == {"outcome": "invalid", "message": message}
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "10:00", "11:00")


def test_move_of_another_events_activity_or_none_is_404(
    staff_client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    data = {"room": str(ids["b"]), "day": DAY, "starts": "14:00"}
    assert staff_client.post(move_url(ids, "foreign"), data=data).status_code == 404
    missing = f"/organisation/veranstaltungen/{ids['event']}/programm/999999/verschieben"
    assert staff_client.post(missing, data=data).status_code == 404
    assert staff_client.get(move_url(ids)).status_code == 405


def test_move_needs_a_planning_role(client: FlaskClient, app: Flask) -> None:
    ids = build(app)
    data = {"room": str(ids["b"]), "day": DAY, "starts": "14:00"}
    response = client.post(move_url(ids), data=data)
    assert response.status_code == 302 and "/organisation/anmelden" in response.headers["Location"]
    with app.app_context():
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
    login(client, "desk@example.org", "desk-password-1")
    assert client.post(move_url(ids), data=data).status_code == 403
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "10:00", "11:00")


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_move_needs_the_form_token(client: FlaskClient, app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        make_organiser("staff@example.org", "staff-password-1")
        db.session.commit()
    token = token_of(client.get("/organisation/anmelden").get_data(as_text=True))
    client.post(
        "/organisation/anmelden",
        data={"email": "staff@example.org", "password": "staff-password-1", "csrf_token": token},
    )
    page = client.get(f"/organisation/veranstaltungen/{ids['event']}/zeitplan")
    data = {"room": str(ids["b"]), "day": DAY, "starts": "14:00"}
    assert client.post(move_url(ids), data=data).status_code == 400
    with app.app_context():
        assert where(ids["w1"]) == (ids["a"], "10:00", "11:00")
    response = client.post(
        move_url(ids), data=data | {"csrf_token": token_of(page.get_data(as_text=True))}
    )
    assert response.status_code == 200


def test_move_service_keeps_the_length_and_the_rest(app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        activity = db.session.get(Activity, ids["w1"])
        move_activity(activity, Move(room_id=None, day=date(2026, 6, 10), starts=time(8, 5)))
        db.session.commit()
        assert where(ids["w1"]) == (None, "08:05", "09:05")
        activity = db.session.get(Activity, ids["w1"])
        assert activity.capacity == 20 and activity.title == "Workshop 1"
        assert [p.display_name for p in activity.speakers] == ["Beate Beispiel"]
