"""Workshop doors on the day: a steward scans people in and admits others while seats are free.

An admission is one row in workshop_attendance (unique per person and activity), written by
one INSERT that does nothing on a conflict: two stewards scanning the same badge at once
record one admission, the first. Someone let in at a workshop door who was not yet checked
in at the entrance is checked in there too, with the same time (they are evidently here).
Seats are claimed exactly as online registration claims them (waitlist.claim_seat, one
conditional UPDATE), so a door never fills a workshop past its capacity.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    Organiser,
    Registration,
    RegistrationStatus,
    WorkshopAttendance,
)
from eventapp.services import DomainError
from eventapp.services.checkin import desk as entrance
from eventapp.services.checkin.attendance import workshops_with_doors
from eventapp.services.mail import registration_mail as notices
from eventapp.services.registration import waitlist
from eventapp.timezones import utcnow


class DoorOutcome(enum.StrEnum):
    """What a workshop door answers to a scanned code or an admit button."""

    ADMITTED = "admitted"
    ALREADY = "already"
    WAITLISTED = "waitlisted"
    NOT_ENROLLED = "not_enrolled"
    # Not enrolled (or waiting) and no seat is free: the door must say no.
    FULL = "full"
    # The person has no confirmed place for the day (still on the event's waiting list).
    NOT_CONFIRMED = "not_confirmed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    OTHER_EVENT = "other_event"
    UNDONE = "undone"


class SeatTaken(enum.StrEnum):
    """How an admission came by its seat (so that undo can give it back the same way)."""

    HELD = ""  # the person was enrolled already
    NEW = "new"  # a seat was taken at the door for someone not enrolled
    PROMOTED = "promoted"  # someone on the waiting list was given a free seat at the door


@dataclass
class DoorAnswer:
    """The door's answer about one person (or a code nobody holds)."""

    outcome: DoorOutcome
    registration: Registration | None = None
    code: str = ""
    other_event: Event | None = None
    attendance: WorkshopAttendance | None = None
    seats_left: int | None = None
    seat: SeatTaken = SeatTaken.HELD
    # The place the waiting enrolment had in line before the door promoted it.
    queued_before: datetime | None = None
    # The person was checked in at the entrance by this admission.
    checked_in_here: bool = False

    @property
    def can_admit(self) -> bool:
        """Tell whether the door may let the person in (a seat is free for them)."""
        return self.outcome in (DoorOutcome.WAITLISTED, DoorOutcome.NOT_ENROLLED) and (
            self.seats_left is None or self.seats_left > 0
        )


@dataclass(frozen=True)
class DoorCount:
    """Seats of one workshop and how many people have been let in."""

    confirmed: int
    capacity: int | None
    present: int


# --- Finding workshops and people ----------------------------------------------------------


def door_workshop(event: Event, activity_id: int) -> Activity:
    """Return the event's workshop with a door with this id, or raise DomainError."""
    activity = next((a for a in workshops_with_doors(event) if a.id == activity_id), None)
    if activity is None:
        raise DomainError(_("Diesen Workshop gibt es bei dieser Veranstaltung nicht."))
    return activity


def enrolment_of(activity: Activity, registration: Registration) -> Enrolment | None:
    """Return the person's enrolment in the activity as committed (any status), if any."""
    enrolment = db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.activity_id == activity.id, Enrolment.registration_id == registration.id
        )
    )
    if enrolment is not None:
        db.session.refresh(enrolment, ["status", "over_capacity", "queued_at"])
    return enrolment


def attendance_of(activity: Activity, registration: Registration) -> WorkshopAttendance | None:
    """Return the person's admission to the activity, if they were let in."""
    return db.session.scalar(
        sa.select(WorkshopAttendance).where(
            WorkshopAttendance.activity_id == activity.id,
            WorkshopAttendance.registration_id == registration.id,
        )
    )


def seats_left(activity: Activity) -> int | None:
    """Return the activity's free seats as committed now (None: no seat limit)."""
    db.session.refresh(activity, ["capacity", "seats_taken"])
    return activity.seats_left


