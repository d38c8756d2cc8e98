"""Changes to many registrations at once: cancel, mark badges for reprint, put into a workshop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
)
from eventapp.services.mail import registration_mail as notices
from eventapp.services.printing.badges import unmark_printed
from eventapp.services.registration import waitlist
from eventapp.services.registration.cancellation import cancel_for_organisers
from eventapp.services.registration.registrations import ACTIVE, overlaps

# Cancelling or moving runs seat by seat in one transaction: more than this many at once would
# hold a web worker (and the seat locks) too long, so the organiser narrows the selection.
MOST_CHANGED_AT_ONCE = 500


def _lock_event_and_activities(event: Event, activity_ids: set[int]) -> None:
    """Take the event's row lock, then the activities' in id order (every seat writer's order)."""
    db.session.execute(sa.select(Event.id).where(Event.id == event.id).with_for_update())
    for activity_id in sorted(activity_ids):
        waitlist.lock_activity(activity_id)


@dataclass
class CancelResult:
    """How a cancellation of several registrations went."""

    cancelled: int = 0
    already_cancelled: int = 0


def cancel_many(event: Event, registrations: Sequence[Registration], reason: str) -> CancelResult:
    """Cancel the registrations for the organisers (each gets the organisers' cancellation mail).

    Freed places go to the next in line as with a single cancellation.
    """
    result = CancelResult()
    active = [r for r in registrations if r.status != RegistrationStatus.CANCELLED]
    result.already_cancelled = len(registrations) - len(active)
    held = {e.activity_id for r in active for e in r.enrolments if e.status in ACTIVE}
    _lock_event_and_activities(event, held)
    for registration in sorted(active, key=lambda r: r.id):
        cancel_for_organisers(registration, reason)
        result.cancelled += 1
    db.session.flush()
    return result


@dataclass
class ReprintResult:
    """How marking badges for reprinting went."""

    marked: int = 0
    not_printed_yet: int = 0
    without_badge: int = 0


def mark_for_reprint(event: Event, registrations: Sequence[Registration]) -> ReprintResult:
    """Count printed badges as not printed, so the next batch of new badges prints them again.

    Only confirmed registrations get badges; the others are counted apart.
    """
    confirmed = [r for r in registrations if r.status == RegistrationStatus.CONFIRMED]
    printed = [r.id for r in confirmed if r.badge_printed_at is not None]
    marked = unmark_printed(event, printed)
    return ReprintResult(
        marked=marked,
        not_printed_yet=len(confirmed) - len(printed),
        without_badge=len(registrations) - len(confirmed),
    )


@dataclass
class WorkshopLine:
    """One selected person and what putting them into the workshop does."""

    registration: Registration
    # Places at the same time the person gives up for the new one.
    leaves: list[Activity] = field(default_factory=list)


@dataclass
class WorkshopPlan:
    """Who gets a seat, who goes on the waiting list, who stays as they are, and why."""

    activity: Activity
    seats_free: int | None
    seated: list[WorkshopLine] = field(default_factory=list)
    waitlisted: list[WorkshopLine] = field(default_factory=list)
    # Waiting for a place for the day: they can only wait for the workshop too.
    waiting_for_day: list[WorkshopLine] = field(default_factory=list)
    already_in: list[Registration] = field(default_factory=list)
    cancelled: list[Registration] = field(default_factory=list)

    @property
    def changes(self) -> int:
        """Count the people whose places change."""
        return len(self.seated) + len(self.waitlisted) + len(self.waiting_for_day)


def workshop_choices(event: Event) -> list[Activity]:
    """Return the activities people can be put into (published, taking enrolments, on)."""
    from eventapp.services.registration.registrations import enrollable_activities

    return enrollable_activities(event)


def plan_workshop(
    activity: Activity, registrations: Sequence[Registration], seats_free: int | None = None
) -> WorkshopPlan:
    """Tell, without changing anything, who would get a seat in the activity and who would wait.

    Seats go in order of registration (the earlier registration first); a person's place in an
    activity at the same time is given up for the new one. Nobody is seated past the capacity:
    who does not fit goes on the activity's waiting list.
    """
    if seats_free is None and activity.capacity is not None:
        seats_free = max(0, activity.capacity - activity.seats_taken)
    plan = WorkshopPlan(activity, seats_free)
    left = seats_free
    for registration in sorted(registrations, key=lambda r: r.id):
        if registration.status == RegistrationStatus.CANCELLED:
            plan.cancelled.append(registration)
            continue
        places = [e for e in registration.enrolments if e.status in ACTIVE]
        if any(e.activity_id == activity.id for e in places):
            plan.already_in.append(registration)
            continue
        line = WorkshopLine(
            registration,
            sorted(
                (e.activity for e in places if overlaps(e.activity, activity)),
                key=lambda a: (a.starts_at, a.id),
            ),
        )
        if registration.status != RegistrationStatus.CONFIRMED:
            plan.waiting_for_day.append(line)
        elif left is None or left > 0:
            plan.seated.append(line)
            left = None if left is None else left - 1
        else:
            plan.waitlisted.append(line)
    return plan


@dataclass
class WorkshopResult:
    """What putting people into a workshop did, counted as it happened."""

    seated: int = 0
    waitlisted: int = 0
    unchanged: int = 0


def put_into_workshop(
    event: Event, activity: Activity, registrations: Sequence[Registration]
) -> WorkshopResult:
    """Give the people seats in the activity while seats are free, else waiting places.

    Places at the same time are given up first (their seats go to the next in line). Each
    claim is the usual conditional UPDATE, so the capacity holds whatever happened since the
    plan was shown. Each person gets the mail that their choice changed.
    """
    held = {e.activity_id for r in registrations for e in r.enrolments if e.status in ACTIVE}
    _lock_event_and_activities(event, held | {activity.id})
    # Read the seats as they stand under the lock, not as loaded for the confirmation page.
    db.session.refresh(activity, ["seats_taken", "capacity"])
    plan = plan_workshop(activity, registrations)
    result = WorkshopResult(unchanged=len(plan.already_in) + len(plan.cancelled))
    for line in sorted(
        plan.seated + plan.waitlisted + plan.waiting_for_day, key=lambda x: x.registration.id
    ):
        registration = line.registration
        leaving = {a.id for a in line.leaves}
        for enrolment in registration.enrolments:
            if enrolment.activity_id in leaving and enrolment.status in ACTIVE:
                waitlist.withdraw(enrolment, notices.promotion)
        enrolment = waitlist.enrol(registration, activity)
        db.session.flush()
        if enrolment.status == EnrolmentStatus.CONFIRMED:
            result.seated += 1
        else:
            result.waitlisted += 1
        notices.changed(registration, None)
    db.session.flush()
    return result
