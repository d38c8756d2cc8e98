"""Seats and waiting lists: claim a seat with one conditional UPDATE, pass freed seats on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
)
from eventapp.prebuilt import PrebuiltStatement
from eventapp.services.programme.published import EventStamp
from eventapp.timezones import utcnow

# Called with each enrolment or registration that moved up from a waiting list (sends the mail).
PromotionNotice = Callable[[Registration, list[Enrolment], bool], None]


# Rows that count their own confirmed seats against a capacity (CHECK seats_taken <= capacity).
SeatCounter = type[Activity] | type[Event]


def _expire(model: SeatCounter, row_id: int) -> None:
    """Forget the loaded counter of a row changed by a Core UPDATE."""
    loaded = db.session.identity_map.get(sa.inspect(model).identity_key_from_primary_key((row_id,)))
    if loaded is not None:
        db.session.expire(loaded, ["seats_taken", "capacity"])


def _claim_statement(model: SeatCounter) -> sa.Update:
    """Build the conditional UPDATE that takes one seat of a row ("row_id"), if one is free."""
    table = model.__table__
    return (
        table.update()
        .where(
            table.c.id == sa.bindparam("row_id"),
            sa.or_(table.c.capacity.is_(None), table.c.seats_taken < table.c.capacity),
        )
        # The change time stays: it marks programme edits, which feeds and calendars follow.
        .values(seats_taken=table.c.seats_taken + 1, updated_at=table.c.updated_at)
    )


# Built once: taking a seat is the statement every registration runs.
_CLAIM = {model: PrebuiltStatement(_claim_statement(model)) for model in (Activity, Event)}


def claim_seat(model: SeatCounter, row_id: int) -> bool:
    """Take one seat if one is free; the UPDATE's row lock makes this safe under concurrency."""
    claimed = _CLAIM[model].run(db.session.connection(), row_id=row_id).rowcount == 1
    _expire(model, row_id)
    return claimed


def release_seat(model: SeatCounter, row_id: int) -> None:
    """Give one seat back."""
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.seats_taken > 0)
        .values(seats_taken=model.seats_taken - 1, updated_at=model.updated_at)
        .execution_options(synchronize_session=False)
    )
    _expire(model, row_id)


def set_seat_limit(model: SeatCounter, row_id: int, capacity: int | None) -> bool:
    """Set the capacity unless it would fall below the seats taken; tell whether it was set."""
    result = db.session.execute(
        sa.update(model)
        .where(model.id == row_id, sa.true() if capacity is None else model.seats_taken <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    _expire(model, row_id)
    return result.rowcount == 1


def take_day_place(event: Event | EventStamp, *, limited: bool | None = None) -> bool:
    """Take a place for the day; False when the event's overall limit is reached.

    With a limit, one conditional UPDATE raises the event's counter (its row lock queues the
    writers). Without one nothing is counted: a shared lock on the event's row (PostgreSQL;
    SQLite runs one writer at a time anyway) only keeps an organiser from setting a limit
    until this transaction ends, so registrations for an unlimited day do not queue.

    limited: whether the day has a limit, when this transaction read it already along with
    other things (with_day_limit); None reads it here.
    """
    if limited is None:
        limited = _day_is_limited(event)
    return claim_seat(Event, event.id) if limited else True


def give_back_day_place(event: Event) -> None:
    """Return a confirmed place for the day to the counter (counted only while limited)."""
    if _day_is_limited(event):
        release_seat(Event, event.id)


def _day_is_limited(event: Event | EventStamp) -> bool:
    """Tell whether the event has an overall limit (its places are then counted).

    Without one as loaded, the limit is read again as committed, under a shared lock on the
    event's row held until commit.
    """
    if event.capacity is not None:
        return True
    limit = db.session.connection().execute(_DAY_LIMIT, {"event_id": event.id}).scalar_one()
    return limit is not None


def with_day_limit(query: sa.Select[Any]) -> sa.Select[Any]:
    """Add the day's limit of the event "event_id" to a query, read as take_day_place reads it.

    The limit comes as the last column, read as committed under a shared lock on the event's
    row held until commit; whether there is one goes to take_day_place(limited=...). The
    lock is the event's row only: a query may join rows that stay unlocked.
    """
    table = Event.__table__
    return (
        query.add_columns(table.c.capacity)
        .where(table.c.id == sa.bindparam("event_id"))
        .with_for_update(read=True, of=table)
    )


_DAY_LIMIT = with_day_limit(sa.select().select_from(Event.__table__))


def set_day_limit(event: Event, capacity: int | None) -> tuple[bool, int]:
    """Set the event's overall limit and count its confirmed places afresh.

    Returns whether it was set (never below the confirmed count) and that count. The row
    lock comes first, so registrations still running finish before the count is taken.
    """
    table = Event.__table__
    db.session.execute(sa.select(table.c.id).where(table.c.id == event.id).with_for_update())
    confirmed = int(
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.over_capacity.is_(False),
            )
        )
        or 0
    )
    if capacity is not None and confirmed > capacity:
        return False, confirmed
    db.session.execute(
        table.update()
        .where(table.c.id == event.id)
        .values(capacity=capacity, seats_taken=confirmed)
    )
    _expire(Event, event.id)
    return True, confirmed


