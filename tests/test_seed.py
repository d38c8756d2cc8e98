"""The demo Innovationstag: content, idempotence and the seed-demo command."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from eventapp.demo.event import DEMO_SLUG, default_demo_day, seed_demo
from eventapp.demo.networks import AWARD_WINNERS_2014
from eventapp.extensions import db
from eventapp.labels import FEDERAL_STATES
from eventapp.models import Activity, ActivityKind, Event, Network, Person, Room
from eventapp.services.programme.scheduling import event_conflicts


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_default_demo_day_is_first_tuesday_60_days_ahead() -> None:
    assert default_demo_day(date(2026, 11, 25)) == date(2027, 1, 26)
    # 60 days after 2026-11-03 is Saturday 2027-01-02; the next Tuesday is 2027-01-05.
    assert default_demo_day(date(2026, 11, 3)) == date(2027, 1, 5)
    day = default_demo_day(date(2026, 3, 1))
    assert day.weekday() == 1 and (day - date(2026, 3, 1)).days >= 60


def test_seed_demo_content(ctx: Flask) -> None:
    result = seed_demo(date(2027, 6, 8))
    db.session.commit()
    event = db.session.scalar(sa.select(Event).where(Event.slug == DEMO_SLUG))
    assert event is result.event
    assert event.title == "3. Innovationstag"
    assert event.starts_on == date(2027, 6, 8)
    assert "Breite Straße 29, 10178 Berlin" in event.address
    assert event.contact_email == "kontakt@fachkraeftebuero.de"
    assert event.registration_closes_at is not None
    activities = event.activities
    kinds = [a.kind for a in activities]
    assert kinds.count(ActivityKind.WORKSHOP) >= 6
    assert kinds.count(ActivityKind.EXCHANGE_CIRCLE) >= 4
    assert ActivityKind.AWARD_CEREMONY in kinds and ActivityKind.BREAK in kinds
    ceremony = next(a for a in activities if a.kind == ActivityKind.AWARD_CEREMONY)
    for name, _region, _state in AWARD_WINNERS_2014:
        assert name in ceremony.description
    speech = next(a for a in activities if "Rede" in a.title)
    assert [p.display_name for p in speech.speakers] == ["Staatssekretär Thorben Albrecht"]
    parallel = [a for a in activities if a.requires_enrolment]
    assert all(a.capacity and a.capacity <= a.room.capacity for a in parallel)
    assert len({a.starts_at for a in parallel}) == 2  # two rounds of parallel slots
    capacities = {room.capacity for room in event.rooms}
    assert max(capacities) >= 300 and min(capacities) <= 30
    assert event_conflicts(event, activities) == []
    states = set(db.session.scalars(sa.select(Network.state)))
    assert states == set(FEDERAL_STATES)
    assert count(Network) >= 120
    winners = db.session.scalars(
        sa.select(Network).where(Network.name.in_([n for n, _r, _s in AWARD_WINNERS_2014]))
    ).all()
    assert len(winners) == 5 and all(w.region and w.state for w in winners)


def test_seed_demo_twice_creates_nothing_new(ctx: Flask) -> None:
    seed_demo()
    db.session.commit()
    before = [count(m) for m in (Event, Room, Activity, Person, Network)]
    second = seed_demo()
    db.session.commit()
    assert [count(m) for m in (Event, Room, Activity, Person, Network)] == before
    assert (second.rooms, second.activities, second.people, second.networks) == (0, 0, 0, 0)
    assert not second.created_event


def test_seed_demo_command_if_empty(runner: FlaskCliRunner, app: Flask) -> None:
    from tests.factories import make_event

    with app.app_context():
        make_event("anderer-tag")
        db.session.commit()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert count(Event) == 1
    result = runner.invoke(args=["seed-demo", "--date", "2027-03-02"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.slug == DEMO_SLUG))
        assert event.starts_on == date(2027, 3, 2)


def test_seed_demo_command_names_the_event_address_on_the_port_served(
    runner: FlaskCliRunner, app: Flask
) -> None:
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5093"  # as `make run PORT=5093` sets it
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"(http://127.0.0.1:5093/{DEMO_SLUG}/)" in result.output


def test_seed_demo_command_rejects_bad_date(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["seed-demo", "--date", "2027-02-30"])
    assert result.exit_code != 0
    assert "2027-02-30" in result.output


def test_seed_demo_command_with_participants(runner: FlaskCliRunner, app: Flask) -> None:
    from eventapp.models import Registration

    result = runner.invoke(args=["seed-demo", "--participants", "60"])
    assert result.exit_code == 0, result.output
    assert "60 participants registered" in result.output
    with app.app_context():
        assert count(Registration) == 60
        # The Anrede fits the first name, so mails greet the demo people sensibly.
        from eventapp.demo.participants import WOMEN

        for person in db.session.scalars(sa.select(Registration)):
            if person.salutation:
                assert (person.salutation == "Frau") == (person.first_name in WOMEN), person
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert count(Registration) == 60


def test_first_start_loads_demo_participants_once(runner: FlaskCliRunner, app: Flask) -> None:
    """`make run` seeds with --if-empty --participants 60: people on the first start only."""
    from eventapp.models import Registration

    first = runner.invoke(args=["seed-demo", "--if-empty", "--participants", "60"])
    assert first.exit_code == 0, first.output
    assert "60 participants registered" in first.output
    second = runner.invoke(args=["seed-demo", "--if-empty", "--participants", "60"])
    assert second.exit_code == 0, second.output
    assert "demo not loaded" in second.output
    with app.app_context():
        assert count(Registration) == 60
