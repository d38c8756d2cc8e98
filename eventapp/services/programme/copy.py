"""Next year's event from this year's: settings, rooms, programme and speakers on a new date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityPerson,
    Event,
    PrinterCalibration,
    Room,
)
from eventapp.services.programme.events import EventValues, save_event
from eventapp.timezones import from_local, to_local

YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")


@dataclass
class CopyValues:
    """What the new event differs in: its first day, its slug and its title."""

    starts_on: date
    slug: str
    title: str


@dataclass
class CopyResult:
    """The new event and what was taken over."""

    event: Event
    rooms: int
    activities: int
    # Cancelled activities are left behind: they were called off for that year.
    left_out_cancelled: int


def with_year(text: str, source_day: date, new_day: date) -> str:
    """Replace the source event's year in a title or slug by the new one (or leave it)."""
    year = str(source_day.year)
    if year in text:
        return text.replace(year, str(new_day.year))
    return YEAR.sub(str(new_day.year), text, count=1)


def suggested_values(source: Event, starts_on: date | None = None) -> CopyValues:
    """Propose the new event a year on: the same weekday's date, title and slug with the year."""
    if starts_on is None:
        # 52 weeks on keeps the weekday (an Innovationstag on a Tuesday stays on a Tuesday).
        starts_on = source.starts_on + timedelta(weeks=52)
    title = with_year(source.title, source.starts_on, starts_on)
    slug = with_year(source.slug, source.starts_on, starts_on)
    if slug == source.slug:
        slug = f"{source.slug}-{starts_on.year}"
    return CopyValues(starts_on=starts_on, slug=slug[:80], title=title[:200])


def shift_instant(moment: datetime, days: int, zone_name: str) -> datetime:
    """Move an instant by whole days, keeping its wall-clock time in the zone (across DST)."""
    local = to_local(moment, zone_name)
    return from_local(local.date() + timedelta(days=days), local.time(), zone_name)


def _shifted_local(moment: datetime | None, days: int, zone_name: str) -> datetime | None:
    """Return the shifted wall-clock time, as the event form types it (naive, in the zone)."""
    if moment is None:
        return None
    return to_local(shift_instant(moment, days, zone_name), zone_name).replace(tzinfo=None)


def copy_event(source: Event, values: CopyValues) -> CopyResult:
    """Create an unpublished event from another: settings, rooms, activities and their people.

    Times move by whole days and keep their wall-clock time in the event's zone. Nothing
    personal is copied: no registrations, enrolments, mails, print jobs or check-ins. The slug
    and the other settings are checked as the event form checks them, before anything is added.
    """
    days = (values.starts_on - source.starts_on).days
    zone_name = source.timezone
    event = save_event(
        None,
        EventValues(
            title=values.title,
            slug=values.slug,
            starts_on=values.starts_on,
            ends_on=source.ends_on + timedelta(days=days),
            timezone=zone_name,
            subtitle=source.subtitle,
            description=source.description,
            venue=source.venue,
            address=source.address,
            organiser_name=source.organiser_name,
            contact_email=source.contact_email,
            contact_phone=source.contact_phone,
            registration_opens_at=_shifted_local(source.registration_opens_at, days, zone_name),
            registration_closes_at=_shifted_local(source.registration_closes_at, days, zone_name),
            capacity=source.capacity,
            per_network_limit=source.per_network_limit,
            published=False,
        ),
    )
    rooms = {room.id: _copy_room(event, room) for room in _rooms_of(source)}
    copied = left_out = 0
    for activity in _activities_of(source):
        if activity.cancelled:
            left_out += 1
            continue
        _copy_activity(event, activity, rooms, days)
        copied += 1
    for calibration in db.session.scalars(
        sa.select(PrinterCalibration).where(PrinterCalibration.event_id == source.id)
    ):
        db.session.add(
            PrinterCalibration(
                event_id=event.id,
                layout=calibration.layout,
                x_mm=calibration.x_mm,
                y_mm=calibration.y_mm,
            )
        )
    db.session.flush()
    return CopyResult(event, len(rooms), copied, left_out)


def _rooms_of(source: Event) -> list[Room]:
    return list(
        db.session.scalars(
            sa.select(Room).where(Room.event_id == source.id).order_by(Room.position, Room.id)
        )
    )


def _activities_of(source: Event) -> list[Activity]:
    return list(
        db.session.scalars(
            sa.select(Activity)
            .where(Activity.event_id == source.id)
            .order_by(Activity.starts_at, Activity.id)
            .options(selectinload(Activity.people))
        )
    )


def _copy_room(event: Event, room: Room) -> Room:
    copy = Room(
        event=event,
        name=room.name,
        capacity=room.capacity,
        notes=room.notes,
        position=room.position,
    )
    db.session.add(copy)
    return copy


def _copy_activity(event: Event, activity: Activity, rooms: dict[int, Room], days: int) -> None:
    """Add a fresh copy (new uid, no seats taken, revision 0) with the same people linked."""
    zone_name = event.timezone
    copy = Activity(
        event=event,
        room=rooms.get(activity.room_id) if activity.room_id is not None else None,
        title=activity.title,
        kind=activity.kind,
        starts_at=shift_instant(activity.starts_at, days, zone_name),
        ends_at=shift_instant(activity.ends_at, days, zone_name),
        capacity=activity.capacity,
        seats_taken=0,
        requires_enrolment=activity.requires_enrolment,
        description=activity.description,
        language=activity.language,
        published=activity.published,
        cancelled=False,
        overlap_confirmed=activity.overlap_confirmed,
        revision=0,
    )
    # People are shared between events: the copy links the same Person rows.
    copy.people = [
        ActivityPerson(person_id=link.person_id, role=link.role, position=link.position)
        for link in activity.people
    ]
    db.session.add(copy)
