"""The desk without Wi-Fi: the code list it keeps, and check-ins it sends late (no browser)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventapp.extensions import db
from eventapp.models import Event, Registration, RegistrationStatus
from eventapp.services.checkin import desk, offline
from eventapp.timezones import utcnow
from tests.conftest import login
from tests.factories import make_event, make_organiser, make_registration


def seed(app: Flask) -> dict[str, Any]:
    """An event with three confirmed people, a cancelled one, and last year's event."""
    with app.app_context():
        event = make_event(slug="tag", title="Innovationstag 2026")
        other = make_event(slug="vorjahr", title="Innovationstag 2025")
        people = [
            make_registration(event, "Anna", "Müller", organisation="IHK Straßburg"),
            make_registration(event, "Bernd", "Schulz", organisation="Agentur für Arbeit"),
            make_registration(event, "Clara", "Weiß", organisation="Handwerkskammer"),
        ]
        gone = make_registration(event, "Carla", "Weg", status=RegistrationStatus.CANCELLED)
        old = make_registration(other, "Emil", "Alt")
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
        return {
            "event_id": event.id,
            "codes": [p.checkin_code for p in people],
            "ids": [p.id for p in people],
            "gone": gone.checkin_code,
            "old": old.checkin_code,
            "old_id": old.id,
        }


def stamp(delta: timedelta = timedelta()) -> str:
    """A scan time as the desk's script sends it (UTC, ISO 8601 with Z)."""
    return (utcnow() + delta).isoformat().replace("+00:00", "Z")


def test_code_list_holds_this_events_people_only(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    url = f"/organisation/einlass/{data['event_id']}/codes.json"
    assert client.get(url).status_code == 302  # to the login
    login(client, "desk@example.org", "desk-password-1")
    response = client.get(url)
    assert response.headers["Cache-Control"] == "no-store"
    codes = response.get_json()["codes"]
    assert set(codes) == {*data["codes"], data["gone"]}
    assert codes[data["codes"][0]] == {
        "name": "Anna Müller",
        "organisation": "IHK Straßburg",
        "role": "Teilnehmer/in",
        "status": "confirmed",
        "status_label": "bestätigt",
        "checked_in": False,
    }
    assert codes[data["gone"]]["status"] == "cancelled"
    assert data["old"] not in codes
    assert client.get("/organisation/einlass/99999/codes.json").status_code == 404


def test_late_check_ins_are_recorded_once_at_the_earliest_time(
    app: Flask, client: FlaskClient
) -> None:
    data = seed(app)
    login(client, "desk@example.org", "desk-password-1")
    url = f"/organisation/einlass/{data['event_id']}/nachtraege"
    anna, bernd, clara = data["codes"]
    # Bernd came through another desk online a minute ago; Clara two minutes ago.
    with app.app_context():
        desk.check_in(db.session.get(Registration, data["ids"][1]), utcnow(), "Süd")
        earlier = utcnow() - timedelta(minutes=2)
        desk.check_in(db.session.get(Registration, data["ids"][2]), earlier, "Süd")
        db.session.commit()
    batch = {
        "check_ins": [
            {"code": anna.lower(), "scanned_at": stamp(-timedelta(minutes=5)), "desk": "Nord"},
            {"code": anna, "scanned_at": stamp(-timedelta(minutes=6)), "desk": "Nord\x07"},
            {"code": bernd, "scanned_at": stamp(-timedelta(minutes=4)), "desk": "Nord"},
            {"code": clara, "scanned_at": stamp(-timedelta(minutes=1)), "desk": "Nord"},
            {"code": data["old"], "scanned_at": stamp(), "desk": "Nord"},
            {"code": data["gone"], "scanned_at": stamp(), "desk": "Nord"},
            {"code": "NIEMAND", "scanned_at": stamp()},
            {"code": anna, "scanned_at": stamp(timedelta(hours=2))},
            {"code": anna, "scanned_at": stamp(-timedelta(days=3))},
            {"code": anna, "scanned_at": "gestern"},
            {"code": anna, "scanned_at": "2026-11-28T10:00:00"},  # no zone
            {"code": 17, "scanned_at": stamp()},
            "FALSCH",
        ]
    }
    response = client.post(url, json=batch)
    assert response.status_code == 200
    body = response.get_json()
    outcomes = [r["outcome"] for r in body["results"]]
    assert outcomes == [
        "checked_in", "checked_in", "checked_in", "already", "other_event", "cancelled",
        "unknown", "refused", "refused", "refused", "refused", "refused", "refused",
    ]  # fmt: skip
    texts = [r["text"] for r in body["results"]]
    assert texts[0] == "Anna Müller: eingecheckt"
    assert "Emil" not in texts[4] and "anderen Veranstaltung" in texts[4]
    assert "Zukunft" in texts[7] and "älter als zwei Tage" in texts[8]
    assert body["count"]["checked_in"] == 3
    with app.app_context():
        people = [db.session.get(Registration, i) for i in data["ids"]]
        # Anna: the earlier of her two offline scans; Bernd: the offline scan was earlier
        # than the online one and replaces it; Clara: the online one was earlier and stays.
        assert abs(people[0].checked_in_at - (utcnow() - timedelta(minutes=6))).seconds < 30
        assert people[0].checked_in_desk == "Nord"
        assert people[1].checked_in_desk == "Nord"
        assert abs(people[1].checked_in_at - (utcnow() - timedelta(minutes=4))).seconds < 30
        assert people[2].checked_in_desk == "Süd" and people[2].checked_in_at == earlier
        assert db.session.get(Registration, data["old_id"]).checked_in_at is None
    # The desk sends the same batch again (its answer was lost): nothing changes.
    again = client.post(url, json={"check_ins": batch["check_ins"][:4]}).get_json()
    assert [r["outcome"] for r in again["results"]] == ["already"] * 4
    assert again["count"]["checked_in"] == 3


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{nicht json", "application/json"),
        ('{"check_ins": 5}', "application/json"),
        ('["a"]', "application/json"),
        ('{"check_ins": []}', "text/plain"),
        ("", "application/json"),
    ],
)
def test_late_check_ins_refuse_a_bad_batch_with_a_message(
    app: Flask, client: FlaskClient, body: str, content_type: str
) -> None:
    data = seed(app)
    login(client, "desk@example.org", "desk-password-1")
    url = f"/organisation/einlass/{data['event_id']}/nachtraege"
    response = client.post(url, data=body, content_type=content_type)
    assert response.status_code == 400
    assert "nicht im erwarteten Format" in response.get_json()["message"]


