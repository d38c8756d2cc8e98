"""The organisers' figures of an event, each counted by one SQL aggregate query."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.labels import FEDERAL_STATES
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    Network,
    Registration,
    RegistrationStatus,
)
from eventapp.services.checkin.attendance import attendance_by_activity
from eventapp.services.reporting.time_buckets import QUARTER_HOUR, bucket_of, bucket_start
from eventapp.timezones import to_local


@dataclass(frozen=True)
class DayTotals:
    """Registrations made on one local day, and the running totals up to its end."""

    day: date
    confirmed: int
    waitlisted: int
    confirmed_total: int
    waitlisted_total: int


@dataclass(frozen=True)
class ActivitySeats:
    """One enrolment activity: confirmed, waiting and free places (free None: no seat limit)."""

    activity_id: int
    title: str
    starts_at: datetime
    capacity: int | None
    confirmed: int
    waitlisted: int

    @property
    def free(self) -> int | None:
        """Return the places nobody holds (never below zero), or None without a seat limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.confirmed, 0)


@dataclass(frozen=True)
class StateCount:
    """One Bundesland: the networks represented and the confirmed people from it."""

    state: str
    networks: int
    people: int


@dataclass(frozen=True)
class CheckinSlot:
    """Check-ins at the entrance during one quarter of an hour (starts_at in UTC)."""

    starts_at: datetime
    count: int
    total: int


@dataclass(frozen=True)
class CheckinDay:
    """The quarter-hours of one local day, from the first hour with check-ins to the last."""

    day: date
    slots: list[CheckinSlot]

    @property
    def total(self) -> int:
        """Return everyone checked in on this day."""
        return self.slots[-1].total if self.slots else 0


@dataclass(frozen=True)
class NoShows:
    """One enrolment activity: confirmed people and those of them who did not come."""

    activity_id: int
    title: str
    starts_at: datetime
    confirmed: int
    absent: int
    # True: counted from scans at the workshop's door; False: from the entrance check-in.
    at_door: bool = False


@dataclass(frozen=True)
class Headline:
    """The event's key numbers at a glance."""

    confirmed: int
    waitlisted: int
    cancelled: int
    checked_in: int
    capacity: int | None


@dataclass
class EventFigures:
    """Every figure of the organisers' dashboard, counted at one moment."""

    event: Event
    counted_at: datetime
    headline: Headline
    registrations: list[DayTotals] = field(default_factory=list)
    activities: list[ActivitySeats] = field(default_factory=list)
    states: list[StateCount] = field(default_factory=list)
    # Confirmed people whose Bundesland is not one of the 16 (none given, or abroad).
    people_without_state: int = 0
    checkins: list[CheckinDay] = field(default_factory=list)
    no_shows: list[NoShows] = field(default_factory=list)


ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