def enrol(
    registration: Registration, activity: Activity, *, over_capacity: bool = False
) -> Enrolment:
    """Confirm or waitlist the registration for an activity, reusing a cancelled enrolment."""
    eligible = registration.status == RegistrationStatus.CONFIRMED
    seated = eligible and claim_seat(Activity, activity.id)
    now = utcnow()  # after the seat UPDATE: the place in line follows the lock order
    enrolment = next((e for e in registration.enrolments if e.activity_id == activity.id), None)
    if enrolment is None:
        enrolment = Enrolment(registration=registration, activity=activity)
    for name, value in seat_values(seated, over_capacity, now).items():
        setattr(enrolment, name, value)
    db.session.add(enrolment)
    return enrolment


def seat_values(seated: bool, over_capacity: bool, now: datetime) -> dict[str, object]:
    """Return an enrolment's columns once its seat is claimed (seated) or not, given now.

    Without a seat the person waits in line from now; an organiser's choice (over_capacity)
    is confirmed all the same, marked as beyond the limit.
    """
    confirmed = seated or over_capacity
    return {
        "queued_at": now,
        "cancelled_at": None,
        "status": EnrolmentStatus.CONFIRMED if confirmed else EnrolmentStatus.WAITLISTED,
        "confirmed_at": now if confirmed else None,
        "over_capacity": over_capacity and not seated,
    }


def lock_activity(activity_id: int) -> None:
    """Hold the activity's row lock until commit (SQLite's writers are serialised anyway)."""
    db.session.execute(sa.select(Activity.id).where(Activity.id == activity_id).with_for_update())


def withdraw(enrolment: Enrolment, notify: PromotionNotice | None) -> list[Enrolment]:
    """Cancel an enrolment; a freed seat goes to the next in line at once."""
    # Lock the activity first (the order every seat writer follows), then read the status as
    # committed: a concurrent promotion may have confirmed this waiting enrolment meanwhile.
    lock_activity(enrolment.activity_id)
    db.session.refresh(enrolment, ["status", "over_capacity"])
    was_counted = enrolment.status == EnrolmentStatus.CONFIRMED and not enrolment.over_capacity
    enrolment.status = EnrolmentStatus.CANCELLED
    enrolment.cancelled_at = utcnow()
    enrolment.over_capacity = False
    db.session.flush()
    if not was_counted:
        return []
    release_seat(Activity, enrolment.activity_id)
    return promote_next(enrolment.activity, notify)


def next_in_line(activity_id: int, limit: int | None = None) -> list[Enrolment]:
    """Return the waiting enrolments whose holders have a place for the day, first come first."""
    query = (
        sa.select(Enrolment)
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(
            Enrolment.activity_id == activity_id,
            Enrolment.status == EnrolmentStatus.WAITLISTED,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Enrolment.queued_at, Enrolment.id)
        .options(selectinload(Enrolment.registration))
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def promote_next(activity: Activity, notify: PromotionNotice | None) -> list[Enrolment]:
    """Move people up from the activity's waiting list while seats are free."""
    promoted: list[Enrolment] = []
    while True:
        candidates = next_in_line(activity.id, limit=1)
        if not candidates or not claim_seat(Activity, activity.id):
            break
        enrolment = candidates[0]
        enrolment.status = EnrolmentStatus.CONFIRMED
        enrolment.confirmed_at = utcnow()
        db.session.flush()
        promoted.append(enrolment)
        if notify is not None:
            notify(enrolment.registration, [enrolment], False)
    return promoted


def promote_registrations(event: Event, notify: PromotionNotice | None) -> list[Registration]:
    """Give free places for the day to the event's waiting list, then their workshop choices."""
    promoted: list[Registration] = []
    while True:
        registration = db.session.scalar(
            sa.select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.queued_at, Registration.id)
            .limit(1)
        )
        if registration is None or not claim_seat(Event, event.id):
            break
        registration.status = RegistrationStatus.CONFIRMED
        db.session.flush()
        confirmed: list[Enrolment] = []
        waiting = [e for e in registration.enrolments if e.status == EnrolmentStatus.WAITLISTED]
        for enrolment in sorted(waiting, key=lambda e: e.activity_id):
            ahead = next_in_line(enrolment.activity_id, limit=1)
            if (
                ahead
                and ahead[0].id == enrolment.id
                and claim_seat(Activity, enrolment.activity_id)
            ):
                enrolment.status = EnrolmentStatus.CONFIRMED
                enrolment.confirmed_at = utcnow()
                confirmed.append(enrolment)
        db.session.flush()
        promoted.append(registration)
        if notify is not None:
            notify(registration, confirmed, True)
    return promoted