def door_count(activity: Activity) -> DoorCount:
    """Count the activity's confirmed seats and the people let in."""
    confirmed = db.session.scalar(
        sa.select(sa.func.count(Enrolment.id))
        .join(Registration, Registration.id == Enrolment.registration_id)
        .where(
            Enrolment.activity_id == activity.id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    present = db.session.scalar(
        sa.select(sa.func.count(WorkshopAttendance.id)).where(
            WorkshopAttendance.activity_id == activity.id
        )
    )
    return DoorCount(int(confirmed or 0), activity.capacity, int(present or 0))


# --- Letting people in ---------------------------------------------------------------------


def record_attendance(
    activity: Activity,
    registration: Registration,
    when: datetime,
    desk: str,
    organiser: Organiser | None,
) -> bool:
    """Write down that the person was let in; False when someone else already did.

    One INSERT ... ON CONFLICT DO NOTHING on the unique (activity, registration): a second
    steward's scan at the same moment waits for the first (PostgreSQL) or for the write lock
    (SQLite) and then stores nothing.
    """
    values = {
        "activity_id": activity.id,
        "registration_id": registration.id,
        "scanned_at": when,
        "desk": desk[: entrance.DESK_NAME_LENGTH],
        "organiser_id": organiser.id if organiser is not None else None,
    }
    table = WorkshopAttendance.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["activity_id", "registration_id"])
            .returning(table.c.id)
        )
        # The new row's id, or no row when it was there (rowcount is -1 with RETURNING).
        return db.session.execute(statement).first() is not None
    try:  # other databases: the unique constraint still decides
        with db.session.begin_nested():
            db.session.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True


def _admitted(
    activity: Activity,
    registration: Registration,
    when: datetime,
    desk: str,
    organiser: Organiser | None,
) -> DoorAnswer:
    """Record the admission (and the entrance check-in) and say so, or say it happened before."""
    if not record_attendance(activity, registration, when, desk, organiser):
        return DoorAnswer(
            DoorOutcome.ALREADY, registration, attendance=attendance_of(activity, registration)
        )
    checked_in_here = entrance.check_in(registration, when, desk)
    return DoorAnswer(
        DoorOutcome.ADMITTED,
        registration,
        attendance=attendance_of(activity, registration),
        checked_in_here=checked_in_here,
    )


def _refusal(registration: Registration) -> DoorAnswer | None:
    """Return the answer for a person the door may not let in at all, if they are one."""
    db.session.refresh(registration, ["status"])
    if registration.status == RegistrationStatus.CANCELLED:
        return DoorAnswer(DoorOutcome.CANCELLED, registration)
    if registration.status != RegistrationStatus.CONFIRMED:
        return DoorAnswer(DoorOutcome.NOT_CONFIRMED, registration)
    return None


def answer_for(
    activity: Activity,
    registration: Registration,
    when: datetime,
    desk: str,
    organiser: Organiser | None,
) -> DoorAnswer:
    """Let an enrolled person in, or say where they stand (waiting, not enrolled, refused)."""
    refused = _refusal(registration)
    if refused is not None:
        return refused
    attendance = attendance_of(activity, registration)
    if attendance is not None:
        return DoorAnswer(DoorOutcome.ALREADY, registration, attendance=attendance)
    enrolment = enrolment_of(activity, registration)
    status = enrolment.status if enrolment is not None else EnrolmentStatus.CANCELLED
    if status == EnrolmentStatus.CONFIRMED:
        return _admitted(activity, registration, when, desk, organiser)
    left = seats_left(activity)
    if status == EnrolmentStatus.WAITLISTED:
        return DoorAnswer(DoorOutcome.WAITLISTED, registration, seats_left=left)
    outcome = DoorOutcome.FULL if left == 0 else DoorOutcome.NOT_ENROLLED
    return DoorAnswer(outcome, registration, seats_left=left)


