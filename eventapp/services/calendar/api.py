"""Public read-only API data: published events, rooms, activities, networks (no personal data)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import Activity, Event, Network, Person, Room
from eventapp.services.programme.published import WITH_ROOM_AND_PEOPLE, published_activities_query
from eventapp.timezones import to_local
from eventapp.urls import (
    activity_feed_url,
    activity_url,
    api_url,
    event_url,
    programme_feed_url,
    schedule_url,
)

MAX_PER_PAGE = 200


def iso(moment: Any, zone_name: str) -> str | None:
    """Return an instant as ISO 8601 with the event zone's offset (None stays None)."""
    return to_local(moment, zone_name).isoformat() if moment is not None else None


def event_data(event: Event) -> dict[str, Any]:
    """Describe an event with links to its programme, feeds and exports."""
    slug = event.slug
    api = api_url("event", slug=slug)
    return {
        "slug": event.slug,
        "title": event.title,
        "subtitle": event.subtitle,
        "description": event.description,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "timezone": event.timezone,
        "venue": event.venue,
        "address": event.address,
        "registration_opens_at": iso(event.registration_opens_at, event.timezone),
        "registration_closes_at": iso(event.registration_closes_at, event.timezone),
        "capacity": event.capacity,
        "seats_left": event.seats_left,
        "programme_changed_at": iso(event.programme_changed_at, event.timezone),
        "links": {
            "self": api,
            "page": event_url(event),
            "rooms": api_url("rooms", slug=slug),
            "activities": api_url("activities", slug=slug),
            "ical": programme_feed_url(event),
            "frab_xml": schedule_url(event, "xml"),
            "frab_json": schedule_url(event, "json"),
        },
    }


def room_data(room: Room) -> dict[str, Any]:
    """Describe a room."""
    return {"id": room.id, "name": room.name, "capacity": room.capacity, "notes": room.notes}


def person_data(person: Person) -> dict[str, Any]:
    """Describe a speaker or moderator as printed in the programme (no contact data)."""
    return {"name": person.name, "title": person.title, "organisation": person.organisation}


def activity_data(activity: Activity, event: Event) -> dict[str, Any]:
    """Describe an activity with its times in the event's zone and its free seats."""
    zone_name = event.timezone
    return {
        "id": activity.id,
        "uid": activity.uid,
        "title": activity.title,
        "kind": activity.kind.value,
        "starts_at": iso(activity.starts_at, zone_name),
        "ends_at": iso(activity.ends_at, zone_name),
        "duration_minutes": activity.duration_minutes,
        "room": {"id": activity.room.id, "name": activity.room.name} if activity.room else None,
        "capacity": activity.capacity,
        "seats_left": activity.seats_left,
        "requires_enrolment": activity.requires_enrolment,
        "language": activity.language,
        "description": activity.description,
        "cancelled": activity.cancelled,
        "revision": activity.revision,
        "speakers": [person_data(p) for p in activity.speakers],
        "moderators": [person_data(p) for p in activity.moderators],
        "url": activity_url(activity),
        "ical": activity_feed_url(activity),
    }


def page_of_activities(
    event: Event, page: int, per_page: int, kind: str | None
) -> tuple[list[Activity], int]:
    """Return one page of activities and the total count."""
    query = published_activities_query(event, kind)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(*WITH_ROOM_AND_PEOPLE)
        .order_by(Activity.starts_at, Activity.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(items), total


def network_data(network: Network) -> dict[str, Any]:
    """Describe a network."""
    return {
        "id": network.id,
        "name": network.name,
        "region": network.region,
        "state": network.state,
        "website": network.website,
    }


def page_of_networks(page: int, per_page: int, state: str | None) -> tuple[list[Network], int]:
    """Return one page of networks (optionally of one federal state) and the total count."""
    query = sa.select(Network)
    if state:
        query = query.where(Network.state == state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(Network.name, Network.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(items), total
