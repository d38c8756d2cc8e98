"""Change notices: one mail per person after a quiet period, old → new, with the .ics attached."""

from __future__ import annotations

import email
import email.policy
from datetime import time, timedelta
from email.message import Message
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityChangeNotice,
    Enrolment,
    EnrolmentStatus,
    OutboxMail,
    RegistrationStatus,
)
from eventapp.services.mail.change_notices import flush_change_notices
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_registration, make_room
from tests.helpers.programme import edit


def setup_workshop() -> dict[str, Any]:
    """Create a workshop with one confirmed, one waitlisted and one cancelled person."""
    event = make_event()
    room = make_room(event, "Raum 1", 2)
    other_room = make_room(event, "Raum 2", 20)
    workshop = make_activity(event, "Fachkräfte sichern", "10:00", "11:00", room)
    anna = make_registration(event, "Anna", "Albers")
    ben = make_registration(event, "Ben", "Bauer", language="en")
    gone = make_registration(event, "Gerd", "Gone")
    left = make_registration(event, "Lea", "Left", status=RegistrationStatus.CANCELLED)
    for person, status in (
        (anna, EnrolmentStatus.CONFIRMED),
        (ben, EnrolmentStatus.WAITLISTED),
        (gone, EnrolmentStatus.CANCELLED),
        (left, EnrolmentStatus.CONFIRMED),
    ):
        db.session.add(Enrolment(registration=person, activity=workshop, status=status))
    db.session.commit()
    return {"event": event, "workshop": workshop, "room2": other_room, "anna": anna, "ben": ben}


def move(activity: Activity, start: str, end: str) -> None:
    """Move an activity to other wall-clock times on its day."""
    edit(activity, starts=time.fromisoformat(start), ends=time.fromisoformat(end))


def later(minutes: int = 11) -> Any:
    """Return a moment after the default quiet period."""
    return utcnow() + timedelta(minutes=minutes)


@pytest.fixture
def app_config() -> dict[str, object]:
    """Keep the mails queued (no worker runs here), so their text can be read."""
    return {"TASK_QUEUE_IMMEDIATE": False}


def change_mails() -> list[OutboxMail]:
    """Return the queued change mails."""
    return list(
        db.session.scalars(
            sa.select(OutboxMail)
            .where(OutboxMail.kind == "activity_changed")
            .order_by(OutboxMail.id)
        )
    )