def _ahead_in_line(
    model: type[Enrolment] | type[Registration],
    line: sa.ColumnElement[int],
    line_key: str,
    waiting: EnrolmentStatus | RegistrationStatus,
    own_key: str,
) -> sa.Select[tuple[int]]:
    """Count who waits ahead in one line: queued earlier, or at the same moment with a lower id.

    Built once; the line's id, the place's queue time and its own id come at execution.
    """
    return sa.select(sa.func.count(model.id)).where(
        line == sa.bindparam(line_key),
        model.status == waiting,
        sa.or_(
            model.queued_at < sa.bindparam("queued_at"),
            sa.and_(model.queued_at == sa.bindparam("queued_at"), model.id < sa.bindparam(own_key)),
        ),
    )


def _places_in_line(
    model: type[Enrolment] | type[Registration],
    line: str,
    waiting: EnrolmentStatus | RegistrationStatus,
) -> sa.Select[tuple[int, int]]:
    """Build the query of the places in line (1-based) of those of some rows (ids) that wait.

    The lines they wait in are numbered in one pass each, in the order _ahead_in_line counts
    (queue time, then id), instead of counting who is ahead of each place separately.
    """
    line_column = getattr(model, line)
    asked = sa.select(line_column).where(model.id.in_(sa.bindparam("lines_of", expanding=True)))
    numbered = (
        sa.select(
            model.id,
            sa.func.row_number()
            .over(partition_by=line_column, order_by=(model.queued_at, model.id))
            .label("place"),
        )
        .where(
            line_column.in_(asked.scalar_subquery()),
            model.status == waiting,
            model.queued_at.is_not(None),
        )
        .subquery()
    )
    return sa.select(numbered.c.id, numbered.c.place).where(
        numbered.c.id.in_(sa.bindparam("ids", expanding=True))
    )


# How many wait ahead of one enrolment (see waitlist_position). Built once, as are those below.
_AHEAD_IN_ACTIVITY = _ahead_in_line(
    Enrolment, Enrolment.activity_id, "activity", EnrolmentStatus.WAITLISTED, "enrolment"
)
# How many wait ahead of one registration on its event's list (see event_waitlist_position).
_AHEAD_FOR_EVENT = _ahead_in_line(
    Registration, Registration.event_id, "event", RegistrationStatus.WAITLISTED, "registration"
)
# The places of several enrolments, and of several registrations on their events' lists.
_PLACES_IN_ACTIVITIES = _places_in_line(Enrolment, "activity_id", EnrolmentStatus.WAITLISTED)
_PLACES_FOR_EVENTS = _places_in_line(Registration, "event_id", RegistrationStatus.WAITLISTED)


def waitlist_position(enrolment: Enrolment) -> int | None:
    """Return the 1-based place in line of a waiting enrolment (None if not waiting)."""
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        _AHEAD_IN_ACTIVITY,
        {
            "activity": enrolment.activity_id,
            "queued_at": enrolment.queued_at,
            "enrolment": enrolment.id,
        },
    )
    return int(ahead or 0) + 1


def event_waitlist_position(registration: Registration) -> int | None:
    """Return the 1-based place on the event's waiting list (None if not waiting)."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.queued_at is None:
        return None
    ahead = db.session.scalar(
        _AHEAD_FOR_EVENT,
        {
            "event": registration.event_id,
            "queued_at": registration.queued_at,
            "registration": registration.id,
        },
    )
    return int(ahead or 0) + 1


def waitlist_positions(enrolment_ids: Iterable[int]) -> dict[int, int]:
    """Return the places in line (1-based) of those of the given enrolments that wait, at once."""
    return _places(_PLACES_IN_ACTIVITIES, enrolment_ids)


def event_waitlist_positions(registration_ids: Iterable[int]) -> dict[int, int]:
    """Return the places on their events' waiting lists of those of the registrations that wait."""
    return _places(_PLACES_FOR_EVENTS, registration_ids)


def _places(query: sa.Select[tuple[int, int]], ids: Iterable[int]) -> dict[int, int]:
    """Run a query of places in line for some ids (none: no query)."""
    ids = list(ids)
    if not ids:
        return {}
    return dict(db.session.execute(query, {"ids": ids, "lines_of": ids}).all())
