"""Feedback on barriers: stored, and written to the organisers through the outbox."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import AccessibilityFeedback, Event, Organiser, OrganiserRole
from eventapp.services.mail import feedback_mail
from eventapp.timezones import utcnow

# Organiser accounts that are told about a new message (the check-in desk is not).
RECIPIENT_ROLES = (OrganiserRole.ADMIN, OrganiserRole.STAFF)


@dataclass(frozen=True)
class Contact:
    """Who answers questions on accessibility: the office running the next event."""

    name: str
    email: str
    phone: str


def statement_contact() -> Contact | None:
    """Return the contact of the next published event (else the latest one), if any."""
    today = utcnow().date()
    published = sa.select(Event).where(Event.published)
    event = db.session.scalar(
        published.where(Event.ends_on >= today).order_by(Event.starts_on).limit(1)
    ) or db.session.scalar(published.order_by(Event.starts_on.desc()).limit(1))
    if event is None or not (event.contact_email or event.contact_phone):
        return None
    return Contact(event.organiser_name, event.contact_email, event.contact_phone)


def organiser_addresses() -> list[str]:
    """Return the addresses of the active organiser accounts that read feedback."""
    return list(
        db.session.scalars(
            sa.select(Organiser.email)
            .where(Organiser.active, Organiser.role.in_(RECIPIENT_ROLES))
            .order_by(Organiser.email)
        )
    )


def submit_feedback(
    message: str, *, page: str = "", name: str = "", email: str = "", language: str = "de"
) -> AccessibilityFeedback:
    """Store a message about a barrier and queue a mail with it to every organiser."""
    feedback = AccessibilityFeedback(
        message=message, page=page, name=name, email=email, language=language
    )
    db.session.add(feedback)
    db.session.flush()
    feedback_mail.queue(feedback, organiser_addresses())  # the worker writes the text
    return feedback
