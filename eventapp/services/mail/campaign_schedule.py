"""The pace of campaign mails: one schedule in the database shared by every worker and host.

Each campaign mail gets a slot (its next_attempt_at) when the campaign is sent, one interval
after the slot before, continuing after the last slot any campaign was given; the worker sends
a mail once its slot has come. So however many workers run, campaign mails leave at
MAIL_CAMPAIGN_MAILS_PER_MINUTE. Retries of refused mails keep the outbox's own pauses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import MailCampaign, MailStatus, OutboxMail
from eventapp.timezones import utcnow

# The outbox kind of a campaign's mails.
KIND = "campaign"
# A slot missed by longer than this (the worker was down) is given a new one at the end.
MISSED_SLOT = timedelta(minutes=2)
# Any fixed number: the PostgreSQL advisory lock that serialises the campaign schedule.
SCHEDULE_LOCK = 7_201_012


def interval(config: dict[str, Any] | Any) -> timedelta:
    """Return the pause between two campaign mails (MAIL_CAMPAIGN_MAILS_PER_MINUTE)."""
    per_minute = max(1, int(config["MAIL_CAMPAIGN_MAILS_PER_MINUTE"]))
    return timedelta(seconds=60 / per_minute)


def lock_schedule() -> None:
    """Serialise changes to the schedule (SQLite writers are serialised by BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEDULE_LOCK})


def _schedule_end() -> datetime | None:
    """Return the last slot given to any campaign mail so far."""
    return db.session.scalar(sa.select(sa.func.max(MailCampaign.last_slot_at)))


def take_slots(count: int, step: timedelta, now: datetime | None = None) -> list[datetime]:
    """Return the next count slots of the shared schedule, one step apart (lock held)."""
    now = now or utcnow()
    end = _schedule_end()
    start = max(now, end + step) if end is not None else now
    return [start + step * i for i in range(count)]


def reschedule_missed(config: Any, now: datetime | None = None) -> int:
    """Give campaign mails whose slot passed long ago (worker down) new slots at the end.

    Without this, every mail missed during an outage would be due at once when the worker
    comes back, far above the pace. Returns how many were moved; the caller commits.
    """
    now = now or utcnow()
    missed_query = (
        sa.select(OutboxMail.id, OutboxMail.campaign_id)
        .where(
            OutboxMail.campaign_id.is_not(None),
            OutboxMail.kind == KIND,
            OutboxMail.status == MailStatus.PENDING,
            OutboxMail.attempts == 0,
            OutboxMail.delivery_started_at.is_(None),
            OutboxMail.next_attempt_at < now - MISSED_SLOT,
        )
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
    )
    if db.session.execute(missed_query.limit(1)).first() is None:
        return 0
    lock_schedule()
    missed = db.session.execute(missed_query).all()
    slots = take_slots(len(missed), interval(config), now)
    last_by_campaign: dict[int, datetime] = {}
    for (mail_id, campaign_id), slot in zip(missed, slots, strict=True):
        db.session.execute(
            sa.update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.delivery_started_at.is_(None))
            .values(next_attempt_at=slot)
            .execution_options(synchronize_session=False)
        )
        last_by_campaign[campaign_id] = slot
    for campaign_id, slot in last_by_campaign.items():
        db.session.execute(
            sa.update(MailCampaign)
            .where(MailCampaign.id == campaign_id)
            .values(last_slot_at=slot)
            .execution_options(synchronize_session=False)
        )
    return len(missed)
