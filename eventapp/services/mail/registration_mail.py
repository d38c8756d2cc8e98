"""The e-mails a participant gets: confirmation, changes, moving up, cancellation, a fresh link."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import joinedload

from eventapp import urls
from eventapp.extensions import db
from eventapp.models import (
    NO_EMAIL_DOMAIN,
    Activity,
    Enrolment,
    EnrolmentStatus,
    OutboxMail,
    Registration,
    RegistrationStatus,
)
from eventapp.services.calendar import ical
from eventapp.services.mail import mime, outbox, texts
from eventapp.services.registration.tokens import seal, unseal

log = logging.getLogger(__name__)


def manage_url(registration: Registration, manage_token: str) -> str:
    """Return the absolute private manage link as a mail carries it (from PUBLIC_BASE_URL)."""
    with urls.from_public_base():
        return urls.manage_url(registration.event, manage_token)


def calendar_attachment(
    registration: Registration,
    activities: Sequence[Activity] | None = None,
    batch: MailBatch | None = None,
) -> list[tuple[str, str, bytes]]:
    """Return the personal calendar as an attachment (none while it cannot be built).

    `activities` are the person's, when the batch's loader already loaded them; a batch keeps
    the calendars it built, as many people in a round share a plan (and a language).
    """
    built = batch.calendar_files if batch is not None and activities is not None else None
    plan = (
        registration.event_id,
        registration.language or "de",
        tuple(a.id for a in activities or ()),
    )
    payload = built.get(plan) if built is not None else None
    try:
        if payload is None:
            with urls.from_public_base():
                payload = ical.registration_ics(registration, activities)
            if built is not None:
                built[plan] = payload
    except NotImplementedError:
        return []
    name = f"{registration.event.slug}-mein-programm.ics"
    return [(name, ical.MAIL_ATTACHMENT_TYPE, payload)]


def active_choices(
    registration: Registration, positions: Mapping[int, int] | None = None
) -> list[dict[str, Any]]:
    """Return the active choices with status and place in line, in programme order.

    `positions` are the places in line by enrolment id, when a batch's loader counted them.
    """
    from eventapp.services.registration.waitlist import waitlist_position

    rows = []
    active = [e for e in registration.enrolments if e.status != EnrolmentStatus.CANCELLED]
    for enrolment in sorted(active, key=lambda e: (e.activity.starts_at, e.activity_id)):
        if positions is not None and enrolment.status == EnrolmentStatus.WAITLISTED:
            position = positions.get(enrolment.id) or waitlist_position(enrolment)
        else:
            position = waitlist_position(enrolment)
        rows.append({"enrolment": enrolment, "activity": enrolment.activity, "position": position})
    return rows


def _text(
    registration: Registration, template: str, batch: MailBatch | None, **context: Any
) -> str:
    """Render a mail's text in the person's language (places in line from the batch, if any)."""
    from eventapp.services.registration.waitlist import event_waitlist_position

    if batch is not None and registration.status == RegistrationStatus.WAITLISTED:
        event_position = batch.event_positions.get(registration.id)
    else:
        event_position = None
    with urls.from_public_base():
        return texts.render(
            f"email/{template}.txt",
            registration.language or "de",
            registration=registration,
            event=registration.event,
            choices=active_choices(registration, batch.positions if batch else None),
            event_position=event_position or event_waitlist_position(registration),
            resend_url=urls.resend_url(registration.event),
            **context,
        )


def _subject(language: str, event_title: str, subject: LazyString) -> str:
    """Return the subject line in the person's language, with the event's title."""
    with force_locale(language or "de"):
        return f"{subject} – {event_title}"


def _queue(registration: Registration, *details: Any, **options: Any) -> None:
    """Put a mail to the registered person in the outbox now (see queue_for_registration)."""
    queue_for_registration(
        Recipient.of(registration), registration.event.title, *details, **options
    )


@dataclass(frozen=True)
class Recipient:
    """Whom a registration's mail goes to: the registration, its address and its language."""

    registration_id: int
    email: str
    language: str

    @classmethod
    def of(cls, registration: Registration) -> Recipient:
        """Return the recipient of a loaded registration's mails."""
        return cls(registration.id, registration.email, registration.language)


