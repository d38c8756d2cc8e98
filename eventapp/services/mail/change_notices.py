"""Tell enrolled and waitlisted people once when a published activity moves or is cancelled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp import urls
from eventapp.extensions import db
from eventapp.models import (
    NO_EMAIL_DOMAIN,
    Activity,
    ActivityChangeNotice,
    Enrolment,
    EnrolmentStatus,
    Event,
    OutboxMail,
    Registration,
    RegistrationStatus,
    Room,
)
from eventapp.queueing import after_commit
from eventapp.services.calendar.ical import (
    MAIL_ATTACHMENT_TYPE,
    personal_activities_of,
    registration_ics,
)
from eventapp.services.mail import texts
from eventapp.timezones import format_local, utcnow

MAIL_KIND = "activity_changed"
# What a participant is told about; a new title alone only raises the iCal SEQUENCE.
NOTIFIED_CHANGES = ("time", "room", "cancelled")


@dataclass
class ChangeLine:
    """One changed property: its label and the old and new values as text."""

    label: str
    old: str
    new: str


@dataclass
class ActivityNotices:
    """The sent notices of one activity and the mails that went out, for the organiser."""

    activity: Activity
    notices: list[ActivityChangeNotice] = field(default_factory=list)
    mails: list[tuple[OutboxMail, Registration | None]] = field(default_factory=list)


def _room_id(values: Mapping[str, Any]) -> int | None:
    if "room_id" in values:
        return values["room_id"]
    room = values.get("room")
    return room.id if room is not None else None


def _room_name(values: Mapping[str, Any]) -> str:
    room = values.get("room")
    if room is not None:
        return room.name
    room_id = values.get("room_id")
    found = db.session.get(Room, room_id) if room_id is not None else None
    return found.name if found else ""


def changed_parts(before: Mapping[str, Any], activity: Activity) -> list[str]:
    """Name what differs between old values and the activity: title, time, room, cancelled."""
    parts = []
    if before.get("title", activity.title) != activity.title:
        parts.append("title")
    if (before.get("starts_at", activity.starts_at), before.get("ends_at", activity.ends_at)) != (
        activity.starts_at,
        activity.ends_at,
    ):
        parts.append("time")
    if ("room" in before or "room_id" in before) and _room_id(before) != activity.room_id:
        parts.append("room")
    if bool(before.get("cancelled", activity.cancelled)) != bool(activity.cancelled):
        parts.append("cancelled")
    return parts


def record_change(activity: Activity, before: Mapping[str, Any]) -> ActivityChangeNotice | None:
    """Note an edit of an activity so that its people get one notice after the quiet period.

    `before` holds the old title, starts_at, ends_at, room (or room_id) and cancelled. The first
    unsent edit keeps the original values; later edits only push the quiet period back. The
    caller (the planner's update) raises the activity's revision for the iCal SEQUENCE.
    """
    db.session.flush()  # room_id follows a changed room relationship only after a flush
    parts = changed_parts(before, activity)
    if not parts:
        return None
    now = utcnow()
    if not (activity.published and activity.event.published):
        return None
    if not set(parts) & set(NOTIFIED_CHANGES):
        return None
    notice = db.session.scalar(
        sa.select(ActivityChangeNotice).where(
            ActivityChangeNotice.activity_id == activity.id,
            ActivityChangeNotice.sent_at.is_(None),
        )
    )
    if notice is None:
        notice = ActivityChangeNotice(
            activity=activity,
            old_title=before.get("title", activity.title),
            old_starts_at=before.get("starts_at", activity.starts_at),
            old_ends_at=before.get("ends_at", activity.ends_at),
            old_room_id=_room_id(before) if ("room" in before or "room_id" in before) else None,
            old_room_name=_room_name(before),
            old_cancelled=bool(before.get("cancelled", activity.cancelled)),
            first_change_at=now,
        )
        if not ("room" in before or "room_id" in before):
            notice.old_room_id = activity.room_id
            notice.old_room_name = _room_name({"room_id": activity.room_id})
        db.session.add(notice)
    notice.last_change_at = now
    db.session.flush()
    after_commit("flush_change_notices", eta=now + quiet_period())
    return notice


def quiet_period() -> timedelta:
    """Return how long an activity must stay unchanged before its notice is mailed."""
    return timedelta(seconds=int(current_app.config.get("CHANGE_NOTICE_DELAY", 600)))


def _notice_before(notice: ActivityChangeNotice) -> dict[str, Any]:
    return {
        "title": notice.old_title,
        "starts_at": notice.old_starts_at,
        "ends_at": notice.old_ends_at,
        "room_id": notice.old_room_id,
        "cancelled": notice.old_cancelled,
    }


def _time_text(starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
    return (
        f"{format_local(starts_at, zone_name, '%d.%m.%Y %H:%M')}–"
        f"{format_local(ends_at, zone_name, '%H:%M')}"
    )


def change_lines(
    notice: ActivityChangeNotice, activity: Activity, parts: list[str]
) -> list[ChangeLine]:
    """Describe each change as old → new, in the current language."""
    zone_name = activity.event.timezone
    lines = []
    if "cancelled" in parts:
        lines.append(
            ChangeLine(
                _("Status"),
                _("abgesagt") if notice.old_cancelled else _("findet statt"),
                _("abgesagt") if activity.cancelled else _("findet statt"),
            )
        )
    if "time" in parts:
        lines.append(
            ChangeLine(
                _("Zeit"),
                _time_text(notice.old_starts_at, notice.old_ends_at, zone_name),
                _time_text(activity.starts_at, activity.ends_at, zone_name),
            )
        )
    if "room" in parts:
        lines.append(
            ChangeLine(
                _("Raum"),
                notice.old_room_name or _("noch offen"),
                _room_name({"room_id": activity.room_id}) or _("noch offen"),
            )
        )
    if "title" in parts:
        lines.append(ChangeLine(_("Titel"), notice.old_title, activity.title))
    return lines


def recipients(activity: Activity) -> list[Registration]:
    """Return everyone confirmed or waitlisted for the activity whose registration stands."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(Enrolment, Enrolment.registration_id == Registration.id)
            .where(
                Enrolment.activity_id == activity.id,
                Enrolment.status.in_([EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]),
                Registration.status != RegistrationStatus.CANCELLED,
                Registration.email.not_like(f"%{NO_EMAIL_DOMAIN}"),
            )
            .options(selectinload(Registration.event))
            .order_by(Registration.id)
        )
    )


