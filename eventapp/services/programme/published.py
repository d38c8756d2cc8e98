"""What the public sees: published events and their published activities, one query each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp import page_lane
from eventapp.extensions import db
from eventapp.models import Activity, ActivityKind, ActivityPerson, Event
from eventapp.prebuilt import PrebuiltRead

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
    query = _published(Activity.event_id == event.id)
    if kind:
        query = query.where(Activity.kind == kind)
    if not include_breaks:
        query = query.where(Activity.kind != ActivityKind.BREAK)
    return query


def published_activities_of_events_query() -> sa.Select[tuple[Activity]]:
    """Select the published activities of several events, whose ids come at execution ("events").

    For statements built once and run many times with different events.
    """
    return _published(Activity.event_id.in_(sa.bindparam("events", expanding=True)))


def _published(of_events: sa.ColumnElement[bool]) -> sa.Select[tuple[Activity]]:
    return sa.select(Activity).where(of_events, Activity.published)


def enrollable_activities_query(event: Event) -> sa.Select[tuple[Activity]]:
    """Select the published activities people take a seat in when registering (not cancelled)."""
    return _enrollable(Activity.event_id == event.id)


def enrollable_activities_of_event_query() -> sa.Select[tuple[Activity]]:
    """Select the same with the event id given at execution ("event_id"), to build once."""
    return _enrollable(Activity.event_id == sa.bindparam("event_id"))


def _enrollable(of_event: sa.ColumnElement[bool]) -> sa.Select[tuple[Activity]]:
    return sa.select(Activity).where(of_event, *enrollable(Activity))


def enrollable(activity: Any) -> tuple[sa.ColumnElement[bool], ...]:
    """Return what makes an activity (Activity or an alias of it) one that takes enrolments."""
    return (activity.published, activity.requires_enrolment, ~activity.cancelled)


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


@dataclass(frozen=True)
class FeedStamp:
    """What a published event's programme feeds depend on: its change times, its activities'."""

    event_id: int
    programme_changed_at: datetime | None
    updated_at: datetime | None
    activities_changed_at: datetime | None
    activity_count: int


@dataclass(frozen=True)
class EventStamp:
    """What a published event's public pages and feeds depend on, read in one query by slug.

    own: the event's values without its seat counter and change time (they move with every
    registration); with the programme stamp column among them, any edit of the event or its
    programme moves it. The registration form and confirmation pages are keyed on it.
    """

    event_id: int
    own: tuple[object, ...]
    title: str
    capacity: int | None
    per_network_limit: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    is_full: bool
    # Moved by every seat taken or freed and every edit of an activity (published or not).
    seats_and_activities: tuple[object, ...]
    feed: FeedStamp

    @property
    def id(self) -> int:
        """Return the event's id (the stamp stands in for the event where its values suffice)."""
        return self.event_id

    @property
    def pages(self) -> tuple[object, ...]:
        """Return what the event and activity pages show depends on (seats included)."""
        return (*self.own, *self.seats_and_activities)


_EVENT = Event.__table__
_ACTIVITY = Activity.__table__
_OWN = [c for c in _EVENT.columns if c.key not in {"seats_taken", "updated_at"}]
_SHOWN = _ACTIVITY.c.published.is_(True)
# Built once: the event's row and its activities' totals and seats, all of them and the
# published ones.
_EVENT_STAMP = (
    sa.select(
        *_OWN,
        _EVENT.c.seats_taken,
        _EVENT.c.updated_at,
        sa.func.count(_ACTIVITY.c.id),
        sa.func.max(_ACTIVITY.c.updated_at),
        # Every activity's seats, not their sum: a seat moved from one workshop to another
        # leaves the sum as it was, yet both pages must show it.
        sa.func.aggregate_strings(
            sa.cast(_ACTIVITY.c.id, sa.String) + ":" + sa.cast(_ACTIVITY.c.seats_taken, sa.String),
            ",",
        ),
        sa.type_coerce(
            sa.func.max(sa.case((_SHOWN, _ACTIVITY.c.updated_at))), _ACTIVITY.c.updated_at.type
        ),
        sa.func.coalesce(sa.func.sum(sa.case((_SHOWN, 1), else_=0)), 0),
    )
    .select_from(_EVENT.outerjoin(_ACTIVITY, _ACTIVITY.c.event_id == _EVENT.c.id))
    .where(_EVENT.c.slug == sa.bindparam("slug"), _EVENT.c.published.is_(True))
    .group_by(_EVENT.c.id)
)


_STAMP_READ = PrebuiltRead(_EVENT_STAMP)
# Columns of the stamp query: a longer query that starts with them reads its stamp with
# event_stamp().
STAMP_COLUMNS = len(_EVENT_STAMP.selected_columns)


def event_stamp_query() -> sa.Select[Any]:
    """Return the stamp query (the slug given at execution), to build a longer one on it."""
    return _EVENT_STAMP


_OWN_INDEX = {column.key: index for index, column in enumerate(_OWN)}


def published_event_stamp(slug: str) -> EventStamp | None:
    """Return the stamp of the published event with this slug, in one query (None: none).

    When the page lane read it for this request already, that stamp is taken (page_lane.py).
    """
    lent = page_lane.lent_stamp(slug)
    if lent is not None:
        return lent
    return published_event_stamp_in(db.engine, slug)


def published_event_stamp_in(engine: sa.Engine, slug: str) -> EventStamp | None:
    """Return the stamp of the published event with this slug, read through this engine."""
    row = _STAMP_READ.first(engine, slug=slug)
    if row is None:
        return None
    return event_stamp(row)


def event_stamp(row: tuple[object, ...]) -> EventStamp:
    """Read an EventStamp from a row that begins with the stamp query's columns."""
    own = row[: len(_OWN)]
    taken, updated_at, count, changed, seats, shown_changed, shown_count = row[
        len(_OWN) : STAMP_COLUMNS
    ]
    event_id = own[_OWN_INDEX["id"]]
    limit = own[_OWN_INDEX["capacity"]]
    return EventStamp(
        event_id,
        own,
        own[_OWN_INDEX["title"]],
        limit,
        own[_OWN_INDEX["per_network_limit"]],
        own[_OWN_INDEX["registration_opens_at"]],
        own[_OWN_INDEX["registration_closes_at"]],
        limit is not None and taken >= limit,
        (taken, count, changed, seats),
        FeedStamp(
            event_id,
            own[_OWN_INDEX["programme_changed_at"]],
            updated_at,
            shown_changed,
            shown_count,
        ),
    )
