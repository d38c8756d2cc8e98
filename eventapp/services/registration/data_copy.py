"""Everything stored about one registered person, as plain data for a copy (GDPR Art. 15/20)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import OutboxMail, Registration, WorkshopAttendance


def _when(moment: datetime | None) -> str | None:
    """Return an instant as ISO 8601 in UTC."""
    return moment.isoformat() if moment else None


def data_copy(registration: Registration) -> dict[str, Any]:
    """Return the registration, its choices, consents and the mails sent to the person."""
    mails = db.session.scalars(
        sa.select(OutboxMail)
        .where(OutboxMail.registration_id == registration.id)
        .order_by(OutboxMail.created_at, OutboxMail.id)
    ).all()
    enrolments = sorted(registration.enrolments, key=lambda e: (e.activity.starts_at, e.id))
    admissions = db.session.scalars(
        sa.select(WorkshopAttendance)
        .where(WorkshopAttendance.registration_id == registration.id)
        .options(selectinload(WorkshopAttendance.activity))
        .order_by(WorkshopAttendance.scanned_at, WorkshopAttendance.id)
    ).all()
    return {
        "event": {
            "title": registration.event.title,
            "date": registration.event.starts_on.isoformat(),
            "venue": registration.event.venue,
        },
        "person": {
            "salutation": registration.salutation,
            "title": registration.title,
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "organisation": registration.organisation,
            "network": registration.network.name if registration.network else None,
            "state": registration.state,
            "email": registration.email,
            "role": str(registration.role),
            "language": registration.language,
            "accessibility_needs": registration.accessibility_needs,
            "dietary_wishes": registration.dietary_wishes,
        },
        "consents": {
            "privacy_notice_version": registration.privacy_consent_version,
            "privacy_consent_at": _when(registration.privacy_consent_at),
            "photo_consent": registration.photo_consent,
            "photo_consent_at": _when(registration.photo_consent_at),
        },
        "registration": {
            "status": str(registration.status),
            "registered_at": _when(registration.created_at),
            "changed_at": _when(registration.updated_at),
            "cancelled_at": _when(registration.cancelled_at),
            "added_by_organiser": registration.added_by_organiser,
            "badge_printed_at": _when(registration.badge_printed_at),
            "checked_in_at": _when(registration.checked_in_at),
            "checkin_code": registration.checkin_code,
            "organiser_notes": registration.organiser_notes,
        },
        "choices": [
            {
                "activity": e.activity.title,
                "starts_at": _when(e.activity.starts_at),
                "status": str(e.status),
                "queued_at": _when(e.queued_at),
                "confirmed_at": _when(e.confirmed_at),
                "cancelled_at": _when(e.cancelled_at),
            }
            for e in enrolments
        ],
        "workshop_attendance": [
            {"activity": a.activity.title, "let_in_at": _when(a.scanned_at), "desk": a.desk}
            for a in admissions
        ],
        "emails": [
            {
                "subject": m.subject,
                "kind": m.kind,
                "status": str(m.status),
                "queued_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
            }
            for m in mails
        ],
        "stored_secrets": (
            "The private link and the calendar link are stored only as SHA-256 hashes."
        ),
    }