def _send(notice: ActivityChangeNotice, activity: Activity, parts: list[str]) -> int:
    from eventapp.services.mail.outbox import queue_mail
    from eventapp.services.programme.participant_clashes import clashing_activities

    event = activity.event
    # People who now hold another activity at the same time are told which one.
    clashes = clashing_activities(activity)
    sent = 0
    people = recipients(activity)
    plans = personal_activities_of(people)  # every calendar in one query
    for registration in people:
        with force_locale(registration.language or "de"), urls.from_public_base():
            lines = change_lines(notice, activity, parts)
            if activity.cancelled and "cancelled" in parts:
                subject = _("Abgesagt: %(title)s", title=activity.title)
            else:
                subject = _("Programmänderung: %(title)s", title=activity.title)
            text = texts.render(
                "email/activity_changed.txt",
                registration.language or "de",
                event=event,
                activity=activity,
                registration=registration,
                lines=lines,
                activity_url=urls.activity_url(activity),
                clashes=clashes.get(registration.id, []),
            )
            calendar = registration_ics(registration, plans[registration.id])
        queue_mail(
            registration.email,
            subject,
            text,
            attachments=((f"{event.slug}-mein-programm.ics", MAIL_ATTACHMENT_TYPE, calendar),),
            kind=MAIL_KIND,
            registration=registration,
            activity=activity,
        )
        sent += 1
    return sent


def _claim(notice: ActivityChangeNotice, now: datetime) -> bool:
    """Mark a notice as sent unless another run did already (one conditional UPDATE)."""
    result = db.session.execute(
        sa.update(ActivityChangeNotice)
        .where(ActivityChangeNotice.id == notice.id, ActivityChangeNotice.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    notice.sent_at = now
    return result.rowcount == 1


def flush_change_notices(now: datetime | None = None, delay: int | None = None) -> int:
    """Turn notices quiet for `delay` seconds into mails; return how many mails were queued."""
    now = now or utcnow()
    if delay is None:
        delay = int(current_app.config.get("CHANGE_NOTICE_DELAY", 600))
    due = db.session.scalars(
        sa.select(ActivityChangeNotice)
        .where(
            ActivityChangeNotice.sent_at.is_(None),
            ActivityChangeNotice.last_change_at <= now - timedelta(seconds=delay),
        )
        .options(selectinload(ActivityChangeNotice.activity).selectinload(Activity.room))
        .order_by(ActivityChangeNotice.id)
    ).all()
    queued = 0
    for notice in due:
        if not _claim(notice, now):
            continue  # another delivery run took it
        activity = notice.activity
        parts = changed_parts(_notice_before(notice), activity)
        told = [p for p in parts if p in NOTIFIED_CHANGES]
        if not told or not (activity.published and activity.event.published):
            continue
        notice.changes = ",".join(parts)
        notice.recipients = _send(notice, activity, parts)
        queued += notice.recipients
    db.session.flush()
    return queued


def notices_for_event(event: Event) -> list[ActivityNotices]:
    """Collect per activity the notices and the change mails sent, newest first."""
    notices = db.session.scalars(
        sa.select(ActivityChangeNotice)
        .join(Activity)
        .where(Activity.event_id == event.id)
        .options(selectinload(ActivityChangeNotice.activity))
        .order_by(ActivityChangeNotice.id.desc())
    ).all()
    mails = db.session.execute(
        sa.select(OutboxMail, Registration)
        .join(Activity, Activity.id == OutboxMail.activity_id)
        .outerjoin(Registration, Registration.id == OutboxMail.registration_id)
        .where(Activity.event_id == event.id, OutboxMail.kind == MAIL_KIND)
        .order_by(OutboxMail.id.desc())
    ).all()
    by_activity: dict[int, ActivityNotices] = {}
    for notice in notices:
        entry = by_activity.setdefault(notice.activity_id, ActivityNotices(notice.activity))
        entry.notices.append(notice)
    for mail, registration in mails:
        activity_id = mail.activity_id
        if activity_id not in by_activity:
            activity = db.session.get(Activity, activity_id)
            if activity is None:
                continue
            by_activity[activity_id] = ActivityNotices(activity)
        by_activity[activity_id].mails.append((mail, registration))
    return sorted(
        by_activity.values(), key=lambda entry: (entry.activity.starts_at, entry.activity.id)
    )
