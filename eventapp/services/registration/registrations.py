"""Register for an event and its workshops, change choices, cancel, change capacities."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    ManageLink,
    Network,
    ParticipantRole,
    Registration,
    RegistrationStatus,
)
from eventapp.queueing import after_commit
from eventapp.services import DomainError
from eventapp.services.mail import registration_mail as notices
from eventapp.services.programme.published import EventStamp, enrollable_activities_query
from eventapp.services.registration import waitlist
from eventapp.services.registration.links import keep_calendar_token
from eventapp.services.registration.tokens import (
    new_checkin_code,
    new_feed_token,
    new_token,
    token_hash,
)
from eventapp.timezones import utcnow

ACTIVE = (EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)


class AlreadyRegistered(DomainError):
    """The address is already registered for this event."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(
            _(
                "Diese E-Mail-Adresse ist für diese Veranstaltung bereits angemeldet. Wir haben "
                "den persönlichen Link zum Verwalten der Anmeldung noch einmal an sie geschickt."
            ),
            field="email",
        )
        self.registration = registration
        # Kept apart: the caller rolls back, which expires the registration's attributes.
        self.registration_id = registration.id


@dataclass
class Participant:
    """What a person tells us about themselves when registering."""

    first_name: str
    last_name: str
    email: str
    privacy_consent_version: str
    salutation: str = ""
    title: str = ""
    organisation: str = ""
    network_id: int | None = None
    state: str = ""
    role: ParticipantRole = ParticipantRole.PARTICIPANT
    language: str = "de"
    accessibility_needs: str = ""
    dietary_wishes: str = ""
    photo_consent: bool = False


@dataclass
class RegistrationResult:
    """A stored registration and the one-time clear text of its manage-link token."""

    registration: Registration
    manage_token: str
    enrolments: list[Enrolment] = field(default_factory=list)


# --- Reading -------------------------------------------------------------------------------


def enrollable_activities(event: Event) -> list[Activity]:
    """Return the activities people choose when registering, in programme order."""
    return list(
        db.session.scalars(
            enrollable_activities_query(event)
            .order_by(Activity.starts_at, Activity.id)
            .options(selectinload(Activity.room))
        )
    )


def overlaps(first: Offered, second: Offered) -> bool:
    """Tell whether two activities share any time."""
    return first.starts_at < second.ends_at and second.starts_at < first.ends_at


def time_slots(activities: Sequence[Activity]) -> list[list[Activity]]:
    """Group activities whose times overlap (directly or in a chain) into slots."""
    slots: list[list[Activity]] = []
    slot_end: datetime | None = None
    for activity in sorted(activities, key=lambda a: (a.starts_at, a.id)):
        if slot_end is None or activity.starts_at >= slot_end:
            slots.append([activity])
            slot_end = activity.ends_at
        else:
            slots[-1].append(activity)
            slot_end = max(slot_end, activity.ends_at)
    return slots


def registration_window_state(event: Event | EventStamp, now: datetime | None = None) -> str:
    """Return "open", "not_yet" or "closed" for the event's registration window."""
    now = now or utcnow()
    if event.registration_opens_at and now < event.registration_opens_at:
        return "not_yet"
    if event.registration_closes_at and now >= event.registration_closes_at:
        return "closed"
    return "open"


def find_by_token(event: Event, token: str) -> Registration | None:
    """Return the event's registration whose own link or a further link holds this token."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    further = sa.select(ManageLink.registration_id).where(ManageLink.token_hash == digest)
    return db.session.scalar(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            sa.or_(Registration.token_hash == digest, Registration.id == further.scalar_subquery()),
        )
        .options(selectinload(Registration.enrolments).selectinload(Enrolment.activity))
    )


def find_by_email(event: Event, email: str) -> Registration | None:
    """Return the event's registration for this address (any status)."""
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id, Registration.email == email.strip().lower()
        )
    )


