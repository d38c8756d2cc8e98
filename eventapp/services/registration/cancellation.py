"""An organiser cancels someone's registration: what it will free first, then the cancellation."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    EnrolmentStatus,
    Registration,
    RegistrationStatus,
)
from eventapp.services.mail import registration_mail as notices
from eventapp.services.registration import waitlist
from eventapp.services.registration.registrations import ACTIVE, cancel_registration

REASON_MAX = 1000


@dataclass
class SeatHandover:
    """One of the person's places in an activity and what becomes of it."""

    activity: Activity
    status: EnrolmentStatus
    # A counted seat goes back (waiting places and organisers' extra seats free nothing).
    frees_seat: bool
    # Who moves up into the freed seat, if anyone waits.
    next_in_line: Registration | None = None


@dataclass
class CancellationPreview:
    """What cancelling a registration will do, for the organiser to confirm."""

    registration: Registration
    already_cancelled: bool
    # The person's place for the day counts against the event's capacity and goes back.
    frees_day_place: bool
    # Who moves up for the day from the event's waiting list.
    day_next_in_line: Registration | None = None
    seats: list[SeatHandover] = field(default_factory=list)


def cancellation_preview(registration: Registration) -> CancellationPreview:
    """Tell which places a cancellation frees and who moves up into them (nothing is changed)."""
    if registration.status == RegistrationStatus.CANCELLED:
        return CancellationPreview(registration, True, False)
    counted = registration.status == RegistrationStatus.CONFIRMED and not registration.over_capacity
    preview = CancellationPreview(registration, False, counted)
    if counted:
        preview.day_next_in_line = db.session.scalar(
            sa.select(Registration)
            .where(
                Registration.event_id == registration.event_id,
                Registration.status == RegistrationStatus.WAITLISTED,
                Registration.id != registration.id,
            )
            .order_by(Registration.queued_at, Registration.id)
            .limit(1)
        )
    active = [e for e in registration.enrolments if e.status in ACTIVE]
    for enrolment in sorted(active, key=lambda e: (e.activity.starts_at, e.activity_id)):
        frees = enrolment.status == EnrolmentStatus.CONFIRMED and not enrolment.over_capacity
        waiting = waitlist.next_in_line(enrolment.activity_id, limit=1) if frees else []
        preview.seats.append(
            SeatHandover(
                enrolment.activity,
                enrolment.status,
                frees,
                waiting[0].registration if waiting else None,
            )
        )
    return preview


def cancel_for_organisers(registration: Registration, reason: str = "") -> None:
    """Cancel a registration on the organisers' behalf; the person's mail says so, with reason."""
    if registration.status == RegistrationStatus.CANCELLED:
        return
    cancel_registration(registration, notify=False)
    notices.cancelled(registration, by_organiser=True, reason=reason.strip()[:REASON_MAX])
