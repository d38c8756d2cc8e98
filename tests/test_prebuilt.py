"""Prebuilt statements: the ORM's values from one plain statement, no transaction left behind
(reads), or in the caller's transaction (statements)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.database import read_only
from eventapp.extensions import db
from eventapp.models import Activity, Event, Registration, RegistrationStatus
from eventapp.prebuilt import PrebuiltRead, PrebuiltStatement
from eventapp.services.programme.published import published_event_stamp
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_room
from tests.helpers.statements import count_statements

EVENT_AND_TOTALS = (
    sa.select(
        Event.id,
        Event.slug,
        Event.starts_on,
        Event.published,
        Event.capacity,
        Event.registration_opens_at,
        sa.func.count(Activity.id),
        sa.func.max(Activity.updated_at),
        sa.func.aggregate_strings(Activity.title, " / "),
    )
    .outerjoin(Activity, Activity.event_id == Event.id)
    .where(Event.slug == sa.bindparam("slug"))
    .group_by(Event.id)
)


def fill(ctx: Flask) -> None:
    event = make_event(capacity=None, registration_opens_at=utcnow())
    room = make_room(event)
    make_activity(event, "Eins", room=room, capacity=3)
    db.session.commit()


def test_prebuilt_read_gives_the_values_the_orm_gives(ctx: Flask) -> None:
    fill(ctx)
    read = PrebuiltRead(EVENT_AND_TOTALS)
    expected = tuple(db.session.execute(EVENT_AND_TOTALS, {"slug": "testtag"}).one())
    db.session.rollback()
    row = read.first(db.engine, slug="testtag")
    assert row == expected
    assert row[5].tzinfo is not None and row[7].tzinfo is not None  # aware UTC, as stored
    assert row[3] is True and row[4] is None
    assert read.all(db.engine, slug="testtag") == [expected]
    assert read.first(db.engine, slug="keiner") is None
    assert read.all(db.engine, slug="keiner") == []


def test_prebuilt_read_sends_one_statement_and_gives_its_connection_back(ctx: Flask) -> None:
    fill(ctx)
    read = PrebuiltRead(EVENT_AND_TOTALS)
    with count_statements(ctx) as statements:
        read.first(db.engine, slug="testtag")
    assert len(statements) == 1 and statements[0].lstrip().startswith("SELECT")
    assert db.engine.pool.checkedout() == 0
    with db.engine.connect() as connection:
        # Lent out as it was: a transaction of the pool's own begins with the next statement.
        connection.execute(sa.update(Event).values(title="Geändert"))
        connection.rollback()
    assert db.session.scalar(sa.select(Event.title)) == "Testtag"


def test_prebuilt_read_errors_arrive_as_sqlalchemy_errors_and_leave_the_pool_usable(
    ctx: Flask,
) -> None:
    fill(ctx)
    missing = sa.table("no_such_table", sa.column("id"))
    broken = PrebuiltRead(sa.select(missing.c.id).where(missing.c.id == sa.bindparam("id")))
    with pytest.raises(sa.exc.DBAPIError):
        broken.first(db.engine, id=1)
    assert db.engine.pool.checkedout() == 0
    assert published_event_stamp("testtag") is not None


@pytest.mark.parametrize("values", [{}, {"slug": "testtag", "other": 1}])
def test_prebuilt_read_takes_exactly_its_parameters(ctx: Flask, values: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        PrebuiltRead(EVENT_AND_TOTALS).first(db.engine, **values)


def test_prebuilt_read_refuses_a_list_parameter() -> None:
    expanding = sa.select(Event.id).where(Event.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError):
        PrebuiltRead(expanding).compiled_for(sa.create_engine("sqlite://").dialect)


def test_prebuilt_read_gives_a_connection_in_autocommit_mode_back_as_it_was(
    ctx: Flask, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's connections are always lent in autocommit mode (database.py)")
    fill(ctx)
    engine = sa.create_engine(
        database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.StaticPool
    )
    try:
        assert PrebuiltRead(EVENT_AND_TOTALS).first(engine, slug="testtag") is not None
        with engine.connect() as connection:
            connection.execute(sa.update(Event).values(title="Sofort gespeichert"))
            connection.rollback()  # nothing to roll back: each statement was committed
        assert db.session.scalar(sa.select(Event.title)) == "Sofort gespeichert"
    finally:
        engine.dispose()


def test_sql_logging_shows_prebuilt_reads(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with app.app_context():
        fill(app)
        db.session.commit()
        engine = db.engine
    read = PrebuiltRead(EVENT_AND_TOTALS)
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        assert read.first(engine, slug="testtag") is not None
    logged = [record.getMessage() for record in caplog.records]
    assert any("FROM event" in line for line in logged)
    assert any("[prebuilt]" in line and "testtag" in line for line in logged)


REGISTRATION = Registration.__table__
ADD_REGISTRATION = sa.insert(REGISTRATION).returning(REGISTRATION.c.id)
# Take one seat of an activity while one is free (the literal 1 travels with the statement).
TAKE_SEAT = (
    sa.update(Activity.__table__)
    .where(Activity.id == sa.bindparam("row_id"), Activity.seats_taken < Activity.capacity)
    .values(seats_taken=Activity.seats_taken + 1)
)


def registration_values(event_id: int, email: str) -> dict[str, Any]:
    """Return the columns a registration needs; the others take their defaults."""
    return {
        "event_id": event_id,
        "email": email,
        "first_name": "Erika",
        "last_name": "Mustermann",
        "privacy_consent_version": "2026-01",
        "privacy_consent_at": utcnow(),
        "token_hash": email,
        "calendar_token_hash": email,
        "checkin_code": email[:12],
        "status": RegistrationStatus.WAITLISTED,
    }


def test_prebuilt_statement_writes_what_sqlalchemy_writes(ctx: Flask) -> None:
    fill(ctx)
    event_id = db.session.scalar(sa.select(Event.id))
    added = PrebuiltStatement(ADD_REGISTRATION)
    mine = added.run(db.session.connection(), **registration_values(event_id, "a@example.org"))
    theirs = db.session.execute(
        ADD_REGISTRATION, registration_values(event_id, "b@example.org")
    ).scalar_one()
    db.session.commit()
    assert mine.rowcount == 1 and isinstance(mine.value(), int)
    rows = {
        r.email: r for r in db.session.scalars(sa.select(Registration).order_by(Registration.id))
    }
    ours, reference = rows["a@example.org"], rows["b@example.org"]
    assert (ours.id, reference.id) == (mine.value(), theirs)
    own = {"id", "email", "token_hash", "calendar_token_hash", "checkin_code"}
    moments = {"privacy_consent_at", "created_at", "updated_at"}
    for column in REGISTRATION.columns:
        if column.key not in own | moments:
            assert getattr(ours, column.key) == getattr(reference, column.key), column.key
    assert ours.status == RegistrationStatus.WAITLISTED and ours.language == "de"
    assert ours.created_at is not None and ours.created_at.tzinfo is not None


def test_prebuilt_statement_counts_changed_rows_and_keeps_its_own_values(ctx: Flask) -> None:
    event = make_event()
    seats = make_activity(event, "Zwei Plätze", capacity=2).id
    db.session.commit()
    take = PrebuiltStatement(TAKE_SEAT)
    taken = [take.run(db.session.connection(), row_id=seats).rowcount for _ in range(3)]
    db.session.commit()
    assert taken == [1, 1, 0]
    assert db.session.scalar(sa.select(Activity.seats_taken).where(Activity.id == seats)) == 2


def test_prebuilt_statement_runs_in_the_callers_transaction(ctx: Flask) -> None:
    fill(ctx)
    event_id = db.session.scalar(sa.select(Event.id))
    db.session.commit()
    added = PrebuiltStatement(ADD_REGISTRATION)
    with count_statements(ctx) as statements:
        added.run(db.session.connection(), **registration_values(event_id, "a@example.org"))
    assert any(s.lstrip().startswith("INSERT INTO registration") for s in statements)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0
    db.session.rollback()
    # A reading unit of work (PostgreSQL: autocommit) opens its transaction before the write.
    with read_only():
        added.run(db.session.connection(), **registration_values(event_id, "b@example.org"))
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0


def test_prebuilt_statement_errors_arrive_as_sqlalchemy_errors(ctx: Flask) -> None:
    fill(ctx)
    event_id = db.session.scalar(sa.select(Event.id))
    added = PrebuiltStatement(ADD_REGISTRATION)
    added.run(db.session.connection(), **registration_values(event_id, "a@example.org"))
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        added.run(db.session.connection(), **registration_values(event_id, "a@example.org"))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_prebuilt_statement_takes_exactly_its_parameters(ctx: Flask) -> None:
    take = PrebuiltStatement(TAKE_SEAT)
    with pytest.raises(TypeError):
        take.run(db.session.connection())
    with pytest.raises(TypeError):
        take.run(db.session.connection(), row_id=1, other=2)
    db.session.rollback()
    expanding = sa.select(Event.id).where(Event.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(ValueError):
        PrebuiltStatement(expanding).compiled_for(db.engine.dialect, frozenset({"ids"}))