def network_confirmed_count(event: Event | EventStamp, network_id: int) -> int:
    """Count the confirmed registrations of one network for the event."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.event_id == event.id,
                Registration.network_id == network_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        or 0
    )


# --- Rules ---------------------------------------------------------------------------------


def chosen_activities(
    event: Event, activity_ids: Iterable[int], kept: Collection[int] = ()
) -> list[Activity]:
    """Check a choice of activities against the event's programme and return them in id order.

    Two activities at the same time may both be kept when the person already holds both (the
    organisers moved one onto the other); a new choice may not overlap.
    """
    wanted = sorted(set(activity_ids))
    if not wanted:
        return []
    offered = {
        a.id: a
        for a in db.session.scalars(
            enrollable_activities_query(event).where(Activity.id.in_(wanted))
        )
    }
    return checked_choice(offered, wanted, kept)


class Offered(Protocol):
    """What the choice check reads of an activity (a loaded one or a plain row)."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime


OfferedT = TypeVar("OfferedT", bound=Offered)


def checked_choice(
    offered: Mapping[int, OfferedT], wanted: Sequence[int], kept: Collection[int] = ()
) -> list[OfferedT]:
    """Return the wanted activities among those offered, refusing unknown and clashing ones."""
    unknown = [i for i in wanted if i not in offered]
    if unknown:
        raise DomainError(
            _(
                "Ihre Auswahl enthält ein Programmangebot, das es bei dieser Veranstaltung nicht "
                "(mehr) zur Anmeldung gibt. Bitte wählen Sie erneut."
            ),
            field="activities",
        )
    chosen = [offered[i] for i in wanted]
    for index, first in enumerate(chosen):
        for second in chosen[index + 1 :]:
            if overlaps(first, second) and not (first.id in kept and second.id in kept):
                raise DomainError(
                    _(
                        "„%(first)s“ und „%(second)s“ finden gleichzeitig statt. Bitte wählen Sie "
                        "nur eines davon.",
                        first=first.title,
                        second=second.title,
                    ),
                    field="activities",
                )
    return chosen


def check_network_limit(
    event: Event | EventStamp, network_id: int | None, exclude: Registration | None
) -> None:
    """Refuse a further confirmed delegate beyond the event's per-network limit."""
    if network_id is None or event.per_network_limit is None:
        return
    network = db.session.scalar(
        sa.select(Network).where(Network.id == network_id).with_for_update()
    )
    if network is None:
        raise DomainError(_("Bitte wählen Sie ein Netzwerk aus der Liste."), field="network")
    taken = network_confirmed_count(event, network_id)
    counted = exclude is not None and exclude.status == RegistrationStatus.CONFIRMED
    if counted and exclude is not None and exclude.network_id == network_id:
        taken -= 1
    if taken >= event.per_network_limit:
        raise DomainError(
            _(
                "Je Netzwerk können höchstens %(limit)s Personen teilnehmen, und für "
                "„%(network)s“ sind bereits %(taken)s angemeldet. Bitte sprechen Sie sich in "
                "Ihrem Netzwerk ab oder wählen Sie „kein Netzwerk / anderes“, wenn Sie für eine "
                "andere Stelle kommen.",
                limit=event.per_network_limit,
                network=network.name,
                taken=taken,
            ),
            field="network",
        )


# --- Writing -------------------------------------------------------------------------------