def queue_for_registration(
    recipient: Recipient,
    event_title: str,
    kind: str,
    subject: LazyString,
    template: str,
    *,
    with_calendar: bool = False,
    manage_token: str | None = None,
    **extra: Any,
) -> None:
    """Put a mail in the outbox now; the worker renders its text and calendar before sending.

    The private link's token travels sealed (encrypted with the app's secret key): the outbox
    never holds it in clear, and the sent mail's stored copy is emptied after delivery.
    A walk-in who gave no address gets no mail.
    """
    if recipient.email.endswith(NO_EMAIL_DOMAIN):
        return
    data = {"template": template, "with_calendar": with_calendar} | extra
    if manage_token:
        data["sealed_token"] = seal(manage_token, current_app.config["SECRET_KEY"])
    outbox.queue_for_rendering(
        recipient.email,
        _subject(recipient.language, event_title, subject),
        data,
        kind=kind,
        registration_id=recipient.registration_id,
    )


QUEUED_KINDS = (
    "registration",
    "registration_changed",
    "cancellation",
    "manage_link",
    "promotion",
    "clash_waitlist",
)
# What a queued mail's text and calendar read of its registration (one query).
_MAIL_DATA = (
    joinedload(Registration.event),
    joinedload(Registration.enrolments).joinedload(Enrolment.activity).joinedload(Activity.room),
)
# The registrations of a batch of mails (built once; building an ORM query costs as much as
# running it).
_REGISTRATIONS = (
    sa.select(Registration)
    .where(Registration.id.in_(sa.bindparam("ids", expanding=True)))
    .options(*_MAIL_DATA)
)


@dataclass
class MailBatch:
    """What a batch of queued mails reads: their registrations and the personal calendars."""

    registrations: list[Registration]
    # The activities of each person whose mail carries the calendar, by registration id.
    calendars: dict[int, list[Activity]]
    # Places on waiting lists: of waiting enrolments by enrolment id, and of people waiting for
    # the day by registration id.
    positions: dict[int, int] = field(default_factory=dict)
    event_positions: dict[int, int] = field(default_factory=dict)
    # The personal calendars built so far, by event, language and the plan's activities.
    calendar_files: dict[tuple[int, str, tuple[int, ...]], bytes] = field(default_factory=dict)


def load_registrations(batch: Sequence[OutboxMail]) -> MailBatch:
    """Load the registrations of a batch of queued mails in one go (not one query set each)."""
    from eventapp.services.registration.waitlist import (
        event_waitlist_positions,
        waitlist_positions,
    )

    mails = [m for m in batch if m.kind in QUEUED_KINDS and m.registration_id]
    ids = {m.registration_id for m in mails}
    if not ids:
        return MailBatch([], {})
    registrations = list(db.session.scalars(_REGISTRATIONS, {"ids": list(ids)}).unique())
    with_calendar = {m.registration_id for m in mails if (m.render_data or {}).get("with_calendar")}
    calendars = ical.personal_activities_of([r for r in registrations if r.id in with_calendar])
    waiting = [
        e.id for r in registrations for e in r.enrolments if e.status == EnrolmentStatus.WAITLISTED
    ]
    waiting_for_the_day = [r.id for r in registrations if r.status == RegistrationStatus.WAITLISTED]
    return MailBatch(
        registrations,
        calendars,
        waitlist_positions(waiting),
        event_waitlist_positions(waiting_for_the_day),
    )


def render_queued(queued: OutboxMail) -> bytes | None:
    """Build a queued mail from the registration as it is now (None if it is gone)."""
    registration = (
        db.session.get(Registration, queued.registration_id, options=_MAIL_DATA)
        if queued.registration_id is not None
        else None
    )
    data = queued.render_data or {}
    if registration is None or "template" not in data:
        return None
    token = (
        unseal(data["sealed_token"], current_app.config["SECRET_KEY"])
        if ("sealed_token" in data)
        else None
    )
    context: dict[str, Any] = {
        "manage_url": manage_url(registration, token) if token else data.get("manage_url")
    }
    if "promoted" in data:  # the enrolments that moved up, as they are now
        wanted = set(data["promoted"])
        context["promoted"] = [e for e in registration.enrolments if e.id in wanted]
        context["for_the_day"] = bool(data.get("for_the_day"))
    # Moved to a waiting list because of a clash: that enrolment and what it clashed with.
    if "moved" in data:
        context["moved"] = next((e for e in registration.enrolments if e.id == data["moved"]), None)
        wanted = set(data.get("clashing") or [])
        context["clashing"] = [
            e.activity for e in registration.enrolments if e.activity_id in wanted
        ]
    context["registered_again"] = bool(data.get("registered_again"))
    if data.get("by_organiser"):  # cancelled by the organisers, with their reason
        context["by_organiser"] = True
        context["reason"] = data.get("reason") or ""
    loaded = outbox.preloaded(load_registrations)
    batch = loaded if isinstance(loaded, MailBatch) else None
    text = _text(registration, data["template"], batch, **context)
    attachments = []
    if data.get("with_calendar"):
        calendar = batch.calendars.get(registration.id) if batch is not None else None
        attachments = calendar_attachment(registration, calendar, batch)
    return mime.build_message(
        current_app.config["MAIL_FROM"], queued.recipient, queued.subject, text, None, attachments
    )


