"""Participants' clashes: people who would hold two activities at the same time after an edit.

When an activity moves, people enrolled in it (confirmed or waiting) may also hold another
activity at the new time. The planner's check reports each such person as a conflict; the
organiser saves anyway only with a choice: keep both places, or move those holding two
confirmed seats to the waiting list of the moved activity (its freed seats go to the next in
line who has no clash). Only clashes the edit creates count: one kept before is not asked again.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, selectinload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Registration,
    RegistrationStatus,
)
from eventapp.services.programme.scheduling import Conflict, ConflictKind
from eventapp.timezones import format_local, utcnow

ACTIVE = (EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)


class ClashChoice(enum.StrEnum):
    """What happens to participants who would hold two activities at once."""

    KEEP_BOTH = "keep"
    WAITLIST = "waitlist"


@dataclass(frozen=True)
class ParticipantClash:
    """One person's place in the moved activity and another activity at the same time."""

    enrolment_id: int
    registration_id: int
    name: str
    status_here: EnrolmentStatus
    other_id: int
    other_title: str
    other_starts_at: datetime
    other_ends_at: datetime
    status_there: EnrolmentStatus

    @property
    def holds_two_seats(self) -> bool:
        """Tell whether the person has a confirmed seat in both activities."""
        return self.status_here == self.status_there == EnrolmentStatus.CONFIRMED


def _holdings_at(
    activity_id: int, starts_at: datetime, ends_at: datetime
) -> list[ParticipantClash]:
    """Return who holds the activity and another one overlapping the given times."""
    mine, theirs, other = aliased(Enrolment), aliased(Enrolment), aliased(Activity)
    rows = db.session.execute(
        sa.select(
            mine.id,
            Registration.id,
            Registration.title,
            Registration.first_name,
            Registration.last_name,
            mine.status,
            other.id,
            other.title,
            other.starts_at,
            other.ends_at,
            theirs.status,
        )
        .join(Registration, Registration.id == mine.registration_id)
        .join(
            theirs,
            sa.and_(
                theirs.registration_id == mine.registration_id,
                theirs.activity_id != mine.activity_id,
            ),
        )
        .join(other, other.id == theirs.activity_id)
        .where(
            mine.activity_id == activity_id,
            mine.status.in_(ACTIVE),
            theirs.status.in_(ACTIVE),
            Registration.status != RegistrationStatus.CANCELLED,
            other.cancelled.is_(False),
            other.starts_at < ends_at,
            other.ends_at > starts_at,
        )
        .order_by(Registration.last_name, Registration.first_name, Registration.id, other.starts_at)
    ).all()
    return [
        ParticipantClash(
            enrolment_id=row[0],
            registration_id=row[1],
            name=" ".join(part for part in row[2:5] if part),
            status_here=EnrolmentStatus(row[5]),
            other_id=row[6],
            other_title=row[7],
            other_starts_at=row[8],
            other_ends_at=row[9],
            status_there=EnrolmentStatus(row[10]),
        )
        for row in rows
    ]


def new_participant_clashes(
    activity: Activity,
    starts_at: datetime,
    ends_at: datetime,
    cancelled: bool,
    before: Mapping[str, Any],
) -> list[ParticipantClash]:
    """Return the clashes the activity has at the new times and did not have `before`."""
    if activity.id is None or cancelled or ends_at <= starts_at:
        return []
    now = _holdings_at(activity.id, starts_at, ends_at)
    if not now:
        return []
    known: set[tuple[int, int]] = set()
    if not before.get("cancelled"):
        known = {
            (c.registration_id, c.other_id)
            for c in _holdings_at(activity.id, before["starts_at"], before["ends_at"])
        }
    return [c for c in now if (c.registration_id, c.other_id) not in known]


def _status_text(status: EnrolmentStatus) -> str:
    if status == EnrolmentStatus.CONFIRMED:
        return _("Platz bestätigt")
    return _("Warteliste")