def scan(
    activity: Activity,
    raw_code: str,
    when: datetime,
    desk: str = "",
    organiser: Organiser | None = None,
) -> DoorAnswer:
    """Let the holder of a scanned code in if they are enrolled, or say why not."""
    code, registration = entrance.holder_of(raw_code)
    if registration is None:
        return DoorAnswer(DoorOutcome.UNKNOWN, code=code)
    if registration.event_id != activity.event_id:
        # Say which event, never who: the badge may be last year's.
        return DoorAnswer(DoorOutcome.OTHER_EVENT, code=code, other_event=registration.event)
    return answer_for(activity, registration, when, desk, organiser)


def admit(
    activity: Activity,
    registration: Registration,
    when: datetime,
    desk: str = "",
    organiser: Organiser | None = None,
) -> DoorAnswer:
    """Give a free seat to someone waiting or not enrolled, and let them in.

    The seat is claimed as online registration claims it (one conditional UPDATE), so the
    workshop never goes past its capacity; without a free seat nothing is stored and the
    answer is FULL. A waiting enrolment is confirmed out of turn: the person stands at the
    door while the workshop starts. No mail is sent for a seat taken in person.
    """
    refused = _refusal(registration)
    if refused is not None:
        return refused
    attendance = attendance_of(activity, registration)
    if attendance is not None:
        return DoorAnswer(DoorOutcome.ALREADY, registration, attendance=attendance)
    waitlist.lock_activity(activity.id)
    enrolment = enrolment_of(activity, registration)
    if enrolment is not None and enrolment.status == EnrolmentStatus.CONFIRMED:
        return _admitted(activity, registration, when, desk, organiser)  # confirmed meanwhile
    if not waitlist.claim_seat(Activity, activity.id):
        return DoorAnswer(DoorOutcome.FULL, registration, seats_left=0)
    now = utcnow()
    queued_before = None
    if enrolment is not None and enrolment.status == EnrolmentStatus.WAITLISTED:
        seat, queued_before = SeatTaken.PROMOTED, enrolment.queued_at
    else:
        seat = SeatTaken.NEW
        if enrolment is None:
            enrolment = Enrolment(registration=registration, activity=activity)
        enrolment.queued_at = now
        enrolment.cancelled_at = None
    enrolment.status = EnrolmentStatus.CONFIRMED
    enrolment.confirmed_at = now
    enrolment.over_capacity = False
    db.session.add(enrolment)
    db.session.flush()
    answer = _admitted(activity, registration, when, desk, organiser)
    answer.seat, answer.queued_before = seat, queued_before
    return answer


def undo_admission(
    activity: Activity,
    registration: Registration,
    scanned_at: datetime,
    seat: SeatTaken = SeatTaken.HELD,
    queued_before: datetime | None = None,
    checked_in_here: bool = False,
) -> bool:
    """Take back an admission made by mistake; False when it was already taken back.

    Everything that admission did is undone: the entrance check-in it made (only that one),
    and a seat it took: a seat given to someone not enrolled goes to the waiting list's next
    in line (as any cancelled seat); a person promoted at the door returns to their old place
    in line and the seat is free again, as before.
    """
    removed = db.session.execute(
        sa.delete(WorkshopAttendance)
        .where(
            WorkshopAttendance.activity_id == activity.id,
            WorkshopAttendance.registration_id == registration.id,
            WorkshopAttendance.scanned_at == scanned_at,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        return False
    if checked_in_here:
        entrance.undo_check_in(registration, scanned_at)
    if seat == SeatTaken.HELD:
        return True
    enrolment = enrolment_of(activity, registration)
    if enrolment is None or enrolment.status != EnrolmentStatus.CONFIRMED:
        return True
    if seat == SeatTaken.NEW:
        waitlist.withdraw(enrolment, notices.promotion)
        return True
    waitlist.lock_activity(activity.id)
    enrolment.status = EnrolmentStatus.WAITLISTED
    enrolment.confirmed_at = None
    if queued_before is not None:
        enrolment.queued_at = queued_before
    db.session.flush()
    # The seat was free while the person waited before; it is again, as it was (moving the
    # line on here would hand the seat straight back to the same person).
    waitlist.release_seat(Activity, activity.id)
    return True