# Kind, subject and template of the confirmation of a new registration.
_CONFIRMATION = ("registration", _l("Ihre Anmeldung"), "registration_confirmed")


def confirmation(registration: Registration, manage_token: str) -> None:
    """Confirm a new registration with its private link and the personal calendar."""
    _queue(registration, *_CONFIRMATION, with_calendar=True, manage_token=manage_token)


def confirmation_to(recipient: Recipient, event_title: str, manage_token: str) -> None:
    """The same for a registration written without loading it (the public form)."""
    queue_for_registration(
        recipient, event_title, *_CONFIRMATION, with_calendar=True, manage_token=manage_token
    )


def changed(registration: Registration, manage_token: str | None) -> None:
    """Confirm changed workshop choices, with the updated personal calendar."""
    _queue(
        registration,
        "registration_changed",
        _l("Ihre Auswahl wurde geändert"),
        "registration_changed",
        with_calendar=True,
        manage_token=manage_token,
    )


def details_changed(registration: Registration, manage_token: str | None) -> None:
    """Tell the address that the person's details were changed, and how they read now."""
    _queue(
        registration,
        "registration_changed",
        _l("Ihre Angaben wurden geändert"),
        "registration_details_changed",
        manage_token=manage_token,
    )


def promotion(registration: Registration, enrolments: list[Enrolment], for_the_day: bool) -> None:
    """Tell someone that they moved up from a waiting list."""
    db.session.flush()  # the enrolments have their ids
    _queue(
        registration,
        "promotion",
        _l("Sie sind nachgerückt"),
        "promoted",
        with_calendar=True,
        promoted=[e.id for e in enrolments],
        for_the_day=for_the_day,
    )


def cancelled(registration: Registration, *, by_organiser: bool = False, reason: str = "") -> None:
    """Confirm that a registration was cancelled (by the person, or by the organisers and why)."""
    if by_organiser:
        _queue(
            registration,
            "cancellation",
            _l("Ihre Anmeldung wurde vom Organisationsteam storniert"),
            "registration_cancelled",
            by_organiser=True,
            reason=reason,
        )
        return
    _queue(
        registration, "cancellation", _l("Ihre Anmeldung wurde storniert"), "registration_cancelled"
    )


def moved_to_waitlist(
    registration: Registration, enrolment: Enrolment, clashing_ids: Sequence[int]
) -> None:
    """Tell someone that a moved activity clashed with another and they now wait for it."""
    db.session.flush()  # the enrolment has its id
    _queue(
        registration,
        "clash_waitlist",
        _l("Programmänderung: Sie stehen jetzt auf der Warteliste"),
        "moved_to_waitlist",
        with_calendar=True,
        moved=enrolment.id,
        clashing=list(clashing_ids),
    )


def manage_link(
    registration: Registration, manage_token: str, *, registered_again: bool = False
) -> None:
    """Send a fresh private link to a registered address (asked for, or used to register again)."""
    manage_link_to(
        Recipient.of(registration),
        registration.event.title,
        manage_token,
        registered_again=registered_again,
    )


def manage_link_to(
    recipient: Recipient, event_title: str, manage_token: str, *, registered_again: bool
) -> None:
    """The same for a registration known by its id, address and language."""
    queue_for_registration(
        recipient,
        event_title,
        "manage_link",
        _l("Sie sind bereits angemeldet") if registered_again else _l("Ihr Link zur Anmeldung"),
        "manage_link",
        manage_token=manage_token,
        registered_again=registered_again,
    )


def register() -> None:
    """Let the worker render the registration mails (called by create_app)."""
    outbox.register_renderer(QUEUED_KINDS, render_queued, load_registrations)
