"""Small builders for test data; they add and flush, the test commits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityKind,
    Event,
    Organiser,
    OrganiserRole,
    ParticipantRole,
    Registration,
    RegistrationStatus,
    Room,
)
from eventapp.timezones import from_local


def make_organiser(email: str, password: str, role: str = "staff") -> Organiser:
    """Create an organiser account."""
    organiser = Organiser(email=email, name=email.split("@")[0], role=OrganiserRole(role))
    organiser.set_password(password)
    db.session.add(organiser)
    db.session.flush()
    return organiser


def make_event(slug: str = "testtag", day: date = date(2026, 6, 10), **fields: Any) -> Event:
    """Create a published one-day event in Berlin."""
    values: dict[str, Any] = {
        "title": "Testtag",
        "starts_on": day,
        "ends_on": day,
        "timezone": "Europe/Berlin",
        "venue": "Haus der Deutschen Wirtschaft",
        "address": "Breite Straße 29, 10178 Berlin",
        "published": True,
    }
    values.update(fields)
    event = Event(slug=slug, **values)
    db.session.add(event)
    db.session.flush()
    return event


def make_room(event: Event, name: str = "Saal 1", capacity: int = 100, **fields: Any) -> Room:
    """Create a room of the event."""
    room = Room(event=event, name=name, capacity=capacity, **fields)
    db.session.add(room)
    db.session.flush()
    return room


def at(event: Event, hhmm: str, day: date | None = None) -> datetime:
    """Return the UTC instant of a wall-clock time on the event's (first) day."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return from_local(day or event.starts_on, time(hours, minutes), event.timezone)


def make_activity(
    event: Event,
    title: str = "Workshop",
    start: str = "10:00",
    end: str = "11:00",
    room: Room | None = None,
    kind: ActivityKind = ActivityKind.WORKSHOP,
    capacity: int | None = None,
    **fields: Any,
) -> Activity:
    """Create an activity at wall-clock times on the event's first day."""
    activity = Activity(
        event=event,
        title=title,
        kind=kind,
        room=room,
        starts_at=at(event, start),
        ends_at=at(event, end),
        capacity=capacity if capacity is not None else (room.capacity if room else None),
        requires_enrolment=fields.pop("requires_enrolment", kind.needs_enrolment),
        **fields,
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def make_registration(
    event: Event,
    first_name: str = "Erika",
    last_name: str = "Mustermann",
    email: str | None = None,
    **fields: Any,
) -> Registration:
    """Create a confirmed registration directly (no seat rules); returns it with its tokens set."""
    from eventapp.services.registration.tokens import (
        new_checkin_code,
        new_token,
        token_hash,
    )

    manage_token = new_token()
    calendar_token = new_token()
    values: dict[str, Any] = {
        "organisation": "Agentur für Arbeit Musterstadt",
        "privacy_consent_version": "2026-01",
        "privacy_consent_at": datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        "status": RegistrationStatus.CONFIRMED,
        "role": ParticipantRole.PARTICIPANT,
    }
    values.update(fields)
    registration = Registration(
        event=event,
        first_name=first_name,
        last_name=last_name,
        email=(email or f"{first_name}.{last_name}@example.org").lower(),
        token_hash=token_hash(manage_token),
        calendar_token=calendar_token,
        calendar_token_hash=token_hash(calendar_token),
        checkin_code=new_checkin_code(),
        **values,
    )
    db.session.add(registration)
    db.session.flush()
    registration.manage_token = manage_token  # type: ignore[attr-defined]
    return registration
