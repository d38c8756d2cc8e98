"""The published programme in the frab/C3VOC schedule format (XML and JSON) for schedule apps.

Activities without a room of their own (arrival, breaks, the evening get-together) go into the
venue's main room. Schedule apps (Giggity, Fosdem Companion, ConfClerk) show every room of the
schedule as a column or filter and expect each event in a room; a made-up room such as "—"
appeared there as a room nobody could find. Everyone gathers in the main room (the one with the
most seats) for those items anyway.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import datetime
from typing import Any

from lxml import etree

from eventapp.models import Activity, Event, Person
from eventapp.services.calendar.ical import clean_text
from eventapp.services.programme.published import published_activities
from eventapp.timezones import local_day_bounds, to_local
from eventapp.urls import activity_url, event_url, schedule_url, site_url

SCHEDULE_VERSION = "1.0"
GENERATOR = "eventapp"
# Person guids derive from the person's id within this namespace (no e-mail addresses exposed).
PERSON_NAMESPACE = uuid.UUID("6f1d1c7e-5a0b-4d6e-9a43-2f6c0b1e7a11")
ROOM_NAMESPACE = uuid.UUID("0c8c3f0e-8d7b-4a55-b0f4-2b1f3d5e9c20")
# Used only when an event has no rooms at all.
NO_ROOM = "—"


def slugify(text: str) -> str:
    """Turn a title into a lower-case ASCII slug (ä → ae, spaces → hyphens)."""
    text = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def acronym(event: Event) -> str:
    """Return the conference acronym: the event slug in the schema's alphabet."""
    text = re.sub(r"[^a-z0-9_]", "_", event.slug.lower())
    return text if len(text) >= 4 else text.ljust(4, "_")


def activity_slug(event: Event, activity: Activity) -> str:
    """Return the frab slug <acronym>-<id>-<title>, unique within the schedule."""
    title = slugify(activity.title)[:50].strip("-") or "programmpunkt"
    return f"{acronym(event)}-{activity.id}-{title}"


def person_guid(person: Person) -> str:
    """Return a stable UUID for a speaker or moderator."""
    return str(uuid.uuid5(PERSON_NAMESPACE, str(person.id)))


def room_guid(event: Event, name: str) -> str:
    """Return a stable UUID for a room name of an event."""
    return str(uuid.uuid5(ROOM_NAMESPACE, f"{event.id}:{name}"))


