"""Organiser pages: events, rooms, activities, timetable; roles and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Activity, ActivityKind, Event, Registration, Room
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_room


def setup_event(app: Flask) -> tuple[int, int, int]:
    """Create an event with two rooms; return their ids."""
    with app.app_context():
        event = make_event(day=date(2026, 6, 10))
        big, small = make_room(event, "Saal", 100), make_room(event, "Raum 2", 20)
        db.session.commit()
        return event.id, big.id, small.id


def form(**fields: str) -> dict[str, str]:
    """Return a valid activity form, with overrides."""
    data = {
        "title": "Ausbildung attraktiv machen",
        "kind": "workshop",
        "room": "",
        "day": "2026-06-10",
        "starts": "10:00",
        "ends": "11:30",
        "capacity": "",
        "requires_enrolment": "auto",
        "speakers": "Dr. Anna Roth\nJan Mertens",
        "moderators": "",
        "description": "",
        "language": "de",
        "published": "y",
    }
    data.update(fields)
    return data


def test_activity_pages_redirect_anonymous_to_login(client: FlaskClient, app: Flask) -> None:
    event_id, _big, _small = setup_event(app)
    response = client.get(f"/organisation/veranstaltungen/{event_id}/programm/neu")
    assert response.status_code == 302
    assert "/organisation/anmelden" in response.headers["Location"]


def test_activity_editing_forbidden_for_checkin_account(client: FlaskClient, app: Flask) -> None:
    event_id, big, _small = setup_event(app)
    with app.app_context():
        make_organiser("einlass@example.org", "einlass-password-1", role="checkin")
        db.session.commit()
    login(client, "einlass@example.org", "einlass-password-1")
    url = f"/organisation/veranstaltungen/{event_id}/programm/neu"
    assert client.get(url).status_code == 403
    assert client.post(url, data=form(room=str(big))).status_code == 403
    assert client.get(f"/organisation/veranstaltungen/{event_id}/zeitplan").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0


def test_event_create_and_edit(staff_client: FlaskClient, app: Flask) -> None:
    data = {
        "title": "4. Innovationstag",
        "slug": "innovationstag-2015",
        "starts_on": "23.06.2015",
        "ends_on": "",
        "timezone": "Europe/Berlin",
        "venue": "Haus der Deutschen Wirtschaft",
        "registration_opens_at": "2015-05-01T09:00",
        "registration_closes_at": "21.06.2015 18:00",
        "capacity": "400",
        "per_network_limit": "3",
        "published": "y",
    }
    response = staff_client.post("/organisation/veranstaltungen/neu", data=data)
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.slug == "innovationstag-2015"))
        assert event.ends_on == date(2015, 6, 23)
        assert event.registration_opens_at == datetime(2015, 5, 1, 7, 0, tzinfo=UTC)
        assert event.per_network_limit == 3
        event_id = event.id
    page = staff_client.get(f"/organisation/veranstaltungen/{event_id}/einstellungen")
    text = page.get_data(as_text=True)
    assert "2015-05-01T09:00" in text
    assert 'include "organiser' not in text


def test_event_form_refuses_unknown_zone_and_taken_slug(
    staff_client: FlaskClient, app: Flask
) -> None:
    setup_event(app)
    response = staff_client.post(
        "/organisation/veranstaltungen/neu",
        data={
            "title": "Doppelt",
            "slug": "testtag",
            "starts_on": "2026-06-10",
            "timezone": "Europe/Berln",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Zeitzone ist unbekannt" in text
    assert "schon vergeben" in text
    assert 'value="Europe/Berln"' in text


def test_event_form_malformed_date_keeps_input(staff_client: FlaskClient) -> None:
    response = staff_client.post(
        "/organisation/veranstaltungen/neu",
        data={"title": "X", "slug": "x", "starts_on": "31.02.2026", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Bitte geben Sie ein Datum" in text
    assert 'value="31.02.2026"' in text


def test_room_create_refuses_negative_and_missing_capacity(
    staff_client: FlaskClient, app: Flask
) -> None:
    event_id, _big, _small = setup_event(app)
    url = f"/organisation/veranstaltungen/{event_id}/raeume"
    response = staff_client.post(url, data={"name": "Neuer Raum", "capacity": "-5"})
    assert response.status_code == 400
    assert "nicht negativ" in response.get_data(as_text=True)
    response = staff_client.post(url, data={"name": "Neuer Raum", "capacity": ""})
    assert "Bitte geben Sie die Platzzahl an" in response.get_data(as_text=True)
    response = staff_client.post(url, data={"name": "Neuer Raum", "capacity": "zwölf"})
    assert "ganze Zahl" in response.get_data(as_text=True)
    assert staff_client.post(url, data={"name": "Neuer Raum", "capacity": "12"}).status_code == 302


def test_activity_create_defaults_capacity_to_room(staff_client: FlaskClient, app: Flask) -> None:
    event_id, big, _small = setup_event(app)
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/programm/neu", data=form(room=str(big))
    )
    assert response.status_code == 302
    with app.app_context():
        activity = db.session.scalar(sa.select(Activity))
        assert activity.capacity == 100
        assert activity.requires_enrolment
        assert [p.name for p in activity.speakers] == ["Dr. Anna Roth", "Jan Mertens"]


def test_activity_end_before_start_keeps_input(staff_client: FlaskClient, app: Flask) -> None:
    event_id, big, _small = setup_event(app)
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/programm/neu",
        data=form(room=str(big), starts="12:00", ends="11:00", title="Mein Titel"),
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Das Ende muss nach dem Beginn liegen." in text
    assert 'value="Mein Titel"' in text and 'value="12:00"' in text
    assert "Dr. Anna Roth" in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("day", "10.13.2026", "Bitte geben Sie ein Datum"),
        ("starts", "25:99", "Bitte geben Sie eine Uhrzeit"),
        ("capacity", "-3", "Die Platzzahl darf nicht negativ sein."),
        ("capacity", "viele", "ganze Zahl"),
        ("day", "2026-06-12", "außerhalb der Veranstaltungstage"),
        ("room", "abc", "aus der Liste"),
    ],
)
def test_activity_bad_input_is_a_clear_message(
    staff_client: FlaskClient, app: Flask, field: str, value: str, message: str
) -> None:
    event_id, big, _small = setup_event(app)
    data = form(room=str(big))
    data[field] = value
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/programm/neu", data=data
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text
    assert f'value="{value}"' in text or f'value="{value}" selected' in text or field == "room"


def test_activity_missing_capacity_without_room(staff_client: FlaskClient, app: Flask) -> None:
    event_id, _big, _small = setup_event(app)
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/programm/neu", data=form()
    )
    assert response.status_code == 400
    assert "Bitte geben Sie eine Platzzahl an" in response.get_data(as_text=True)


def test_activity_room_of_another_event_is_refused(staff_client: FlaskClient, app: Flask) -> None:
    event_id, _big, _small = setup_event(app)
    with app.app_context():
        other = make_event("fremd", day=date(2026, 6, 10))
        foreign = make_room(other, "Fremdraum", 50)
        db.session.commit()
        foreign_id = foreign.id
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/programm/neu", data=form(room=str(foreign_id))
    )
    assert response.status_code == 400
    assert "gehört nicht zu dieser Veranstaltung" in response.get_data(as_text=True)


def test_activity_overlap_saved_only_when_confirmed(staff_client: FlaskClient, app: Flask) -> None:
    event_id, big, _small = setup_event(app)
    url = f"/organisation/veranstaltungen/{event_id}/programm/neu"
    assert staff_client.post(url, data=form(room=str(big), speakers="")).status_code == 302
    second = form(room=str(big), title="Zweiter Teil", speakers="", starts="11:00", ends="12:00")
    response = staff_client.post(url, data=second)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Überschneidung bewusst speichern" in text
    assert "ist zur selben Zeit belegt" in text
    assert staff_client.post(url, data=second | {"overlap_confirmed": "y"}).status_code == 302
    grid = staff_client.get(f"/organisation/veranstaltungen/{event_id}/zeitplan")
    assert "Überschneidung bestätigt" in grid.get_data(as_text=True)


def test_activity_speaker_overlap_shown_next_to_people(
    staff_client: FlaskClient, app: Flask
) -> None:
    event_id, big, small = setup_event(app)
    url = f"/organisation/veranstaltungen/{event_id}/programm/neu"
    assert staff_client.post(url, data=form(room=str(big))).status_code == 302
    response = staff_client.post(
        url, data=form(room=str(small), title="Parallel", speakers="Jan Mertens")
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Jan Mertens ist zur selben Zeit" in text
    assert 'id="speakers-error"' in text


def test_activity_edit_of_other_event_is_404(staff_client: FlaskClient, app: Flask) -> None:
    event_id, _big, _small = setup_event(app)
    with app.app_context():
        other = make_event("fremd", day=date(2026, 6, 10))
        activity = make_activity(other, "Fremd", capacity=5)
        db.session.commit()
        foreign_id = activity.id
    assert (
        staff_client.get(
            f"/organisation/veranstaltungen/{event_id}/programm/{foreign_id}"
        ).status_code
        == 404
    )


def test_activity_edit_cancel_and_grid_marks_it(staff_client: FlaskClient, app: Flask) -> None:
    event_id, big, _small = setup_event(app)
    with app.app_context():
        event = db.session.get(Event, event_id)
        room = db.session.get(Room, big)
        activity = make_activity(event, "Abgesagter Workshop", room=room)
        make_activity(event, "Mittagspause", "12:00", "13:00", kind=ActivityKind.BREAK)
        db.session.commit()
        activity_id = activity.id
    url = f"/organisation/veranstaltungen/{event_id}/programm/{activity_id}"
    page = staff_client.get(url).get_data(as_text=True)
    assert 'value="10:00"' in page
    data = form(
        room=str(big),
        title="Abgesagter Workshop",
        speakers="",
        cancelled="y",
        capacity="100",
        requires_enrolment="yes",
    )
    assert staff_client.post(url, data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Activity, activity_id).revision == 1
    grid = staff_client.get(f"/organisation/veranstaltungen/{event_id}/zeitplan").get_data(
        as_text=True
    )
    assert "ABGESAGT" in grid
    assert "all-rooms" in grid
    assert "across-rooms" in grid


def test_timetable_lists_conflicts_above_grid(staff_client: FlaskClient, app: Flask) -> None:
    event_id, _big, small = setup_event(app)
    with app.app_context():
        event = db.session.get(Event, event_id)
        room = db.session.get(Room, small)
        make_activity(event, "Zu groß", room=room, capacity=50)
        db.session.commit()
    text = staff_client.get(f"/organisation/veranstaltungen/{event_id}/zeitplan").get_data(
        as_text=True
    )
    assert "1 Konflikt<" in text
    assert "mehr, als der Raum" in text
    assert "has-conflict" in text


def test_event_nav_has_partial_slots(staff_client: FlaskClient, app: Flask) -> None:
    event_id, _big, _small = setup_event(app)
    for path in ("", "einstellungen", "raeume", "programm", "zeitplan", "programm/neu"):
        response = staff_client.get(f"/organisation/veranstaltungen/{event_id}/{path}")
        assert response.status_code == 200, path
        assert 'class="event-nav"' in response.get_data(as_text=True)


def test_activity_huge_capacity_is_refused(staff_client: FlaskClient, app: Flask) -> None:
    event_id, big, _small = setup_event(app)
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/programm/neu",
        data=form(room=str(big), capacity="99999999999999999999"),
    )
    assert response.status_code == 400
    assert "zu groß" in response.get_data(as_text=True)


def test_event_capacity_below_confirmed_is_refused_and_raise_promotes(
    staff_client: FlaskClient, app: Flask
) -> None:
    from eventapp.models import RegistrationStatus
    from tests.factories import make_registration

    with app.app_context():
        event = make_event(capacity=1, seats_taken=1)
        make_registration(event, "Anna", "Erste")
        waiting = make_registration(
            event,
            "Bernd",
            "Zweiter",
            status=RegistrationStatus.WAITLISTED,
            queued_at=datetime(2026, 5, 2, 9, 0, tzinfo=UTC),
        )
        db.session.commit()
        event_id, waiting_id = event.id, waiting.id
    data = {
        "title": "Testtag",
        "slug": "testtag",
        "starts_on": "2026-06-10",
        "timezone": "Europe/Berlin",
        "capacity": "0",
        "published": "y",
    }
    url = f"/organisation/veranstaltungen/{event_id}/einstellungen"
    refused = staff_client.post(url, data=data)
    assert refused.status_code == 400
    assert "fest angemeldet" in refused.get_data(as_text=True)
    assert 'value="0"' in refused.get_data(as_text=True)
    raised = staff_client.post(url, data=data | {"capacity": "2"})
    assert raised.status_code == 302
    with app.app_context():
        assert db.session.get(Event, event_id).capacity == 2
        promoted = db.session.get(Registration, waiting_id)
        assert promoted.status == RegistrationStatus.CONFIRMED
