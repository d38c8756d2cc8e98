"""The check-in desk on the day: scan a badge, find a person, check them in, count arrivals."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
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
from eventapp.services import DomainError
from eventapp.services.printing.badges import sort_registrations
from eventapp.timezones import to_local

SEARCH_LIMIT = 50
DESK_NAME_LENGTH = 60


class ScanOutcome(enum.StrEnum):
    """What the desk answers to a scanned code or a check-in button."""

    CHECKED_IN = "checked_in"
    ALREADY = "already"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    UNKNOWN = "unknown"
    OTHER_EVENT = "other_event"
    UNDONE = "undone"


@dataclass
class DeskAnswer:
    """The desk's answer about one person (or one code nobody holds)."""

    outcome: ScanOutcome
    registration: Registration | None = None
    code: str = ""
    other_event: Event | None = None
    workshops: list[Activity] = field(default_factory=list)
    # A badge being printed for the person (a walk-in): its print job.
    badge_job_id: int | None = None


@dataclass(frozen=True)
class ArrivalCount:
    """How many of the people expected for the day have arrived."""

    checked_in: int
    expected: int


# --- Finding people ------------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """Return a scanned or typed code as stored (scanners may add spaces or lower case)."""
    return "".join(text.split()).upper()[:32]


def fold(text: str) -> str:
    """Fold German spellings together: Müller = Mueller = Muller, Straße = Strasse, any case."""
    text = text.casefold()  # ß -> ss
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    for digraph, vowel in (("ae", "a"), ("oe", "o"), ("ue", "u")):
        text = text.replace(digraph, vowel)
    return text


def search(event: Event, text: str) -> list[Registration]:
    """Find registrations by check-in code, or by every typed word in name or organisation.

    Matching folds umlauts, ß and case on both sides, so a person typed without the special
    characters of a German keyboard is found. The event's names are folded in Python: a desk
    searches among at most a few thousand people, and this works the same on every database.
    """
    text = " ".join(text.split())
    if not text:
        return []
    by_code = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.checkin_code == normalise_code(text))
        .options(selectinload(Registration.network))
    ).all()
    if by_code:
        return list(by_code)
    words = [fold(word) for word in text.split()[:4]]
    rows = db.session.execute(
        sa.select(
            Registration.id,
            Registration.first_name,
            Registration.last_name,
            Registration.title,
            Registration.organisation,
        ).where(Registration.event_id == event.id)
    ).all()
    matched = []
    for row in rows:
        haystack = fold(" ".join((row.title, row.first_name, row.last_name, row.organisation)))
        if all(word in haystack for word in words):
            matched.append(row.id)
            if len(matched) >= SEARCH_LIMIT:
                break
    if not matched:
        return []
    found = db.session.scalars(
        sa.select(Registration)
        .where(Registration.id.in_(matched))
        .options(selectinload(Registration.network))
    ).all()
    return sort_registrations(found, "name")


def registration_of_event(event: Event, registration_id: int) -> Registration:
    """Return the event's registration with this id, or raise DomainError."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise DomainError(_("Diese Anmeldung gibt es nicht."))
    return registration


def workshops_on(registration: Registration, day: date) -> list[Activity]:
    """Return the person's confirmed workshops on a day of the event (all of them otherwise)."""
    event = registration.event
    activities = db.session.scalars(
        sa.select(Activity)
        .join(Enrolment, Enrolment.activity_id == Activity.id)
        .where(
            Enrolment.registration_id == registration.id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Activity.cancelled.is_(False),
        )
        .options(selectinload(Activity.room))
        .order_by(Activity.starts_at, Activity.id)
    ).all()
    if day not in event.days:
        return list(activities)
    return [a for a in activities if to_local(a.starts_at, event.timezone).date() == day]


# --- Checking in ---------------------------------------------------------------------------


def check_in(registration: Registration, when: datetime, desk: str = "") -> bool:
    """Mark a confirmed registration as arrived; return False when it already was.

    One conditional UPDATE: two desks scanning the same badge at the same moment record one
    check-in, the first; the other learns when and where it happened.
    """
    if registration.status != RegistrationStatus.CONFIRMED:
        raise DomainError(
            _("%(name)s ist nicht bestätigt angemeldet.", name=registration.full_name)
        )
    result = db.session.execute(
        sa.update(Registration)
        .where(
            Registration.id == registration.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.checked_in_at.is_(None),
        )
        .values(checked_in_at=when, checked_in_desk=desk[:DESK_NAME_LENGTH])
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    return result.rowcount == 1


def answer_for(registration: Registration, when: datetime, desk: str) -> DeskAnswer:
    """Check a person in if they may be, and say what happened."""
    day = to_local(when, registration.event.timezone).date()
    if registration.status == RegistrationStatus.CANCELLED:
        return DeskAnswer(ScanOutcome.CANCELLED, registration)
    if registration.status == RegistrationStatus.WAITLISTED:
        return DeskAnswer(ScanOutcome.WAITLISTED, registration)
    arrived = check_in(registration, when, desk)
    if registration.status != RegistrationStatus.CONFIRMED:  # cancelled a moment ago
        return answer_for(registration, when, desk)
    outcome = ScanOutcome.CHECKED_IN if arrived else ScanOutcome.ALREADY
    return DeskAnswer(outcome, registration, workshops=workshops_on(registration, day))


def holder_of(raw_code: str) -> tuple[str, Registration | None]:
    """Return a scanned code as stored and the registration holding it (of any event)."""
    code = normalise_code(raw_code)
    registration = (
        db.session.scalar(
            sa.select(Registration)
            .where(Registration.checkin_code == code)
            .options(selectinload(Registration.event))
        )
        if code
        else None
    )
    return code, registration


def scan(event: Event, raw_code: str, when: datetime, desk: str = "") -> DeskAnswer:
    """Check in the holder of a scanned code at once, or say why not."""
    code, registration = holder_of(raw_code)
    if registration is None:
        return DeskAnswer(ScanOutcome.UNKNOWN, code=code)
    if registration.event_id != event.id:
        # Say which event, never who: the badge may be last year's.
        return DeskAnswer(ScanOutcome.OTHER_EVENT, code=code, other_event=registration.event)
    return answer_for(registration, when, desk)


def undo_check_in(registration: Registration, checked_in_at: datetime | None = None) -> bool:
    """Take back a check-in made by mistake; return False when there was none to take back.

    Given the time of the check-in being undone, only that one is taken back, not a later
    check-in of the same person at another desk.
    """
    conditions = [Registration.id == registration.id, Registration.checked_in_at.is_not(None)]
    if checked_in_at is not None:
        conditions.append(Registration.checked_in_at == checked_in_at)
    result = db.session.execute(
        sa.update(Registration)
        .where(*conditions)
        .values(checked_in_at=None, checked_in_desk="")
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    return result.rowcount == 1


def arrival_count(event: Event) -> ArrivalCount:
    """Count the confirmed people of the event and how many of them have checked in."""
    row = db.session.execute(
        sa.select(
            sa.func.count(Registration.id),
            sa.func.count(Registration.checked_in_at),
        ).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    ).one()
    return ArrivalCount(checked_in=int(row[1]), expected=int(row[0]))
