"""Property test: any sequence of register / change / cancel / capacity change keeps the rules."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from eventapp.extensions import db
from eventapp.models import Activity, Enrolment, EnrolmentStatus, Registration, RegistrationStatus
from eventapp.services import DomainError
from eventapp.services.registration import registrations as service
from tests.conftest import clear_tables
from tests.factories import make_activity, make_event
from tests.helpers.participants import person

PEOPLE = range(6)
# (title, start, end, capacity): A, B and C overlap; D is later.
PROGRAMME = [
    ("A", "10:00", "11:00", 2),
    ("B", "10:00", "11:00", 1),
    ("C", "10:30", "11:30", 1),
    ("D", "14:00", "15:00", 2),
]
ACTIVE = (EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)


def waitlist_machine(app: Flask) -> type[RuleBasedStateMachine]:
    """Build the state machine class bound to one app."""

    class Waitlists(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.context = app.app_context()
            self.context.push()
            db.session.remove()
            clear_tables()
            self.event = make_event()
            self.activity_ids = [
                make_activity(self.event, title, start, end, capacity=capacity).id
                for title, start, end, capacity in PROGRAMME
            ]
            db.session.commit()

        def teardown(self) -> None:
            db.session.remove()
            self.context.pop()

        def registration(self, index: int) -> Registration | None:
            return db.session.scalar(
                sa.select(Registration).where(
                    Registration.email == f"person{index}@example.org",
                    Registration.status != RegistrationStatus.CANCELLED,
                )
            )

        def attempt(self, action: object) -> None:
            """Run a service call like a view does: commit, or roll back on a refusal."""
            try:
                action()  # type: ignore[operator]
                db.session.commit()
            except DomainError:
                db.session.rollback()

        @rule(index=st.sampled_from(PEOPLE), picks=st.sets(st.integers(0, 3), max_size=3))
        def register(self, index: int, picks: set[int]) -> None:
            chosen = [self.activity_ids[i] for i in picks]
            self.attempt(lambda: service.register(self.event, person(index), chosen))

        @rule(index=st.sampled_from(PEOPLE), picks=st.sets(st.integers(0, 3), max_size=3))
        def change(self, index: int, picks: set[int]) -> None:
            registration = self.registration(index)
            if registration is not None:
                chosen = [self.activity_ids[i] for i in picks]
                self.attempt(lambda: service.change_choices(registration, chosen))

        @rule(index=st.sampled_from(PEOPLE), pick=st.integers(0, 3))
        def drop(self, index: int, pick: int) -> None:
            registration = self.registration(index)
            if registration is not None:
                activity_id = self.activity_ids[pick]
                self.attempt(lambda: service.cancel_enrolment(registration, activity_id))

        @rule(index=st.sampled_from(PEOPLE))
        def cancel(self, index: int) -> None:
            registration = self.registration(index)
            if registration is not None:
                self.attempt(lambda: service.cancel_registration(registration))

        @rule(pick=st.integers(0, 3), capacity=st.one_of(st.none(), st.integers(0, 4)))
        def change_capacity(self, pick: int, capacity: int | None) -> None:
            activity = db.session.get(Activity, self.activity_ids[pick])
            self.attempt(lambda: service.change_capacity(activity, capacity))

        @invariant()
        def rules_hold(self) -> None:
            db.session.expire_all()
            for activity_id in self.activity_ids:
                activity = db.session.get(Activity, activity_id)
                line = db.session.scalars(
                    sa.select(Enrolment)
                    .where(Enrolment.activity_id == activity_id, Enrolment.status.in_(ACTIVE))
                    .order_by(Enrolment.queued_at, Enrolment.id)
                ).all()
                counted = [
                    e for e in line if e.status == EnrolmentStatus.CONFIRMED and not e.over_capacity
                ]
                waiting = [e for e in line if e.status == EnrolmentStatus.WAITLISTED]
                # confirmed <= capacity, and the counter is right
                assert activity.seats_taken == len(counted)
                if activity.capacity is not None:
                    assert len(counted) <= activity.capacity
                # a free seat never stays free while someone waits
                if waiting:
                    assert activity.seats_left == 0
                # first come, first served: everyone confirmed queued before everyone waiting
                if counted and waiting:
                    assert max(e.queued_at for e in counted) <= min(e.queued_at for e in waiting)
                # nobody both confirmed and waitlisted
                holders = [e.registration_id for e in line]
                assert len(holders) == len(set(holders))
            # nobody in two overlapping activities
            for registration in db.session.scalars(sa.select(Registration)):
                mine = [e.activity for e in registration.enrolments if e.status in ACTIVE]
                if registration.status == RegistrationStatus.CANCELLED:
                    assert mine == []
                for first, second in itertools.combinations(mine, 2):
                    assert not service.overlaps(first, second)

    return Waitlists


def test_waitlist_rules_hold_for_any_sequence(app: Flask) -> None:
    run_state_machine_as_test(
        waitlist_machine(app),
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