def test_late_check_ins_limit_the_batch(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    login(client, "desk@example.org", "desk-password-1")
    url = f"/organisation/einlass/{data['event_id']}/nachtraege"
    many = [{"code": "X", "scanned_at": stamp()}] * (offline.BATCH_LIMIT + 1)
    response = client.post(url, json={"check_ins": many})
    assert response.status_code == 400 and "Höchstens" in response.get_json()["message"]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_late_check_ins_need_the_form_token(app: Flask, client: FlaskClient) -> None:
    data = seed(app)
    page = client.get("/organisation/anmelden").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/organisation/anmelden",
        data={"email": "desk@example.org", "password": "desk-password-1", "csrf_token": token},
    )
    desk_page = client.get(f"/organisation/einlass/{data['event_id']}/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', desk_page).group(1)
    url = f"/organisation/einlass/{data['event_id']}/nachtraege"
    batch = {"check_ins": [{"code": data["codes"][0], "scanned_at": stamp()}]}
    assert client.post(url, json=batch).status_code == 400
    answer = client.post(url, json=batch, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.get_json()["results"][0]["outcome"] == "checked_in"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scans=st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=600)), min_size=1, max_size=6
    )
)
def test_any_mix_of_scans_keeps_one_check_in_at_the_earliest_late_time(
    app: Flask, scans: list[tuple[bool, int]]
) -> None:
    """Online scans (first one wins) and late ones (earliest wins), sent in any order."""
    with app.app_context():
        event = db.session.scalar(sa.select(Event)) or make_event()
        number = db.session.scalar(sa.select(sa.func.count(Registration.id)))
        person = make_registration(event, email=f"person{number}@example.org")
        start = utcnow() - timedelta(hours=1)
        expected = None
        for late, seconds in scans:
            when = start + timedelta(seconds=seconds)
            if late:
                batch = [offline.LateCheckIn(person.checkin_code, when, "Nord")]
                offline.record_late_check_ins(event, batch, utcnow())
                expected = when if expected is None else min(expected, when)
            else:
                desk.check_in(person, when, "Süd")
                expected = when if expected is None else expected
        db.session.commit()
        db.session.refresh(person)
        assert person.checked_in_at == expected
        assert db.session.scalar(
            sa.select(sa.func.count()).where(Registration.checked_in_at.is_not(None),
                                             Registration.id == person.id)
        ) == 1  # fmt: skip
