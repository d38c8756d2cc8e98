"""The public form's registration: the rules of register() in a few statements."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.database import write_unit
from eventapp.extensions import db
from eventapp.models import Event, Registration, RegistrationStatus
from eventapp.services.programme.published import EventStamp, published_event_stamp
from eventapp.services.registration import registrations as service
from eventapp.services.registration import signup
from tests.factories import make_event
from tests.helpers.concurrency import change_while_registering
from tests.helpers.participants import person
from tests.helpers.statements import count_statements


def stamp(slug: str = "testtag") -> EventStamp:
    """Return the event's stamp, as the form's POST reads it before its writes."""
    found = published_event_stamp(slug)
    assert found is not None
    return found


def status_of(email: str) -> RegistrationStatus:
    return db.session.scalar(sa.select(Registration.status).where(Registration.email == email))


def test_signup_reads_the_address_and_the_days_limit_in_one_statement(
    app: Flask, ctx: Flask
) -> None:
    make_event()
    db.session.commit()
    with count_statements(app) as statements:
        write_unit(lambda: signup.register_or_send_link(stamp(), person(1), []))
    by_address = [s for s in statements if "registration.email =" in s]
    assert len(by_address) == 1, statements
    assert "event.capacity" in by_address[0]
    assert not any(s.lstrip().startswith("SELECT event.capacity") for s in statements)
    assert status_of("person1@example.org") == RegistrationStatus.CONFIRMED


def test_signup_of_a_known_address_on_a_day_without_limit_writes_no_registration(
    ctx: Flask,
) -> None:
    make_event()
    db.session.commit()
    write_unit(lambda: signup.register_or_send_link(stamp(), person(1), []))
    write_unit(lambda: signup.register_or_send_link(stamp(), person(1), []))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_signup_heeds_a_day_limit_set_after_the_event_was_read(ctx: Flask) -> None:
    event = make_event()
    db.session.commit()
    write_unit(lambda: signup.register_or_send_link(stamp(), person(1), []))
    before_the_limit = stamp()
    assert before_the_limit.capacity is None
    service.change_event_capacity(event, 1)
    db.session.commit()
    write_unit(lambda: signup.register_or_send_link(before_the_limit, person(2), []))
    assert status_of("person2@example.org") == RegistrationStatus.WAITLISTED
    assert db.session.get(Event, event.id).seats_taken == 1


def test_setting_a_day_limit_waits_for_a_signup_under_way(app: Flask, ctx: Flask) -> None:
    make_event()
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time; PostgreSQL locks the event row")
    event = db.session.scalar(sa.select(Event))
    # The organiser's limit waits for the registration under way, then counts it too.
    change_while_registering(
        app,
        lambda: signup.register_or_send_link(stamp(), person(1), []),
        lambda: service.change_event_capacity(event, 1),
    )
    assert (event.capacity, event.seats_taken) == (1, 1)