def register(
    event: Event,
    person: Participant,
    activity_ids: Iterable[int],
    *,
    by_organiser: bool = False,
    notify: bool = True,
    ignore_window: bool = False,
) -> RegistrationResult:
    """Register a person for the day and their chosen activities (confirmed or waitlisted)."""
    if not (by_organiser or ignore_window) and registration_window_state(event) != "open":
        raise DomainError(_("Die Anmeldung ist derzeit nicht geöffnet."))
    # Made before the first query, which (SQLite) takes the write lock for the rest.
    code = new_checkin_code()  # its QR image is drawn when the badge is printed
    manage_token = new_token()
    chosen = chosen_activities(event, activity_ids)
    email = person.email.strip().lower()
    registration = find_by_email(event, email)
    # Checked before the address is refused: the public form then gives the same errors for a
    # registered address as for a new one (see signup.register_or_send_link).
    if not by_organiser:
        check_network_limit(event, person.network_id, None)
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        raise AlreadyRegistered(registration)

    seated = waitlist.take_day_place(event)
    now = utcnow()  # after the seat UPDATE: the place in line follows the lock order
    if registration is None:
        # An empty list marks the new person's choices as loaded: no query for them later.
        registration = Registration(event=event, checkin_code=code, enrolments=[])
    _apply_details(registration, person, email, now)
    registration.token_hash = token_hash(manage_token)
    keep_calendar_token(registration)
    registration.added_by_organiser = by_organiser
    registration.cancelled_at = None
    registration.queued_at = now
    registration.status, registration.over_capacity = day_status(seated, by_organiser)
    db.session.add(registration)
    db.session.flush()
    if notify:  # the mail is rendered after commit, from what the transaction stored
        notices.confirmation(registration, manage_token)  # flushed before the first seat claim

    # Workshop seats last: a seat's row lock (PostgreSQL) is then held only until the commit.
    enrolments = [waitlist.enrol(registration, a, over_capacity=by_organiser) for a in chosen]
    db.session.flush()
    return RegistrationResult(registration, manage_token, enrolments)


def day_status(seated: bool, by_organiser: bool) -> tuple[RegistrationStatus, bool]:
    """Return a new registration's status and whether it is confirmed beyond the day's limit.

    Without a place for the day a person waits in line; an organiser's registration is
    confirmed all the same, marked as over the limit.
    """
    if seated:
        return RegistrationStatus.CONFIRMED, False
    if by_organiser:
        return RegistrationStatus.CONFIRMED, True
    return RegistrationStatus.WAITLISTED, False


def _apply_details(
    registration: Registration, person: Participant, email: str, now: datetime
) -> None:
    """Copy the person's details and consents onto the registration."""
    for name, value in detail_values(person, email, now).items():
        setattr(registration, name, value)


def detail_values(person: Participant, email: str, now: datetime) -> dict[str, object]:
    """Return the registration's columns for the person's details and consents, given now."""
    return {
        "email": email,
        "salutation": person.salutation,
        "title": person.title,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "organisation": person.organisation,
        "network_id": person.network_id,
        "state": person.state,
        "role": person.role,
        "language": person.language,
        "accessibility_needs": person.accessibility_needs,
        "dietary_wishes": person.dietary_wishes,
        "privacy_consent_version": person.privacy_consent_version,
        "privacy_consent_at": now,
        "photo_consent": person.photo_consent,
        "photo_consent_at": now if person.photo_consent else None,
    }


# What a badge shows of a registration: a change means the badge must be printed again.
BADGE_FIELDS = frozenset(
    {"title", "first_name", "last_name", "organisation", "network_id", "state", "role"}
)
# Everything update_details may change.
DETAIL_FIELDS = BADGE_FIELDS | {
    "salutation", "email", "language", "accessibility_needs", "dietary_wishes", "photo_consent",
}  # fmt: skip


def correct_details(
    registration: Registration, person: Participant, manage_token: str | None = None
) -> bool:
    """Let a person correct their own details; return whether their badge is to be reprinted.

    The network limit applies as at registration. A badge already printed with the old name
    counts as not printed again, so the badge desk's next batch of new badges includes it.
    The address is told what is stored now.
    """
    if registration.status == RegistrationStatus.CANCELLED:
        raise DomainError(
            _("Diese Anmeldung ist storniert; ihre Angaben lassen sich nicht mehr ändern.")
        )
    counted = registration.status == RegistrationStatus.CONFIRMED
    if counted and person.network_id != registration.network_id:
        check_network_limit(registration.event, person.network_id, registration)
    printed = registration.badge_printed_at is not None
    if update_details(registration, person):
        notices.details_changed(registration, manage_token)
        db.session.flush()
    return printed and registration.badge_printed_at is None