def hhmm(minutes: int) -> str:
    """Format minutes as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _iso(moment: datetime, event: Event) -> str:
    return to_local(moment, event.timezone).isoformat()


def _people(activity: Activity) -> list[Person]:
    return activity.speakers + activity.moderators


def _abstract(activity: Activity) -> str:
    text = clean_text(activity.description)
    return text.split("\n\n", 1)[0]


def main_room_name(event: Event) -> str:
    """Return the venue's main room: the one with the most seats (first in the timetable on a tie).

    Activities without a room of their own are listed there (see the module's docstring).
    """
    rooms = sorted(event.rooms, key=lambda room: (-room.capacity, room.position, room.name))
    return rooms[0].name if rooms else NO_ROOM


def schedule_data(event: Event) -> dict[str, Any]:
    """Return the schedule as plain data: conference, rooms and days with their activities."""
    activities = published_activities(event)
    main_room = main_room_name(event)
    rooms: list[str] = [room.name for room in event.rooms]
    for activity in activities:
        name = activity.room.name if activity.room else main_room
        if name not in rooms:
            rooms.append(name)
    days: list[dict[str, Any]] = []
    for index, day in enumerate(event.days, start=1):
        start, end = local_day_bounds(day, event.timezone)
        on_day = [a for a in activities if start <= a.starts_at < end]
        by_room: dict[str, list[dict[str, Any]]] = {name: [] for name in rooms}
        for activity in on_day:
            room = activity.room.name if activity.room else main_room
            by_room[room].append(_event_data(event, activity, room))
        days.append(
            {
                "index": index,
                "date": day.isoformat(),
                "day_start": _iso(start, event),
                "day_end": _iso(end, event),
                "rooms": by_room,
            }
        )
    return {
        "acronym": acronym(event),
        "title": clean_text(event.title),
        "start": event.starts_on.isoformat(),
        "end": event.ends_on.isoformat(),
        "daysCount": len(event.days),
        "timeslot_duration": "00:15",
        "time_zone_name": event.timezone,
        "url": event_url(event),
        "rooms": [{"name": name, "guid": room_guid(event, name)} for name in rooms],
        "days": days,
    }


def _event_data(event: Event, activity: Activity, room: str) -> dict[str, Any]:
    url = activity_url(activity)
    title = clean_text(activity.title)
    return {
        "guid": activity.uid,
        "id": activity.id,
        "date": _iso(activity.starts_at, event),
        "start": to_local(activity.starts_at, event.timezone).strftime("%H:%M"),
        "end": _iso(activity.ends_at, event),
        "duration": hhmm(activity.duration_minutes),
        "room": room,
        "slug": activity_slug(event, activity),
        "url": url,
        "title": title,
        "subtitle": "Abgesagt" if activity.cancelled else "",
        "track": activity.kind.value,
        "type": activity.kind.frab_type,
        "language": activity.language or "de",
        "abstract": _abstract(activity),
        "description": clean_text(activity.description),
        "persons": [
            {"name": person.display_name, "public_name": person.display_name}
            | {"guid": person_guid(person)}
            for person in _people(activity)
        ],
        "links": [{"url": url, "title": title, "type": "web"}],
    }


def schedule_json(event: Event) -> bytes:
    """Return the frab schedule JSON."""
    data = schedule_data(event)
    document = {
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": {"name": GENERATOR, "version": SCHEDULE_VERSION},
        "schedule": {
            "version": _version(event),
            "base_url": site_url(),
            "conference": data,
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def _version(event: Event) -> str:
    return to_local(event.programme_changed_at, event.timezone).strftime("%Y-%m-%d %H:%M")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def schedule_xml(event: Event) -> bytes:
    """Return the frab schedule XML (the C3VOC schedule.xml format)."""
    data = schedule_data(event)
    root = etree.Element("schedule")
    _sub(root, "generator", name=GENERATOR, version=SCHEDULE_VERSION)
    _sub(root, "url", schedule_url(event, "xml"))
    _sub(root, "version", _version(event))
    conference = _sub(root, "conference")
    for key in ("acronym", "title", "start", "end"):
        _sub(conference, key, str(data[key]))
    _sub(conference, "days", str(data["daysCount"]))
    _sub(conference, "timeslot_duration", data["timeslot_duration"])
    _sub(conference, "base_url", site_url())
    _sub(conference, "url", data["url"])
    _sub(conference, "time_zone_name", data["time_zone_name"])
    for day in data["days"]:
        day_element = _sub(
            root,
            "day",
            index=str(day["index"]),
            date=day["date"],
            start=day["day_start"],
            end=day["day_end"],
        )
        for room_name, items in day["rooms"].items():
            if not items:
                continue
            room = _sub(day_element, "room", name=room_name, guid=room_guid(event, room_name))
            for item in items:
                _event_xml(room, item)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _event_xml(room: etree._Element, item: dict[str, Any]) -> None:
    element = _sub(room, "event", id=str(item["id"]), guid=item["guid"])
    for key in ("date", "start", "duration", "room", "slug", "url", "title", "subtitle"):
        _sub(element, key, item[key])
    for key in ("track", "type", "language", "abstract", "description"):
        _sub(element, key, item[key])
    persons = _sub(element, "persons")
    for person in item["persons"]:
        _sub(persons, "person", person["name"], guid=person["guid"])
    links = _sub(element, "links")
    for link in item["links"]:
        _sub(links, "link", link["title"], href=link["url"], type=link["type"])
