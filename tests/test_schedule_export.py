"""frab schedule XML and JSON: valid against the C3VOC schemas, with the programme's data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from eventapp.extensions import db
from eventapp.models import ActivityKind, ActivityPerson, Person, PersonRole
from eventapp.services.calendar.frab import schedule_json, schedule_xml, slugify
from tests.factories import make_activity, make_event, make_room

SCHEMAS = Path(__file__).parent / "schemas"
# The test client asks for this host, so exports served to it link there.
BASE = "http://localhost"


@pytest.fixture(scope="module")
def xml_schema() -> etree.XMLSchema:
    """Load the frab XSD."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "frab-schedule.xsd")))


@pytest.fixture(scope="module")
def json_validator() -> jsonschema.protocols.Validator:
    """Load the frab JSON schema with format checks switched on."""
    schema = json.loads((SCHEMAS / "frab-schedule.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def build_programme(slug: str = "innovationstag-2026") -> dict[str, Any]:
    """Create a two-room programme with speakers, a break without room and a cancelled item."""
    event = make_event(slug, title="Innovationstag 2026")
    hall = make_room(event, "Großer Saal", 300)
    room = make_room(event, "Raum 2", 20)
    opening = make_activity(
        event, "Eröffnung & Grußwort", "09:00", "10:00", hall, ActivityKind.PLENARY
    )
    speaker = Person(name="Beate Beispiel", title="Dr.")
    db.session.add(ActivityPerson(activity=opening, person=speaker, role=PersonRole.SPEAKER))
    host = Person(name="Max Moderator")
    db.session.add(ActivityPerson(activity=opening, person=host, role=PersonRole.MODERATOR))
    workshop = make_activity(
        event,
        "Fachkräfte <sichern>",
        "10:30",
        "12:15",
        room,
        description="Kurz gesagt.\n\nLängere Beschreibung mit Details.",
        language="en",
    )
    lunch = make_activity(event, "Mittagspause", "12:15", "13:00", None, ActivityKind.BREAK)
    cancelled = make_activity(event, "Abgesagtes", "14:00", "15:00", room, cancelled=True)
    make_activity(event, "Entwurf", "15:00", "16:00", room, published=False)
    db.session.commit()
    return {
        "event": event,
        "opening": opening,
        "workshop": workshop,
        "lunch": lunch,
        "cancelled": cancelled,
    }


def test_schedule_xml_validates_against_frab_xsd(
    client: FlaskClient, ctx: Flask, xml_schema: etree.XMLSchema
) -> None:
    build_programme()
    response = client.get("/innovationstag-2026/schedule.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    document = etree.fromstring(response.data)
    assert xml_schema.validate(document), xml_schema.error_log


def test_schedule_xml_carries_programme(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    root = etree.fromstring(client.get("/innovationstag-2026/schedule.xml").data)
    assert root.findtext("conference/acronym") == "innovationstag_2026"
    assert root.findtext("conference/time_zone_name") == "Europe/Berlin"
    assert root.findtext("conference/days") == "1"
    (day,) = root.findall("day")
    assert day.get("index") == "1"
    assert day.get("start") == "2026-06-10T00:00:00+02:00"
    assert day.get("end") == "2026-06-11T00:00:00+02:00"
    events = {e.findtext("title"): e for e in root.iter("event")}
    assert set(events) == {
        "Eröffnung & Grußwort",
        "Fachkräfte <sichern>",
        "Mittagspause",
        "Abgesagtes",
    }
    workshop = events["Fachkräfte <sichern>"]
    assert workshop.get("guid") == data["workshop"].uid
    assert workshop.get("id") == str(data["workshop"].id)
    assert workshop.findtext("date") == "2026-06-10T10:30:00+02:00"
    assert workshop.findtext("start") == "10:30"
    assert workshop.findtext("duration") == "01:45"
    assert workshop.findtext("room") == "Raum 2"
    assert workshop.findtext("type") == "workshop"
    assert workshop.findtext("language") == "en"
    assert workshop.findtext("abstract") == "Kurz gesagt."
    assert workshop.findtext("url") == f"{BASE}/innovationstag-2026/programm/{data['workshop'].id}"
    opening = events["Eröffnung & Grußwort"]
    assert [p.text for p in opening.findall("persons/person")] == [
        "Dr. Beate Beispiel",
        "Max Moderator",
    ]
    assert events["Abgesagtes"].findtext("subtitle") == "Abgesagt"
    assert "Entwurf" not in events


def test_schedule_json_validates_against_frab_schema(
    client: FlaskClient, ctx: Flask, json_validator: Any
) -> None:
    build_programme()
    response = client.get("/innovationstag-2026/schedule.json")
    assert response.status_code == 200
    document = response.get_json()
    errors = [error.message for error in json_validator.iter_errors(document)]
    assert errors == []


def test_schedule_json_carries_programme(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    conference = client.get("/innovationstag-2026/schedule.json").get_json()["schedule"][
        "conference"
    ]
    assert conference["acronym"] == "innovationstag_2026"
    assert conference["daysCount"] == 1
    assert [room["name"] for room in conference["rooms"]] == ["Großer Saal", "Raum 2"]
    day = conference["days"][0]
    assert day["day_start"] == "2026-06-10T00:00:00+02:00"
    lunch = day["rooms"]["Großer Saal"][1]
    assert lunch["guid"] == data["lunch"].uid
    assert lunch["duration"] == "00:45"
    assert lunch["type"] == "break"
    workshop = day["rooms"]["Raum 2"][0]
    assert workshop["slug"] == f"innovationstag_2026-{data['workshop'].id}-fachkraefte-sichern"


def test_activities_without_room_are_in_the_main_room_and_no_made_up_room_is_listed(
    client: FlaskClient, ctx: Flask
) -> None:
    data = build_programme()
    event = data["event"]
    # The main room is the one with the most seats, wherever it stands in the timetable.
    make_room(event, "Foyer", 120, position=-1)
    db.session.commit()
    root = etree.fromstring(client.get("/innovationstag-2026/schedule.xml").data)
    listed = {room.get("name") for room in root.iterfind("day/room")}
    assert listed == {"Großer Saal", "Raum 2"}
    lunch = root.find(f"day/room/event[@guid='{data['lunch'].uid}']")
    assert lunch.getparent().get("name") == "Großer Saal"
    assert lunch.findtext("room") == "Großer Saal"
    conference = client.get("/innovationstag-2026/schedule.json").get_json()["schedule"][
        "conference"
    ]
    names = [room["name"] for room in conference["rooms"]]
    assert "—" not in names and "Foyer" in names
    (day,) = conference["days"]
    room_of = {item["title"]: name for name, items in day["rooms"].items() for item in items}
    assert room_of["Mittagspause"] == "Großer Saal"
    assert all(name in names for name in day["rooms"])


def test_schedule_across_dst_day_has_right_offsets(
    ctx: Flask, xml_schema: etree.XMLSchema, json_validator: Any
) -> None:
    event = make_event("herbsttag", date(2026, 10, 25))
    make_activity(event, "Nach der Umstellung", "09:00", "10:00")
    db.session.commit()
    root = etree.fromstring(schedule_xml(event))
    assert xml_schema.validate(root), xml_schema.error_log
    day = root.find("day")
    assert day.get("start") == "2026-10-25T00:00:00+02:00"
    assert day.get("end") == "2026-10-26T00:00:00+01:00"
    assert root.findtext("day/room/event/date") == "2026-10-25T09:00:00+01:00"
    assert list(json_validator.iter_errors(json.loads(schedule_json(event)))) == []


def test_short_slug_and_odd_titles_stay_valid(
    ctx: Flask, xml_schema: etree.XMLSchema, json_validator: Any
) -> None:
    event = make_event("it")
    make_activity(event, "!!!")
    make_activity(event, "Ä", start="11:00", end="12:00")
    db.session.commit()
    root = etree.fromstring(schedule_xml(event))
    assert xml_schema.validate(root), xml_schema.error_log
    assert list(json_validator.iter_errors(json.loads(schedule_json(event)))) == []


def test_slugify_transliterates_umlauts() -> None:
    assert slugify("Größe & Übermaß: Fachkräfte!") == "groesse-uebermass-fachkraefte"


def test_schedule_answers_304_on_matching_etag(client: FlaskClient, ctx: Flask) -> None:
    build_programme()
    for path in ("/innovationstag-2026/schedule.xml", "/innovationstag-2026/schedule.json"):
        etag = client.get(path).headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
