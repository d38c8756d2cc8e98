"""What the public sees: published events and their published activities, one query each."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import Activity, ActivityKind, ActivityPerson, Event

# Load an activity's room and people with it, in a fixed few queries for any number of rows.
WITH_ROOM_AND_PEOPLE = (
    selectinload(Activity.room),
    selectinload(Activity.people).selectinload(ActivityPerson.person),
)


def published_events() -> list[Event]:
    """Return all published events, the latest first."""
    return list(
        db.session.scalars(
            sa.select(Event).where(Event.published).order_by(Event.starts_on.desc(), Event.id)
        )
    )


def published_event(slug: str) -> Event | None:
    """Return the published event with this slug."""
    return db.session.scalar(sa.select(Event).where(Event.slug == slug, Event.published))


def published_activities_query(
    event: Event, kind: ActivityKind | str | None = None, include_breaks: bool = True
) -> sa.Select[tuple[Activity]]:
    """Select the event's published activities (cancelled ones included), optionally of a kind."""
    query = sa.select(Activity).where(Activity.event_id == event.id, Activity.published)
    if kind:
        query = query.where(Activity.kind == kind)
    if not include_breaks:
        query = query.where(Activity.kind != ActivityKind.BREAK)
    return query


def enrollable_activities_query(event: Event) -> sa.Select[tuple[Activity]]:
    """Select the published activities people take a seat in when registering (not cancelled)."""
    return published_activities_query(event).where(Activity.requires_enrolment, ~Activity.cancelled)


def published_activities(event: Event, include_breaks: bool = True) -> list[Activity]:
    """Load the event's published activities with rooms and people, in programme order."""
    query = (
        published_activities_query(event, include_breaks=include_breaks)
        .options(*WITH_ROOM_AND_PEOPLE)
        .order_by(Activity.starts_at, Activity.id)
    )
    return list(db.session.scalars(query))


def published_activity(event: Event, activity_id: int) -> Activity | None:
    """Load one of the event's published activities with its room and people."""
    return db.session.scalar(
        published_activities_query(event)
        .where(Activity.id == activity_id)
        .options(*WITH_ROOM_AND_PEOPLE)
    )


def event_stamp(event: Event) -> tuple[object, ...]:
    """Return the event's own values, its seat counter and change time left out.

    With the programme stamp (moved by every edit of activities, rooms and people) it names
    what the event's public pages show, and it catches a change of the event made anywhere.
    """
    return tuple(
        getattr(event, column.key)
        for column in Event.__table__.columns
        if column.key not in {"seats_taken", "updated_at"}
    )


def programme_stamp(event: Event) -> tuple[object, ...]:
    """Return what moves whenever the event's public pages may change, in one light query.

    Every programme edit moves the event's programme stamp or an activity's change time, and
    every seat taken or freed moves an activity's change time and its counter.
    """
    count, changed, taken = db.session.execute(
        sa.select(
            sa.func.count(Activity.id),
            sa.func.max(Activity.updated_at),
            sa.func.coalesce(sa.func.sum(Activity.seats_taken), 0),
        ).where(Activity.event_id == event.id)
    ).one()
    return (*event_stamp(event), event.seats_taken, count, changed, taken)
