"""The badge desk on the day: find a person, print one badge, check them in."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import Event, Registration, RegistrationStatus
from eventapp.services import DomainError
from eventapp.services.printing.badges import sort_registrations

SEARCH_LIMIT = 50


def search(event: Event, text: str) -> list[Registration]:
    """Find registrations by check-in code, name or organisation (at most SEARCH_LIMIT)."""
    text = " ".join(text.split())
    if not text:
        return []
    code = text.replace(" ", "").upper()
    query = sa.select(Registration).where(Registration.event_id == event.id)
    by_code = db.session.scalars(query.where(Registration.checkin_code == code)).all()
    if by_code:
        return list(by_code)
    conditions = []
    for word in text.split()[:4]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        conditions.append(
            sa.or_(
                Registration.first_name.ilike(pattern),
                Registration.last_name.ilike(pattern),
                Registration.organisation.ilike(pattern),
            )
        )
    found = db.session.scalars(
        query.where(*conditions)
        .options(selectinload(Registration.network))
        .order_by(Registration.last_name, Registration.first_name)
        .limit(SEARCH_LIMIT)
    ).all()
    return sort_registrations(found, "name")


def registration_of_event(event: Event, registration_id: int) -> Registration:
    """Return the event's registration with this id, or raise DomainError."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise DomainError(_("Diese Anmeldung gibt es nicht."))
    return registration


def check_in(registration: Registration, when: datetime) -> bool:
    """Mark a confirmed registration as arrived; return False when already checked in."""
    if registration.status != RegistrationStatus.CONFIRMED:
        raise DomainError(
            _("%(name)s ist nicht bestätigt angemeldet.", name=registration.full_name)
        )
    if registration.checked_in_at is not None:
        return False
    registration.checked_in_at = when
    db.session.flush()
    return True


def undo_check_in(registration: Registration) -> None:
    """Take back a check-in made by mistake."""
    registration.checked_in_at = None
    db.session.flush()
