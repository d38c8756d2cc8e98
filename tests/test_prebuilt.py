"""Prebuilt reads: the ORM's values from one plain statement, no transaction left behind."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import Activity, Event
from eventapp.prebuilt import PrebuiltRead
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