def body_of(mail: OutboxMail) -> tuple[str, Message]:
    """Return the plain text and the parsed message."""
    message = email.message_from_bytes(mail.message, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode("utf-8"), message
    raise AssertionError("no text part")


def test_moved_activity_tells_enrolled_and_waitlisted_once(ctx: Flask) -> None:
    data = setup_workshop()
    move(data["workshop"], "11:00", "12:00")
    assert flush_change_notices(utcnow()) == 0  # still within the quiet period
    assert flush_change_notices(later()) == 2
    db.session.commit()
    mails = change_mails()
    assert sorted(m.recipient for m in mails) == [
        "anna.albers@example.org",
        "ben.bauer@example.org",
    ]
    assert all(m.activity_id == data["workshop"].id for m in mails)
    assert flush_change_notices(later(30)) == 0


def test_mail_says_old_and_new_time_in_recipients_language(ctx: Flask) -> None:
    data = setup_workshop()
    move(data["workshop"], "11:00", "12:00")
    flush_change_notices(later())
    db.session.commit()
    by_recipient = {m.recipient: m for m in change_mails()}
    german, message = body_of(by_recipient["anna.albers@example.org"])
    assert message["Subject"].startswith("Programmänderung")
    assert "10.06.2026 10:00–11:00 → 10.06.2026 11:00–12:00" in german
    english, _ = body_of(by_recipient["ben.bauer@example.org"])
    assert "Time: 10.06.2026 10:00–11:00 → 10.06.2026 11:00–12:00" in english


def test_mail_carries_updated_personal_calendar(ctx: Flask) -> None:
    data = setup_workshop()
    move(data["workshop"], "11:00", "12:00")
    flush_change_notices(later())
    db.session.commit()
    mail = next(m for m in change_mails() if m.recipient.startswith("anna"))
    _, message = body_of(mail)
    attachment = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == data["workshop"].starts_at
    assert int(vevent["SEQUENCE"]) == 1


def test_several_edits_in_a_row_send_one_mail_with_first_and_last_values(ctx: Flask) -> None:
    data = setup_workshop()
    workshop = data["workshop"]
    move(workshop, "11:00", "12:00")
    move(workshop, "12:00", "13:00")
    edit(workshop, room_id=data["room2"].id)
    assert flush_change_notices(later()) == 2
    db.session.commit()
    text, _ = body_of(next(m for m in change_mails() if m.recipient.startswith("anna")))
    assert "10:00–11:00 → 10.06.2026 12:00–13:00" in text
    assert "Raum: Raum 1 → Raum 2" in text
    notices = db.session.scalars(sa.select(ActivityChangeNotice)).all()
    assert len(notices) == 1
    assert workshop.revision == 3


def test_edit_undone_before_quiet_period_ends_sends_nothing(ctx: Flask) -> None:
    data = setup_workshop()
    move(data["workshop"], "11:00", "12:00")
    move(data["workshop"], "10:00", "11:00")
    assert flush_change_notices(later()) == 0
    db.session.commit()
    assert change_mails() == []
    notice = db.session.scalar(sa.select(ActivityChangeNotice))
    assert notice.sent_at is not None and notice.recipients == 0


def test_quiet_period_restarts_with_each_edit(ctx: Flask) -> None:
    data = setup_workshop()
    move(data["workshop"], "11:00", "12:00")
    notice = db.session.scalar(sa.select(ActivityChangeNotice))
    notice.last_change_at = utcnow() - timedelta(minutes=9)
    db.session.commit()
    move(data["workshop"], "12:00", "13:00")
    assert flush_change_notices(utcnow() + timedelta(minutes=5)) == 0
    assert flush_change_notices(later()) == 2


def test_cancellation_is_announced(ctx: Flask) -> None:
    data = setup_workshop()
    edit(data["workshop"], cancelled=True)
    flush_change_notices(later())
    db.session.commit()
    text, message = body_of(next(m for m in change_mails() if m.recipient.startswith("anna")))
    assert message["Subject"] == "Abgesagt: Fachkräfte sichern"
    assert "fällt leider aus" in text


def test_title_only_change_and_unpublished_activity_send_nothing(ctx: Flask) -> None:
    data = setup_workshop()
    edit(data["workshop"], title="Neuer Titel")
    edit(data["workshop"], published=False)
    move(data["workshop"], "11:00", "12:00")
    assert flush_change_notices(later()) == 0
    assert db.session.scalar(sa.select(sa.func.count(ActivityChangeNotice.id))) == 0


@pytest.mark.parametrize("app_config", [{"CHANGE_NOTICE_DELAY": 0}])
def test_workers_sweep_turns_due_notices_into_mail(ctx: Flask) -> None:
    from eventapp.tasks import sweep

    data = setup_workshop()
    move(data["workshop"], "11:00", "12:00")
    sweep()
    mails = change_mails()
    assert len(mails) == 2
    assert all(m.sent_at is not None for m in mails)


def test_organiser_sees_who_was_told(staff_client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        data = setup_workshop()
        move(data["workshop"], "11:00", "12:00")
        flush_change_notices(later())
        db.session.commit()
        url = f"/organisation/veranstaltungen/{data['event'].id}/aenderungsmitteilungen"
    page = staff_client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Fachkräfte sichern" in text
    assert "Anna Albers" in text and "Ben Bauer" in text
    assert "Gerd Gone" not in text
    assert "2 Personen benachrichtigt" in text and "(Zeit)" in text


def test_change_notice_page_needs_staff_login(client: FlaskClient, ctx: Flask) -> None:
    event = make_event()
    db.session.commit()
    response = client.get(f"/organisation/veranstaltungen/{event.id}/aenderungsmitteilungen")
    assert response.status_code == 302
