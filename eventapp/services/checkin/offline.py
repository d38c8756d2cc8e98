"""The desk without Wi-Fi: the event's codes for the desk to keep, and check-ins sent late.

A desk that loses its connection keeps scanning: it shows names from its copy of the code
list and holds each check-in, with the time of the scan, until the connection is back. The
server then records them. A person is checked in once, at the earliest time any desk saw
them: an offline scan made before an online one replaces the later time, never adds a row.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from eventapp import labels
from eventapp.extensions import db
from eventapp.models import Event, Registration, RegistrationStatus
from eventapp.services import DomainError
from eventapp.services.checkin.desk import DESK_NAME_LENGTH, normalise_code

# How many check-ins one batch may carry (a desk holds a few hundred at most).
BATCH_LIMIT = 1000
# A scan time this far ahead of the server's clock is a wrong clock, not a check-in.
CLOCK_TOLERANCE = timedelta(minutes=5)
# Check-ins older than this are refused: a desk sends its queue within minutes of the
# connection coming back, so a two-day-old one is a stale device, not an arrival.
OLDEST_SCAN = timedelta(hours=48)


class LateOutcome(enum.StrEnum):
    """What became of one check-in a desk sent late."""

    CHECKED_IN = "checked_in"  # recorded at the scan's time (also when it was the earlier one)
    ALREADY = "already"  # an earlier (or the same) check-in stands
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    UNKNOWN = "unknown"
    OTHER_EVENT = "other_event"
    REFUSED = "refused"  # the item itself was unusable (time, code)


@dataclass(frozen=True)
class LateCheckIn:
    """One check-in a desk made without connection: the code, when it was scanned, where."""

    code: str
    scanned_at: datetime | None
    desk: str = ""
    problem: str = ""  # why the item cannot be used, when it cannot


@dataclass(frozen=True)
class LateResult:
    """The answer about one late check-in, in the order they were sent."""

    code: str
    outcome: LateOutcome
    name: str = ""
    message: str = ""


def code_list(event: Event) -> dict[str, dict[str, Any]]:
    """Return the event's check-in codes with what the desk shows about their holder."""
    rows = db.session.execute(
        sa.select(
            Registration.checkin_code,
            Registration.title,
            Registration.first_name,
            Registration.last_name,
            Registration.organisation,
            Registration.role,
            Registration.status,
            Registration.checked_in_at,
        ).where(Registration.event_id == event.id)
    ).all()
    return {
        row.checkin_code: {
            "name": " ".join(p for p in (row.title, row.first_name, row.last_name) if p),
            "organisation": row.organisation,
            "role": str(labels.PARTICIPANT_ROLE_LABELS[row.role]),
            "status": str(row.status),
            "status_label": str(labels.REGISTRATION_STATUS_LABELS[row.status]),
            "checked_in": row.checked_in_at is not None,
        }
        for row in rows
    }


def desk_label(text: str) -> str:
    """Return a desk name as stored: no control characters, at most the column's length."""
    kept = "".join(c for c in text if not unicodedata.category(c).startswith("C"))
    return " ".join(kept.split())[:DESK_NAME_LENGTH]


def parse_batch(payload: object) -> list[LateCheckIn]:
    """Read a desk's batch ({"check_ins": [{code, scanned_at, desk}, …]}) or raise DomainError.

    A batch of the wrong shape is refused whole; a single unusable item is kept with its
    problem, so it is answered one by one and the rest is recorded.
    """
    items = payload.get("check_ins") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise DomainError(_("Die Check-ins kamen nicht im erwarteten Format an."))
    if len(items) > BATCH_LIMIT:
        raise DomainError(
            _("Höchstens %(limit)s Check-ins auf einmal übertragen.", limit=BATCH_LIMIT)
        )
    return [_parse_item(item) for item in items]


def _parse_item(item: object) -> LateCheckIn:
    if not isinstance(item, dict):
        return LateCheckIn("", None, problem=_("Kein Check-in."))
    raw_code, raw_time, raw_desk = item.get("code"), item.get("scanned_at"), item.get("desk", "")
    code = normalise_code(raw_code) if isinstance(raw_code, str) else ""
    desk = desk_label(raw_desk) if isinstance(raw_desk, str) else ""
    if not code:
        return LateCheckIn("", None, desk, _("Ohne Code."))
    scanned_at = None
    if isinstance(raw_time, str) and len(raw_time) <= 40:
        try:
            scanned_at = datetime.fromisoformat(raw_time)
        except ValueError:
            scanned_at = None
    if scanned_at is None or scanned_at.tzinfo is None:
        return LateCheckIn(code, None, desk, _("Ohne gültige Scan-Zeit."))
    return LateCheckIn(code, scanned_at, desk)


def check_in_at_earliest(registration: Registration, when: datetime, desk: str) -> bool:
    """Record a check-in at `when` unless one at the same or an earlier time stands.

    One conditional UPDATE, as for a scan: concurrent desks and batches never record two
    check-ins; the earliest time any of them saw the person is the one kept.
    """
    result = db.session.execute(
        sa.update(Registration)
        .where(
            Registration.id == registration.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            sa.or_(Registration.checked_in_at.is_(None), Registration.checked_in_at > when),
        )
        .values(checked_in_at=when, checked_in_desk=desk[:DESK_NAME_LENGTH])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def record_late_check_ins(
    event: Event, check_ins: list[LateCheckIn], now: datetime
) -> list[LateResult]:
    """Record check-ins a desk made offline; answer each one. The caller commits."""
    codes = {c.code for c in check_ins if c.code}
    holders = (
        {
            r.checkin_code: r
            for r in db.session.scalars(
                sa.select(Registration).where(Registration.checkin_code.in_(codes))
            )
        }
        if codes
        else {}
    )
    results = []
    for item in check_ins:
        results.append(_record_one(event, item, holders.get(item.code), now))
    return results


def _record_one(
    event: Event, item: LateCheckIn, registration: Registration | None, now: datetime
) -> LateResult:
    if item.problem or item.scanned_at is None:
        return LateResult(item.code, LateOutcome.REFUSED, message=item.problem)
    if item.scanned_at > now + CLOCK_TOLERANCE:
        message = _("Die Scan-Zeit liegt in der Zukunft; bitte die Uhr des Geräts prüfen.")
        return LateResult(item.code, LateOutcome.REFUSED, message=message)
    if item.scanned_at < now - OLDEST_SCAN:
        message = _("Der Scan ist älter als zwei Tage und wurde nicht übernommen.")
        return LateResult(item.code, LateOutcome.REFUSED, message=message)
    if registration is None:
        return LateResult(item.code, LateOutcome.UNKNOWN)
    if registration.event_id != event.id:
        return LateResult(item.code, LateOutcome.OTHER_EVENT)  # never who
    name = registration.full_name
    if registration.status == RegistrationStatus.CANCELLED:
        return LateResult(item.code, LateOutcome.CANCELLED, name)
    if registration.status == RegistrationStatus.WAITLISTED:
        return LateResult(item.code, LateOutcome.WAITLISTED, name)
    recorded = check_in_at_earliest(registration, item.scanned_at, item.desk)
    db.session.refresh(registration)
    if registration.status != RegistrationStatus.CONFIRMED:  # cancelled a moment ago
        return _record_one(event, item, registration, now)
    outcome = LateOutcome.CHECKED_IN if recorded else LateOutcome.ALREADY
    return LateResult(item.code, outcome, name)