def _counted(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """Return SUM(CASE WHEN condition THEN 1 ELSE 0 END), portable to every database."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _activity_ids(event: Event) -> sa.Select[tuple[int]]:
    """Return a subquery of the event's activity ids (keeps the enrolment counts to one event)."""
    return sa.select(Activity.id).where(Activity.event_id == event.id)


def headline(event: Event) -> Headline:
    """Count the event's registrations by status and the people checked in."""
    row = db.session.execute(
        sa.select(
            _counted(Registration.status == RegistrationStatus.CONFIRMED),
            _counted(Registration.status == RegistrationStatus.WAITLISTED),
            _counted(Registration.status == RegistrationStatus.CANCELLED),
            sa.func.count(Registration.checked_in_at),
        ).where(Registration.event_id == event.id)
    ).one()
    return Headline(
        confirmed=int(row[0]),
        waitlisted=int(row[1]),
        cancelled=int(row[2]),
        checked_in=int(row[3]),
        capacity=event.capacity,
    )


def registrations_by_day(event: Event) -> list[DayTotals]:
    """Return per local day the registrations made (confirmed and waiting now) with running totals.

    The database counts per quarter-hour; the quarter-hours are folded into the event's local
    days here, so the days follow the event's time zone, summer time included. Cancelled
    registrations are left out.
    """
    bucket = bucket_of(Registration.created_at)
    rows = db.session.execute(
        sa.select(bucket, Registration.status, sa.func.count())
        .where(Registration.event_id == event.id, Registration.status.in_(ACTIVE))
        .group_by(bucket, Registration.status)
    ).all()
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for number, status, count in rows:
        day = to_local(bucket_start(number), event.timezone).date()
        per_day[day][0 if status == RegistrationStatus.CONFIRMED else 1] += int(count)
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    result: list[DayTotals] = []
    confirmed_total = waitlisted_total = 0
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        confirmed, waitlisted = per_day.get(day, (0, 0))
        confirmed_total += confirmed
        waitlisted_total += waitlisted
        result.append(DayTotals(day, confirmed, waitlisted, confirmed_total, waitlisted_total))
    return result


def seats_by_activity(event: Event) -> list[ActivitySeats]:
    """Return each enrolment activity (not cancelled) with confirmed, waiting and free places."""
    counts = (
        sa.select(
            Enrolment.activity_id.label("activity_id"),
            _counted(Enrolment.status == EnrolmentStatus.CONFIRMED).label("confirmed"),
            _counted(Enrolment.status == EnrolmentStatus.WAITLISTED).label("waitlisted"),
        )
        .where(Enrolment.activity_id.in_(_activity_ids(event)))
        .group_by(Enrolment.activity_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Activity.id,
            Activity.title,
            Activity.starts_at,
            Activity.capacity,
            sa.func.coalesce(counts.c.confirmed, 0),
            sa.func.coalesce(counts.c.waitlisted, 0),
        )
        .outerjoin(counts, counts.c.activity_id == Activity.id)
        .where(
            Activity.event_id == event.id,
            Activity.requires_enrolment.is_(True),
            Activity.cancelled.is_(False),
        )
        .order_by(Activity.starts_at, Activity.title, Activity.id)
    ).all()
    return [ActivitySeats(row[0], row[1], row[2], row[3], int(row[4]), int(row[5])) for row in rows]


def people_by_state(event: Event) -> tuple[list[StateCount], int]:
    """Return the 16 Länder in a fixed order with networks and confirmed people, and the rest.

    A person counts for the Bundesland given at registration, or else their network's; a
    network counts for its own Bundesland once it has a confirmed person at the event. The
    second value is the confirmed people with no (German) Bundesland.
    """
    confirmed = (
        Registration.event_id == event.id,
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    state = sa.func.coalesce(sa.func.nullif(Registration.state, ""), Network.state, "")
    people = dict(
        db.session.execute(
            sa.select(state, sa.func.count(Registration.id))
            .select_from(Registration)
            .outerjoin(Network, Network.id == Registration.network_id)
            .where(*confirmed)
            .group_by(state)
        ).all()
    )
    networks = dict(
        db.session.execute(
            sa.select(Network.state, sa.func.count(sa.distinct(Network.id)))
            .join(Registration, Registration.network_id == Network.id)
            .where(*confirmed)
            .group_by(Network.state)
        ).all()
    )
    states = [
        StateCount(name, int(networks.get(name, 0)), int(people.get(name, 0)))
        for name in FEDERAL_STATES
    ]
    elsewhere = sum(int(n) for name, n in people.items() if name not in FEDERAL_STATES)
    return states, elsewhere


def checkins_by_quarter_hour(event: Event) -> list[CheckinDay]:
    """Return the entrance check-ins per quarter-hour of the event's local days.

    Each day runs from the full hour of its first check-in to the end of the hour of its last,
    quarter-hours without anyone included (as zero), so the chart shows the day's shape.
    """
    bucket = bucket_of(Registration.checked_in_at)
    rows = db.session.execute(
        sa.select(bucket, sa.func.count())
        .where(Registration.event_id == event.id, Registration.checked_in_at.is_not(None))
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    per_day: dict[date, dict[datetime, int]] = defaultdict(dict)
    for number, count in rows:
        start = bucket_start(number)
        per_day[to_local(start, event.timezone).date()][start] = int(count)
    days: list[CheckinDay] = []
    for day in sorted(per_day):
        counts = per_day[day]
        first, last = min(counts), max(counts)
        local_first = to_local(first, event.timezone)
        local_last = to_local(last, event.timezone)
        start = first - timedelta(minutes=local_first.minute)
        end = last + timedelta(minutes=60 - local_last.minute)
        slots: list[CheckinSlot] = []
        total = 0
        moment = start
        while moment < end:
            count = counts.get(moment, 0)
            total += count
            slots.append(CheckinSlot(moment, count, total))
            moment += timedelta(seconds=QUARTER_HOUR)
        days.append(CheckinDay(day, slots))
    return days


def no_shows_by_activity(event: Event) -> list[NoShows]:
    """Return per enrolment activity the confirmed people and how many of them did not come.

    Where stewards scanned at the workshop's door, "did not come" means confirmed but not let
    in there. At a door nobody scanned, it means confirmed but not checked in at the entrance
    (a door may go unattended; its people are then not all counted as missing). This is the
    one place that says so; every page and CSV follows.
    """
    door = {counted.activity.id: counted for counted in attendance_by_activity(event)}
    attendance = (
        sa.select(
            Enrolment.activity_id.label("activity_id"),
            sa.func.count(Enrolment.id).label("confirmed"),
            _counted(Registration.checked_in_at.is_(None)).label("absent"),
        )
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Enrolment.activity_id.in_(_activity_ids(event)),
        )
        .group_by(Enrolment.activity_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Activity.id,
            Activity.title,
            Activity.starts_at,
            sa.func.coalesce(attendance.c.confirmed, 0),
            sa.func.coalesce(attendance.c.absent, 0),
        )
        .outerjoin(attendance, attendance.c.activity_id == Activity.id)
        .where(
            Activity.event_id == event.id,
            Activity.requires_enrolment.is_(True),
            Activity.cancelled.is_(False),
        )
        .order_by(Activity.starts_at, Activity.title, Activity.id)
    ).all()
    found = []
    for activity_id, title, starts_at, confirmed, absent in rows:
        counted = door.get(activity_id)
        if counted is not None and counted.attended:
            found.append(
                NoShows(activity_id, title, starts_at, counted.confirmed, counted.no_shows, True)
            )
        else:
            found.append(NoShows(activity_id, title, starts_at, int(confirmed), int(absent)))
    return found


def event_figures(event: Event, counted_at: datetime) -> EventFigures:
    """Count every figure of the dashboard for the event."""
    states, elsewhere = people_by_state(event)
    return EventFigures(
        event=event,
        counted_at=counted_at,
        headline=headline(event),
        registrations=registrations_by_day(event),
        activities=seats_by_activity(event),
        states=states,
        people_without_state=elsewhere,
        checkins=checkins_by_quarter_hour(event),
        no_shows=no_shows_by_activity(event),
    )