def update_details(registration: Registration, person: Participant) -> set[str]:
    """Change a registration's personal details (organisers; no network limit for them).

    Returns the names of the details that changed. A badge already printed with details that
    changed counts as not printed again, so the next batch of new badges includes it.
    """
    email = person.email.strip().lower()
    other = find_by_email(registration.event, email)
    if other is not None and other.id != registration.id:
        raise DomainError(
            _("Diese E-Mail-Adresse ist bereits für eine andere Anmeldung eingetragen."),
            field="email",
        )
    before = {name: getattr(registration, name) for name in DETAIL_FIELDS}
    consent_at = registration.privacy_consent_at
    photo_before = registration.photo_consent
    photo_at = registration.photo_consent_at
    _apply_details(registration, person, email, utcnow())
    registration.privacy_consent_at = consent_at
    if photo_before == person.photo_consent:
        registration.photo_consent_at = photo_at
    changed = {name for name in DETAIL_FIELDS if getattr(registration, name) != before[name]}
    if changed & BADGE_FIELDS:
        registration.badge_printed_at = None
    db.session.flush()
    return changed


def change_choices(
    registration: Registration,
    activity_ids: Iterable[int],
    manage_token: str | None = None,
    *,
    notify: bool = True,
) -> list[Enrolment]:
    """Replace the person's activity choices; kept choices keep their place in line.

    With notify off (an organiser's import without mails) the person is not told; people who
    move up into a freed seat always are.
    """
    if registration.status == RegistrationStatus.CANCELLED:
        raise DomainError(_("Diese Anmeldung ist storniert."))
    current = {e.activity_id: e for e in registration.enrolments if e.status in ACTIVE}
    chosen = {a.id: a for a in chosen_activities(registration.event, activity_ids, set(current))}
    touched = sorted(set(chosen) ^ set(current))
    if not touched:
        return []
    by_organiser = registration.added_by_organiser
    promoted: list[Enrolment] = []
    for activity_id in touched:  # id order: the lock order of every writer
        if activity_id in current:
            promoted += waitlist.withdraw(current[activity_id], notices.promotion)
        else:
            waitlist.enrol(registration, chosen[activity_id], over_capacity=by_organiser)
    db.session.flush()
    if notify:
        notices.changed(registration, manage_token)
    return promoted


def cancel_enrolment(
    registration: Registration, activity_id: int, manage_token: str | None = None
) -> list[Enrolment]:
    """Cancel one workshop choice; its seat goes to the next in line."""
    remaining = [
        e.activity_id
        for e in registration.enrolments
        if e.status in ACTIVE and e.activity_id != activity_id
    ]
    return change_choices(registration, remaining, manage_token)


def cancel_registration(registration: Registration, *, notify: bool = True) -> None:
    """Cancel the whole registration; the day place and every seat go to the next in line."""
    if registration.status == RegistrationStatus.CANCELLED:
        return
    counted = registration.status == RegistrationStatus.CONFIRMED and not registration.over_capacity
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = utcnow()
    registration.over_capacity = False
    db.session.flush()
    if counted:
        waitlist.give_back_day_place(registration.event)
    active = sorted(
        (e for e in registration.enrolments if e.status in ACTIVE), key=lambda e: e.activity_id
    )
    for enrolment in active:
        waitlist.withdraw(enrolment, notices.promotion)
    if counted:
        waitlist.promote_registrations(registration.event, notices.promotion)
    db.session.flush()
    if notify:
        notices.cancelled(registration)


def promote_by_hand(enrolment: Enrolment) -> None:
    """Move one waiting person up out of turn, only while a seat is free."""
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        raise DomainError(_("Diese Person steht nicht auf der Warteliste."))
    if enrolment.registration.status != RegistrationStatus.CONFIRMED:
        raise DomainError(
            _(
                "Diese Person hat noch keinen Platz für den Tag; bestätigen Sie zuerst die "
                "Anmeldung."
            )
        )
    if not waitlist.claim_seat(Activity, enrolment.activity_id):
        raise DomainError(
            _(
                "Im Angebot „%(title)s“ ist kein Platz frei. Erhöhen Sie die Kapazität, um "
                "jemanden nachrücken zu lassen.",
                title=enrolment.activity.title,
            )
        )
    enrolment.status = EnrolmentStatus.CONFIRMED
    enrolment.confirmed_at = utcnow()
    db.session.flush()
    notices.promotion(enrolment.registration, [enrolment], False)


