"""Personal data kept no longer than the privacy notice promises.

The registration form says that accessibility needs and dietary wishes are deleted after the
event, and everything else six months after it. `eventapp purge-personal-data`, run daily,
keeps that promise: the programme, the rooms and the seat counts stay; people do not.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import Event, OutboxMail, PrintJob, Registration
from eventapp.timezones import to_local

# Months after an event's last day until its registrations are deleted (the privacy notice).
RETENTION_MONTHS = 6


@dataclass
class PurgeReport:
    """What one purge removed."""

    needs_cleared: int = 0
    registrations_deleted: int = 0
    mails_deleted: int = 0
    print_jobs_deleted: int = 0


def months_after(day: date, months: int) -> date:
    """Return the same day so many months later (the month's last day where it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deletion_day(event: Event) -> date:
    """Return the first day on which an event's registrations are deleted."""
    return months_after(event.ends_on, RETENTION_MONTHS)


def purge_personal_data(now: datetime) -> PurgeReport:
    """Clear needs after each event and delete registrations once their time is over (flushes)."""
    report = PurgeReport()
    for event in db.session.scalars(sa.select(Event)):
        today = to_local(now, event.timezone).date()
        if today <= event.ends_on:
            continue
        if today >= deletion_day(event):
            _delete_people(event, report)
        else:
            report.needs_cleared += _clear_needs(event)
    db.session.flush()
    return report


def _clear_needs(event: Event) -> int:
    """Empty the accessibility needs and dietary wishes of an event that is over."""
    result = db.session.execute(
        sa.update(Registration)
        .where(
            Registration.event_id == event.id,
            sa.or_(Registration.accessibility_needs != "", Registration.dietary_wishes != ""),
        )
        .values(accessibility_needs="", dietary_wishes="")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _delete_people(event: Event, report: PurgeReport) -> None:
    """Delete an event's registrations with their choices, their mails and its print files."""
    people = sa.select(Registration.id).where(Registration.event_id == event.id)
    mails = db.session.execute(
        sa.delete(OutboxMail)
        .where(OutboxMail.registration_id.in_(people))
        .execution_options(synchronize_session=False)
    )
    report.mails_deleted += int(mails.rowcount or 0)
    jobs = db.session.execute(  # their PDFs go with them (ON DELETE CASCADE)
        sa.delete(PrintJob)
        .where(PrintJob.event_id == event.id)
        .execution_options(synchronize_session=False)
    )
    report.print_jobs_deleted += int(jobs.rowcount or 0)
    deleted = db.session.execute(
        sa.delete(Registration)
        .where(Registration.event_id == event.id)
        .execution_options(synchronize_session=False)
    )
    report.registrations_deleted += int(deleted.rowcount or 0)
