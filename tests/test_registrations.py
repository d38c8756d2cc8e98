"""Registration service: seats, waiting lists, changes, cancellations, capacity changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Network,
    OutboxMail,
    Registration,
    RegistrationStatus,
)
from eventapp.services import DomainError
from eventapp.services.registration import registrations as service
from eventapp.services.registration.tokens import token_hash
from eventapp.services.registration.waitlist import waitlist_position
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event
from tests.helpers.concurrency import change_while_registering
from tests.helpers.participants import person


def statuses(activity_id: int) -> dict[str, int]:
    """Count an activity's enrolments per status."""
    rows = db.session.execute(
        sa.select(Enrolment.status, sa.func.count())
        .where(Enrolment.activity_id == activity_id)
        .group_by(Enrolment.status)
    )
    return {str(status): count for status, count in rows}


def test_register_confirms_until_full_then_waitlists_in_order(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, "Workshop A", capacity=2)
    results = [service.register(event, person(i), [workshop.id]) for i in range(4)]
    db.session.commit()
    assert [r.enrolments[0].status for r in results] == ["confirmed", "confirmed"] + [
        "waitlisted"
    ] * 2
    assert [waitlist_position(r.enrolments[0]) for r in results[2:]] == [1, 2]
    assert workshop.seats_taken == 2
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 4


def test_register_stores_only_token_hash(ctx: Flask) -> None:
    event = make_event()
    result = service.register(event, person(1), [])
    db.session.commit()
    assert len(result.manage_token) >= 22  # >= 128 bits in URL-safe base64
    assert result.registration.token_hash == token_hash(result.manage_token)
    assert service.find_by_token(event, result.manage_token) is result.registration
    assert service.find_by_token(event, result.manage_token + "x") is None


def test_register_same_email_twice_resends_link(ctx: Flask) -> None:
    event = make_event()
    first = service.register(event, person(1), [])
    with pytest.raises(service.AlreadyRegistered) as caught:
        service.register(event, person(1, email="PERSON1@example.org "), [])
    assert caught.value.registration is first.registration
    assert caught.value.field == "email"


def test_register_after_cancel_reactivates_same_row(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, capacity=1)
    first = service.register(event, person(1), [workshop.id])
    service.cancel_registration(first.registration)
    again = service.register(event, person(1, last_name="Neu"), [workshop.id])
    db.session.commit()
    assert again.registration.id == first.registration.id
    assert again.registration.status == RegistrationStatus.CONFIRMED
    assert again.registration.last_name == "Neu"
    assert again.enrolments[0].status == EnrolmentStatus.CONFIRMED
    assert workshop.seats_taken == 1
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1


def test_register_refuses_overlapping_choices(ctx: Flask) -> None:
    event = make_event()
    first = make_activity(event, "A", "10:00", "11:00", capacity=5)
    second = make_activity(event, "B", "10:30", "11:30", capacity=5)
    with pytest.raises(DomainError) as caught:
        service.register(event, person(1), [first.id, second.id])
    assert caught.value.field == "activities"
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_register_refuses_activity_of_other_event(ctx: Flask) -> None:
    event = make_event()
    other = make_event("anderer-tag")
    foreign = make_activity(other, capacity=5)
    with pytest.raises(DomainError):
        service.register(event, person(1), [foreign.id])
    with pytest.raises(DomainError):
        service.register(event, person(1), [999999])


def test_register_refuses_outside_window(ctx: Flask) -> None:
    event = make_event(registration_opens_at=utcnow() + timedelta(days=1))
    with pytest.raises(DomainError):
        service.register(event, person(1), [])
    assert service.registration_window_state(event) == "not_yet"


def test_event_capacity_waitlists_the_day_and_promotes_on_cancel(ctx: Flask) -> None:
    event = make_event(capacity=1)
    workshop = make_activity(event, capacity=5)
    first = service.register(event, person(1), [workshop.id])
    second = service.register(event, person(2), [workshop.id])
    assert second.registration.status == RegistrationStatus.WAITLISTED
    assert second.enrolments[0].status == EnrolmentStatus.WAITLISTED
    service.cancel_registration(first.registration)
    db.session.commit()
    assert second.registration.status == RegistrationStatus.CONFIRMED
    assert second.enrolments[0].status == EnrolmentStatus.CONFIRMED
    assert event.seats_taken == 1
    assert workshop.seats_taken == 1
    kinds = db.session.scalars(sa.select(OutboxMail.kind).order_by(OutboxMail.id)).all()
    assert "promotion" in kinds


def test_setting_a_day_limit_counts_the_confirmed_places_afresh(ctx: Flask) -> None:
    event = make_event()
    first = [service.register(event, person(n), []).registration for n in range(3)]
    db.session.commit()
    assert event.seats_taken == 0  # nothing is counted while the day has no limit
    with pytest.raises(DomainError, match="bereits 3 Personen"):
        service.change_event_capacity(event, 2)
    service.change_event_capacity(event, 3)
    db.session.commit()
    assert (event.capacity, event.seats_taken) == (3, 3)
    late = service.register(event, person(3), [])
    assert late.registration.status == RegistrationStatus.WAITLISTED
    service.cancel_registration(first[0])
    db.session.commit()
    assert late.registration.status == RegistrationStatus.CONFIRMED
    assert event.seats_taken == 3
    service.change_event_capacity(event, None)
    service.register(event, person(4), [])
    service.change_event_capacity(event, 10)
    db.session.commit()
    assert event.seats_taken == 4


