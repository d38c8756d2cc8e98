"""The mails a participant gets, rendered by the worker in rounds of many mails."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityKind,
    Enrolment,
    EnrolmentStatus,
    Event,
    OutboxMail,
)
from eventapp.services.mail import outbox
from eventapp.services.registration import registrations as service
from eventapp.services.registration import waitlist
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event
from tests.helpers.mailbox import delivered, plain_text
from tests.helpers.participants import person
from tests.helpers.statements import count_statements

# The mails wait in the outbox until the test sends them in one round.
QUEUED_ONLY = [{"TASK_QUEUE_IMMEDIATE": False}]


def _register(count: int, start: int = 0) -> None:
    event = db.session.scalar(sa.select(Event))
    workshop = event.activities[0]
    for n in range(start, start + count):
        service.register(event, person(n), [workshop.id])
        db.session.commit()


def _places(app: Flask) -> dict[str, list[str]]:
    """Return the places in line each delivered mail names, by address."""
    return {
        str(message["To"]): re.findall(r"Platz (\d+)", plain_text(message))
        for message in delivered(app)
    }


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_a_round_of_mails_names_each_persons_place_in_line(ctx: Flask) -> None:
    event = make_event(capacity=4)
    make_activity(event, title="Gefragt", capacity=2)
    db.session.commit()
    _register(6)
    assert outbox.deliver(ctx.config)["sent"] == 6
    assert _places(ctx) == {
        "person0@example.org": [],
        "person1@example.org": [],
        "person2@example.org": ["1"],  # the workshop is full: first in its line
        "person3@example.org": ["2"],
        "person4@example.org": ["1", "3"],  # the day is full: first on the day's list
        "person5@example.org": ["2", "4"],
    }


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_a_round_reads_all_places_in_line_at_once(ctx: Flask) -> None:
    event = make_event(capacity=20)
    make_activity(event, title="Gefragt", capacity=1)
    db.session.commit()
    _register(1)
    outbox.deliver(ctx.config)  # the first round also stores the workshop's calendar entry
    _register(3, start=1)
    with count_statements(ctx) as few:
        outbox.deliver(ctx.config)
    _register(12, start=4)
    with count_statements(ctx) as many:
        outbox.deliver(ctx.config)
    counts = [re.findall(r"Platz (\d+)", plain_text(m)) for m in delivered(ctx)]
    assert counts[1:] == [[str(n)] for n in range(1, 16)]  # person0 has the seat
    reads = [[s for s in run if s.lstrip().upper().startswith("SELECT")] for run in (few, many)]
    assert len(reads[0]) == len(reads[1]), reads  # the same queries for 3 mails as for 12
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 16


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_places_in_line_go_by_queue_time_then_by_arrival(ctx: Flask) -> None:
    event = make_event(capacity=20)
    make_activity(event, title="Gefragt", capacity=1)
    db.session.commit()
    _register(5)  # person0 holds the seat; person1 … person4 wait
    waiting = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.status == EnrolmentStatus.WAITLISTED)
    ).all()
    start = utcnow()
    for enrolment, seconds in zip(sorted(waiting, key=lambda e: e.id), (2, 1, 1, 0), strict=True):
        enrolment.queued_at = start + timedelta(seconds=seconds)
    db.session.commit()
    assert outbox.deliver(ctx.config)["sent"] == 5
    places = _places(ctx)
    assert [places[f"person{n}@example.org"] for n in range(1, 5)] == [["4"], ["2"], ["3"], ["1"]]
    for enrolment in waiting:  # the same places as counted one by one
        address = enrolment.registration.email
        assert places[address] == [str(waitlist.waitlist_position(enrolment))]


def _calendar(message: Any) -> str:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return (
        part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()
    )


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_each_person_in_a_round_gets_the_calendar_of_their_own_plan_and_language(
    ctx: Flask,
) -> None:
    event = make_event(capacity=20)
    make_activity(event, title="Gefragt", capacity=2)
    make_activity(event, title="Begrüßung", kind=ActivityKind.PLENARY, start="09:00", end="09:30")
    db.session.commit()
    workshop = db.session.scalar(sa.select(Activity).where(Activity.title == "Gefragt"))
    for n, language in enumerate(("de", "en", "de", "en")):  # two seats, two waiting
        service.register(event, person(n, language=language), [workshop.id])
        db.session.commit()
    assert outbox.deliver(ctx.config)["sent"] == 4
    calendars = {str(m["To"]): _calendar(m) for m in delivered(ctx)}
    for n in range(4):
        calendar = calendars[f"person{n}@example.org"]
        assert "SUMMARY:Begrüßung" in calendar  # the part of the day for everyone
        assert ("SUMMARY:Gefragt" in calendar) is (n < 2)  # the workshop only with a seat
        name = "mein Programm" if n % 2 == 0 else "my programme"
        assert f"X-WR-CALNAME:Testtag – {name}" in calendar
