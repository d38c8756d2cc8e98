"""A past for the demo participants: registrations spread over weeks, check-ins on the morning.

Registering demo people through the real rules stamps them all with the same minute. This
spreads their registration times over the registration window (in their order, so the first
come stay first served) and checks most confirmed people in over the morning of the event day,
so the organisers' dashboard has something to show. The same event and people give the same
times on every run (a seeded random generator).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import Event, Registration, RegistrationStatus
from eventapp.timezones import from_local, to_local, utcnow

# Share of confirmed people checked in on the demo day (the rest are left to try the desk with).
ARRIVING = 0.6
# The entrance opens at 08:00; most people come before the opening at 10:00, a few later.
DOORS_OPEN = time(8, 0)
MORNING_MINUTES = 210
DESK = "Eingang Breite Straße"


@dataclass
class HistoryResult:
    """How many demo registrations got a registration time and a check-in time."""

    backdated: int = 0
    checked_in: int = 0


def _window(event: Event) -> tuple[datetime, datetime]:
    """Return when the demo registrations start and end: the registration window, up to today.

    The window ends at the latest at the start of today (event time), so a run on the same
    day gives the same times, and nobody has registered in the future.
    """
    first_day = from_local(event.starts_on, time(0, 0), event.timezone)
    opens = event.registration_opens_at or first_day - timedelta(weeks=8)
    closes = event.registration_closes_at or first_day - timedelta(days=2)
    today = from_local(to_local(utcnow(), event.timezone).date(), time(0, 0), event.timezone)
    if today - opens >= timedelta(days=1):
        closes = min(closes, today)
    if closes <= opens:
        closes = opens + timedelta(days=1)
    return opens, closes


def add_demo_history(event: Event) -> HistoryResult:
    """Give the event's registrations plausible times: spread over weeks, checked in at 8–11:30."""
    rng = random.Random(f"{event.slug}-history")
    registrations = db.session.scalars(
        sa.select(Registration)
        .where(Registration.event_id == event.id)
        .options(selectinload(Registration.enrolments))
        .order_by(Registration.id)
    ).all()
    result = HistoryResult()
    if not registrations:
        return result
    opens, closes = _window(event)
    span = (closes - opens).total_seconds()
    # More people register in the first days and just before the deadline than in between.
    moments = sorted(
        opens + timedelta(seconds=int(span * rng.betavariate(0.7, 0.9))) for _ in registrations
    )
    doors = from_local(event.starts_on, DOORS_OPEN, event.timezone)
    for registration, registered in zip(registrations, moments, strict=True):
        registration.created_at = registered
        registration.privacy_consent_at = registered
        if registration.photo_consent:
            registration.photo_consent_at = registered
        if registration.queued_at is not None:
            registration.queued_at = registered
        result.backdated += 1
        arrives = rng.random() < ARRIVING
        minute = rng.triangular(0, MORNING_MINUTES, 60)
        if registration.status == RegistrationStatus.CONFIRMED and arrives:
            registration.checked_in_at = doors + timedelta(seconds=int(minute * 60))
            registration.checked_in_desk = DESK
            result.checked_in += 1
        for enrolment in registration.enrolments:
            enrolment.queued_at = registered
            if enrolment.confirmed_at is not None:
                enrolment.confirmed_at = registered
    db.session.flush()
    return result