def change_capacity(activity: Activity, new_capacity: int | None) -> list[Enrolment]:
    """Set an activity's seat limit: never below the confirmed count; more seats promote people."""
    if new_capacity is not None and new_capacity < 0:
        raise DomainError(_("Die Kapazität darf nicht negativ sein."), field="capacity")
    if not waitlist.set_seat_limit(Activity, activity.id, new_capacity):
        raise DomainError(
            _(
                "Für „%(title)s“ sind bereits %(taken)s Plätze fest vergeben. Die Kapazität kann "
                "nicht unter diese Zahl sinken; stornieren Sie vorher einzelne Anmeldungen.",
                title=activity.title,
                taken=activity.seats_taken,
            ),
            field="capacity",
        )
    return waitlist.promote_next(activity, notices.promotion)


def change_event_capacity(event: Event, new_capacity: int | None) -> list[Registration]:
    """Set the day's overall limit: never below the confirmed count; more places promote people."""
    if new_capacity is not None and new_capacity < 0:
        raise DomainError(_("Die Kapazität darf nicht negativ sein."), field="capacity")
    done, confirmed = waitlist.set_day_limit(event, new_capacity)
    if not done:
        raise DomainError(
            _(
                "Es sind bereits %(taken)s Personen fest angemeldet; die Kapazität kann nicht "
                "darunter sinken.",
                taken=confirmed,
            ),
            field="capacity",
        )
    return waitlist.promote_registrations(event, notices.promotion)


def confirmed_count(event: Event) -> int:
    """Count the registrations confirmed for the day (organisers' additions included)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        or 0
    )


def send_manage_link(registration: Registration, *, registered_again: bool = False) -> None:
    """Issue a fresh manage link (the old one stops working) and mail it to the address.

    registered_again: the address was used on the registration form a second time, and the
    mail says so instead of "you asked for your link".
    """
    renew_manage_link(
        notices.Recipient.of(registration),
        registration.event.title,
        registration.calendar_token is None,
        registered_again=registered_again,
    )
    db.session.expire(registration, ["token_hash", "calendar_token", "calendar_token_hash"])


_REGISTRATION = Registration.__table__
_SET_LINKS = _REGISTRATION.update().where(_REGISTRATION.c.id == sa.bindparam("registration_id"))
_END_FURTHER_LINKS = sa.delete(ManageLink.__table__).where(
    ManageLink.__table__.c.registration_id == sa.bindparam("registration_id")
)


def renew_manage_link(
    recipient: notices.Recipient,
    event_title: str,
    needs_feed_token: bool,
    *,
    registered_again: bool = False,
) -> None:
    """Replace every manage link of a registration by a fresh one and mail it (see above).

    A registration without a feed token of its own gets one now (see keep_calendar_token).
    """
    manage_token = new_token()
    values = {"registration_id": recipient.registration_id, "token_hash": token_hash(manage_token)}
    if needs_feed_token:
        values |= new_feed_token()
    db.session.execute(_SET_LINKS, values)
    # The new link replaces every earlier one, Rundmail links too.
    db.session.execute(_END_FURTHER_LINKS, {"registration_id": recipient.registration_id})
    notices.manage_link_to(recipient, event_title, manage_token, registered_again=registered_again)


def request_manage_link_later(
    event: Event | EventStamp, email: str, *, registered_again: bool = False
) -> None:
    """Have the worker look the address up and send the link if it is registered.

    The request only queues the lookup, so it does the same work, and takes the same time,
    whether the address is registered or not.
    """
    after_commit("send_manage_link", event.id, email, registered_again)


def request_manage_link(event: Event, email: str, *, registered_again: bool = False) -> None:
    """Send the link to the address if it is registered; say nothing either way."""
    registration = find_by_email(event, email)
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        send_manage_link(registration, registered_again=registered_again)
