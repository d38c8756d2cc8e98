"""Walk-ins: register a person at the desk on the day, check them in, print their badge."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import (
    NO_EMAIL_DOMAIN,
    Activity,
    EnrolmentStatus,
    Event,
    Organiser,
    ParticipantRole,
    PrintJob,
    Registration,
)
from eventapp.services import DomainError
from eventapp.services.checkin import desk as checkin_desk
from eventapp.services.printing import jobs as print_jobs
from eventapp.services.printing.badge_layouts import SINGLE_LAYOUTS
from eventapp.services.registration import registrations, waitlist


@dataclass
class WalkIn:
    """What the desk asks a walk-in: enough for a badge and the lists."""

    first_name: str
    last_name: str
    organisation: str
    privacy_consent_version: str
    email: str = ""
    network_id: int | None = None
    role: ParticipantRole = ParticipantRole.PARTICIPANT
    language: str = "de"


@dataclass
class WalkInResult:
    """The checked-in walk-in and the print job of their badge."""

    registration: Registration
    badge_job: PrintJob


def workshops_with_seats(event: Event) -> list[Activity]:
    """Return the event's open workshops that still have a free seat, in programme order."""
    return [
        activity
        for activity in registrations.enrollable_activities(event)
        if activity.seats_left is None or activity.seats_left > 0
    ]


def register_walk_in(
    event: Event,
    person: WalkIn,
    activity_id: int | None,
    *,
    when: datetime,
    desk: str,
    layout: str,
    organiser: Organiser | None,
) -> WalkInResult:
    """Register a walk-in for the day (and a workshop seat), check them in, queue their badge.

    The day itself is never refused (the person stands at the desk), but a workshop seat
    follows the same rules as online: taken only while one is free, else nothing is stored.
    """
    if layout not in SINGLE_LAYOUTS:
        raise DomainError(_("Bitte wählen Sie ein Format."), field="layout")
    email = person.email.strip().lower()
    participant = registrations.Participant(
        first_name=person.first_name,
        last_name=person.last_name,
        organisation=person.organisation,
        network_id=person.network_id,
        role=person.role,
        language=person.language,
        # A unique stand-in keeps one registration per address; nothing is sent to it.
        email=email or f"walk-in-{secrets.token_hex(8)}{NO_EMAIL_DOMAIN}",
        privacy_consent_version=person.privacy_consent_version,
    )
    try:
        result = registrations.register(
            event, participant, [], by_organiser=True, notify=bool(email)
        )
    except registrations.AlreadyRegistered as already:
        raise DomainError(
            _(
                "%(name)s ist mit dieser E-Mail-Adresse schon angemeldet. Bitte suchen Sie die "
                "Person über die Suche und checken Sie sie dort ein.",
                name=already.registration.full_name,
            ),
            field="email",
        ) from already
    registration = result.registration
    if activity_id is not None:
        (activity,) = registrations.chosen_activities(event, [activity_id])
        enrolment = waitlist.enrol(registration, activity)
        if enrolment.status != EnrolmentStatus.CONFIRMED:
            raise DomainError(
                _(
                    "„%(title)s“ ist inzwischen voll. Bitte wählen Sie einen anderen Workshop "
                    "oder keinen.",
                    title=activity.title,
                ),
                field="activity",
            )
        db.session.flush()
    checkin_desk.check_in(registration, when, desk)
    job = print_jobs.create_job(
        event,
        "badges",
        {
            "layout": layout,
            "registration_id": registration.id,
            "mark": True,
            "lang": person.language,
        },
        organiser,
    )
    return WalkInResult(registration, job)


def single_badge_job(
    event: Event, registration: Registration, layout: str, language: str, organiser: Organiser
) -> PrintJob:
    """Queue one person's badge (A6 or ID-1) for the desk's printer."""
    if layout not in SINGLE_LAYOUTS:
        raise DomainError(_("Bitte wählen Sie ein Format."))
    return print_jobs.create_job(
        event,
        "badges",
        {"layout": layout, "registration_id": registration.id, "mark": True, "lang": language},
        organiser,
    )


def desk_badge_job(event: Event, job_id: int) -> PrintJob | None:
    """Return a single-badge job of the event (the only print jobs the desk may open)."""
    job = db.session.scalar(
        sa.select(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.event_id == event.id, PrintJob.kind == "badges")
        .options(selectinload(PrintJob.event))
    )
    if job is None or not (job.parameters or {}).get("registration_id"):
        return None
    return job
