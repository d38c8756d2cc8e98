"""Attendance figures per workshop (who was let in at the door), for dashboards and lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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
    WorkshopAttendance,
)


@dataclass(frozen=True)
class ActivityAttendance:
    """One activity with registration: its seats, its lists and who came.

    confirmed: people holding a confirmed seat (their registration not cancelled);
    waiting: people on its waiting list (registration not cancelled);
    attended: people let in at its door (scanned or admitted there);
    no_shows: confirmed people who were not let in (confirmed minus those who came);
    capacity: its seat limit (None: no limit).
    """

    activity: Activity
    capacity: int | None
    confirmed: int
    waiting: int
    attended: int
    no_shows: int


def workshops_with_doors(event: Event) -> list[Activity]:
    """Return the event's activities with registration (a door to scan at), in programme order.

    Cancelled ones are left out; unpublished ones stay (people may hold seats in them).
    """
    return list(
        db.session.scalars(
            sa.select(Activity)
            .where(
                Activity.event_id == event.id,
                Activity.requires_enrolment.is_(True),
                Activity.cancelled.is_(False),
            )
            .options(selectinload(Activity.room))
            .order_by(Activity.starts_at, Activity.id)
        )
    )


def attendance_by_activity(event: Event) -> list[ActivityAttendance]:
    """Return attendance figures for each of the event's activities with registration.

    In programme order, cancelled activities left out; three grouped queries whatever the
    number of activities. Before the day, attended is 0 and no_shows equals confirmed.
    """
    activities = workshops_with_doors(event)
    if not activities:
        return []
    ids = [a.id for a in activities]
    came = (
        sa.select(WorkshopAttendance.id)
        .where(
            WorkshopAttendance.activity_id == Enrolment.activity_id,
            WorkshopAttendance.registration_id == Enrolment.registration_id,
        )
        .exists()
    )
    lists: dict[tuple[int, str], tuple[int, int]] = {
        (activity_id, str(status)): (int(number), int(present or 0))
        for activity_id, status, number, present in db.session.execute(
            sa.select(
                Enrolment.activity_id,
                Enrolment.status,
                sa.func.count(Enrolment.id),
                sa.func.sum(sa.case((came, 1), else_=0)),
            )
            .join(Registration, Registration.id == Enrolment.registration_id)
            .where(
                Enrolment.activity_id.in_(ids),
                Enrolment.status != EnrolmentStatus.CANCELLED,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .group_by(Enrolment.activity_id, Enrolment.status)
        )
    }
    attended = dict(
        db.session.execute(
            sa.select(WorkshopAttendance.activity_id, sa.func.count(WorkshopAttendance.id))
            .where(WorkshopAttendance.activity_id.in_(ids))
            .group_by(WorkshopAttendance.activity_id)
        ).all()
    )
    figures = []
    for activity in activities:
        confirmed, confirmed_came = lists.get((activity.id, EnrolmentStatus.CONFIRMED), (0, 0))
        waiting, _waiting_came = lists.get((activity.id, EnrolmentStatus.WAITLISTED), (0, 0))
        figures.append(
            ActivityAttendance(
                activity=activity,
                capacity=activity.capacity,
                confirmed=confirmed,
                waiting=waiting,
                attended=int(attended.get(activity.id, 0)),
                no_shows=confirmed - confirmed_came,
            )
        )
    return figures


def admission_times(activity_ids: Iterable[int]) -> dict[int, dict[int, datetime]]:
    """Return, per activity, when each person (registration id) was let in at its door."""
    ids = list(activity_ids)
    times: dict[int, dict[int, datetime]] = {}
    if not ids:
        return times
    for activity_id, registration_id, scanned_at in db.session.execute(
        sa.select(
            WorkshopAttendance.activity_id,
            WorkshopAttendance.registration_id,
            WorkshopAttendance.scanned_at,
        ).where(WorkshopAttendance.activity_id.in_(ids))
    ):
        times.setdefault(activity_id, {})[registration_id] = scanned_at
    return times