def test_setting_a_day_limit_waits_for_a_registration_under_way(app: Flask, ctx: Flask) -> None:
    event = make_event()
    service.register(event, person(0), [])
    db.session.commit()
    event_id = event.id
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time; PostgreSQL locks the event row")

    def register() -> None:
        mine = db.session.get(Event, event_id)
        assert mine is not None
        service.register(mine, person(1), [])

    # The organiser's limit waits for the registration under way, then counts it too.
    change_while_registering(app, register, lambda: service.change_event_capacity(event, 2))
    assert (event.capacity, event.seats_taken) == (2, 2)


def test_cancel_enrolment_promotes_next_in_line(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, capacity=1)
    first = service.register(event, person(1), [workshop.id])
    second = service.register(event, person(2), [workshop.id])
    third = service.register(event, person(3), [workshop.id])
    service.cancel_enrolment(first.registration, workshop.id)
    db.session.commit()
    assert second.enrolments[0].status == EnrolmentStatus.CONFIRMED
    assert third.enrolments[0].status == EnrolmentStatus.WAITLISTED
    assert waitlist_position(third.enrolments[0]) == 1
    promoted_mail = db.session.scalar(sa.select(OutboxMail).where(OutboxMail.kind == "promotion"))
    assert promoted_mail is not None and promoted_mail.recipient == "person2@example.org"


def test_change_choices_keeps_place_of_kept_choice(ctx: Flask) -> None:
    event = make_event()
    morning = make_activity(event, "Morgens", "10:00", "11:00", capacity=1)
    other_morning = make_activity(event, "Morgens B", "10:00", "11:00", capacity=3)
    afternoon = make_activity(event, "Nachmittags", "14:00", "15:00", capacity=1)
    service.register(event, person(1), [morning.id])
    waiting = service.register(event, person(2), [morning.id])
    queued_at = waiting.enrolments[0].queued_at
    service.change_choices(waiting.registration, [morning.id, afternoon.id])
    service.change_choices(waiting.registration, [other_morning.id, afternoon.id])
    db.session.commit()
    by_activity = {e.activity_id: e for e in waiting.registration.enrolments}
    assert by_activity[morning.id].status == EnrolmentStatus.CANCELLED
    assert by_activity[other_morning.id].status == EnrolmentStatus.CONFIRMED
    assert by_activity[afternoon.id].status == EnrolmentStatus.CONFIRMED
    assert queued_at is not None


def test_change_capacity_refuses_below_confirmed(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, capacity=3)
    for i in range(3):
        service.register(event, person(i), [workshop.id])
    with pytest.raises(DomainError) as caught:
        service.change_capacity(workshop, 2)
    assert caught.value.field == "capacity"
    assert workshop.capacity == 3


def test_change_capacity_raise_promotes_in_order(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, capacity=1)
    results = [service.register(event, person(i), [workshop.id]) for i in range(4)]
    promoted = service.change_capacity(workshop, 3)
    db.session.commit()
    assert [e.registration_id for e in promoted] == [
        results[1].registration.id,
        results[2].registration.id,
    ]
    assert statuses(workshop.id) == {"confirmed": 3, "waitlisted": 1}


def test_organiser_registration_bypasses_limits_without_counting(ctx: Flask) -> None:
    event = make_event(capacity=1)
    workshop = make_activity(event, capacity=1)
    service.register(event, person(1), [workshop.id])
    vip = service.register(event, person(2), [workshop.id], by_organiser=True)
    db.session.commit()
    assert vip.registration.status == RegistrationStatus.CONFIRMED
    assert vip.registration.over_capacity
    assert vip.enrolments[0].status == EnrolmentStatus.CONFIRMED
    assert vip.enrolments[0].over_capacity
    assert workshop.seats_taken == 1 and event.seats_taken == 1
    service.cancel_registration(vip.registration)
    assert workshop.seats_taken == 1 and event.seats_taken == 1


def test_network_limit_counts_confirmed_registrations(ctx: Flask) -> None:
    event = make_event(per_network_limit=2)
    network = Network(name="Fachkräftenetzwerk Musterregion", state="Bayern")
    db.session.add(network)
    db.session.flush()
    first = service.register(event, person(1, network_id=network.id), [])
    service.register(event, person(2, network_id=network.id), [])
    with pytest.raises(DomainError) as caught:
        service.register(event, person(3, network_id=network.id), [])
    assert caught.value.field == "network"
    assert "höchstens 2" in caught.value.message
    service.cancel_registration(first.registration)
    service.register(event, person(3, network_id=network.id), [])


def test_promote_by_hand_needs_free_seat(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, capacity=1)
    service.register(event, person(1), [workshop.id])
    waiting = service.register(event, person(2), [workshop.id]).enrolments[0]
    with pytest.raises(DomainError):
        service.promote_by_hand(waiting)
    db.session.execute(
        sa.text("UPDATE activity SET capacity = 2 WHERE id = :id"), {"id": workshop.id}
    )
    service.promote_by_hand(waiting)
    assert waiting.status == EnrolmentStatus.CONFIRMED


def test_seats_check_constraint_rejects_overbooking(ctx: Flask) -> None:
    event = make_event()
    workshop = make_activity(event, capacity=1)
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text("UPDATE activity SET seats_taken = 2 WHERE id = :id"), {"id": workshop.id}
        )
    db.session.rollback()


def test_request_manage_link_rotates_token_only_for_known_address(ctx: Flask) -> None:
    event = make_event()
    result = service.register(event, person(1), [])
    db.session.commit()
    old_hash = result.registration.token_hash
    service.request_manage_link(event, "unknown@example.org")
    service.request_manage_link(event, "Person1@example.org")
    db.session.commit()
    assert result.registration.token_hash != old_hash
    recipients = db.session.scalars(
        sa.select(OutboxMail.recipient).where(OutboxMail.kind == "manage_link")
    ).all()
    assert recipients == ["person1@example.org"]