def clash_conflicts(
    activity: Activity | None, starts_at: datetime, ends_at: datetime, cancelled: bool
) -> list[Conflict]:
    """Describe each new participants' clash of an edit as a conflict for the planner's form."""
    if activity is None:
        return []
    before = {
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "cancelled": activity.cancelled,
    }
    zone_name = activity.event.timezone
    return [
        Conflict(
            ConflictKind.PARTICIPANT_OVERLAP,
            (activity.id, clash.other_id),
            "participants",
            _(
                "%(person)s hätte zur selben Zeit auch „%(other)s“ (%(span)s): "
                "hier %(here)s, dort %(there)s.",
                person=clash.name,
                other=clash.other_title,
                span=(
                    f"{format_local(clash.other_starts_at, zone_name, '%H:%M')}–"
                    f"{format_local(clash.other_ends_at, zone_name, '%H:%M')}"
                ),
                here=_status_text(clash.status_here),
                there=_status_text(clash.status_there),
            ),
            person_name=clash.name,
        )
        for clash in new_participant_clashes(activity, starts_at, ends_at, cancelled, before)
    ]


def settle_participant_clashes(
    activity: Activity, before: Mapping[str, Any], choice: ClashChoice | None
) -> list[Enrolment]:
    """Carry out the organiser's choice for the clashes an edit made; return who was moved.

    With WAITLIST, everyone holding a confirmed seat in both activities goes to the end of the
    moved activity's waiting list (they keep the other seat) and is told by mail. Freed seats
    go to the next in line, skipping people who would then hold two seats at once.
    """
    clashes = new_participant_clashes(
        activity, activity.starts_at, activity.ends_at, activity.cancelled, before
    )
    if not clashes or choice != ClashChoice.WAITLIST:
        return []
    from eventapp.services.registration import waitlist

    waitlist.lock_activity(activity.id)
    moving = {c.enrolment_id for c in clashes if c.holds_two_seats}
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.id.in_(moving))
            .options(selectinload(Enrolment.registration))
            .order_by(Enrolment.id)
        )
    )
    now = utcnow()
    moved = []
    for enrolment in enrolments:
        db.session.refresh(enrolment, ["status", "over_capacity"])
        if enrolment.status != EnrolmentStatus.CONFIRMED:
            continue
        counted = not enrolment.over_capacity
        enrolment.status = EnrolmentStatus.WAITLISTED
        enrolment.confirmed_at = None
        enrolment.over_capacity = False
        enrolment.queued_at = now
        db.session.flush()
        if counted:
            waitlist.release_seat(Activity, activity.id)
        moved.append(enrolment)
    _promote_skipping(activity, {c.enrolment_id for c in clashes})
    _tell_moved(moved, clashes)
    return moved


def _promote_skipping(activity: Activity, skip: Collection[int]) -> None:
    """Give free seats to the waiting list in order, passing over the listed enrolments."""
    from eventapp.services.mail import registration_mail
    from eventapp.services.registration import waitlist

    while True:
        waiting = [e for e in waitlist.next_in_line(activity.id) if e.id not in skip]
        if not waiting or not waitlist.claim_seat(Activity, activity.id):
            return
        enrolment = waiting[0]
        enrolment.status = EnrolmentStatus.CONFIRMED
        enrolment.confirmed_at = utcnow()
        db.session.flush()
        registration_mail.promotion(enrolment.registration, [enrolment], False)


def _tell_moved(moved: list[Enrolment], clashes: list[ParticipantClash]) -> None:
    """Mail each moved person why they are now waiting, naming the activity they keep."""
    from eventapp.services.mail import registration_mail

    for enrolment in moved:
        others = [c.other_id for c in clashes if c.enrolment_id == enrolment.id]
        registration_mail.moved_to_waitlist(enrolment.registration, enrolment, others)


def clashing_activities(activity: Activity) -> dict[int, list[Activity]]:
    """Return, per registration holding the activity, the other activities held at that time."""
    clashes = _holdings_at(activity.id, activity.starts_at, activity.ends_at)
    if not clashes or activity.cancelled:
        return {}
    others = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Activity).where(Activity.id.in_({c.other_id for c in clashes}))
        )
    }
    found: dict[int, list[Activity]] = {}
    for clash in clashes:
        found.setdefault(clash.registration_id, []).append(others[clash.other_id])
    return found
