"""Stored VEVENTs: a fresh process splices them, stale ones are rebuilt, stores never fail."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp import page_cache
from eventapp.database import read_only
from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityCalendarEntry,
    ActivityKind,
    ActivityPerson,
    Event,
    PersonRole,
    Room,
)
from eventapp.services.calendar.ical import VEVENT_CACHE, programme_ics, vevent_fingerprint
from eventapp.services.calendar.store import StoredVevent, save_entries
from eventapp.services.programme.checks import delete_activity
from tests.factories import make_activity, make_event
from tests.helpers.programme import build_programme, edit, vevents

FEED = "/testtag/programm.ics"


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    """Start each test as a process that has built no VEVENT."""
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole
    yield
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole


def fetch(client: FlaskClient, path: str = FEED, site: str = "http://localhost/") -> bytes:
    """GET a feed (from `site`) and end the session's transaction, as a request's end does."""
    response = client.get(path, base_url=site)
    assert response.status_code == 200
    db.session.commit()
    return response.data


def stored(language: str = "de") -> dict[int, ActivityCalendarEntry]:
    """Return the stored entries of one language by activity id, read afresh."""
    db.session.expire_all()
    entries = db.session.scalars(
        sa.select(ActivityCalendarEntry).where(ActivityCalendarEntry.language == language)
    )
    return {entry.activity_id: entry for entry in entries}


def published_ids() -> set[int]:
    return set(db.session.scalars(sa.select(Activity.id).where(Activity.published)))


def test_feed_request_stores_every_vevent_with_its_fingerprint(
    client: FlaskClient, app: Flask, ctx: Flask
) -> None:
    data = build_programme()
    fetch(client)
    fetch(client, f"{FEED}?lang=en")
    for language in ("de", "en"):
        entries = stored(language)
        assert set(entries) == published_ids()
        workshop = data["workshop"]
        with app.test_request_context():  # the address the test client asked for
            expected = vevent_fingerprint(workshop, data["event"], language)
        assert entries[workshop.id].fingerprint == expected
        assert entries[workshop.id].vevent.startswith(b"BEGIN:VEVENT\r\n")
    assert b"CATEGORIES:Break" in stored("en")[data["lunch"].id].vevent
    assert b"CATEGORIES:Pause" in stored("de")[data["lunch"].id].vevent


def test_feed_request_stores_its_vevents_when_it_ends(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        build_programme()
    assert client.get(f"{FEED}?lang=en").status_code == 200
    with app.app_context():
        assert set(stored("en")) == published_ids()
        assert stored("de") == {}


def test_fresh_process_splices_stored_vevents(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    first = fetch(client)
    VEVENT_CACHE.clear()  # a new worker: nothing built in this process yet
    page_cache.forget_all()  # nor any feed kept whole
    entry = stored()[data["workshop"].id]
    entry.vevent = entry.vevent.replace(b"SUMMARY:Fachkr", b"SUMMARY:Gespeichert: Fachkr")
    db.session.commit()
    second = fetch(client)
    assert "Gespeichert: Fachkräfte sichern" in vevents(second)
    assert second.replace(b"Gespeichert: ", b"") == first


def test_stale_stored_vevent_is_rebuilt_after_room_rename(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    fetch(client)
    before = stored()[data["workshop"].id].fingerprint
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole
    # Renamed behind the programme's back: neither revision nor updated_at of the activity moves.
    db.session.execute(sa.update(Room).where(Room.name == "Raum 2").values(name="Raum Spree"))
    db.session.commit()
    workshop = vevents(fetch(client))["Fachkräfte sichern"]
    assert str(workshop["LOCATION"]).startswith("Raum Spree")
    entry = stored()[data["workshop"].id]
    assert entry.fingerprint != before
    assert b"LOCATION:Raum Spree" in entry.vevent


def test_entry_of_another_language_or_address_is_not_served(
    client: FlaskClient, app: Flask, ctx: Flask
) -> None:
    build_programme()
    fetch(client)
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole
    english = vevents(fetch(client, f"{FEED}?lang=en"))
    assert english["Mittagspause"]["CATEGORIES"].cats == ["Break"]
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole
    moved = vevents(fetch(client, FEED, "https://programm.example.org/"))["Fachkräfte sichern"]
    assert str(moved["URL"]).startswith("https://programm.example.org/testtag/programm/")


def changes() -> dict[str, Callable[[dict[str, Any]], None]]:
    """Return every kind of edit that must change a VEVENT's fingerprint."""

    def workshop(data: dict[str, Any]) -> Activity:
        return data["workshop"]

    return {
        "title": lambda d: setattr(workshop(d), "title", "Neu"),
        "kind": lambda d: setattr(workshop(d), "kind", ActivityKind.EXCHANGE_CIRCLE),
        "start": lambda d: setattr(
            workshop(d), "starts_at", workshop(d).starts_at - timedelta(minutes=5)
        ),
        "end": lambda d: setattr(workshop(d), "ends_at", workshop(d).ends_at + timedelta(hours=1)),
        "updated_at": lambda d: setattr(
            workshop(d), "updated_at", workshop(d).updated_at + timedelta(seconds=1)
        ),
        "revision": lambda d: setattr(workshop(d), "revision", 7),
        "cancelled": lambda d: setattr(workshop(d), "cancelled", True),
        "description": lambda d: setattr(workshop(d), "description", "Anders"),
        "room name": lambda d: setattr(workshop(d).room, "name", "Raum Spree"),
        "no room": lambda d: setattr(workshop(d), "room", None),
        "speaker name": lambda d: setattr(workshop(d).speakers[0], "name", "Beate Muster"),
        "speaker title": lambda d: setattr(workshop(d).speakers[0], "title", "Prof. Dr."),
        "speaker becomes moderator": lambda d: setattr(
            workshop(d).people[0], "role", PersonRole.MODERATOR
        ),
        "another speaker": lambda d: workshop(d).people.append(
            ActivityPerson(person=d["opening_speaker"], role=PersonRole.SPEAKER, position=1)
        ),
        "venue": lambda d: setattr(d["event"], "venue", "Rotes Rathaus"),
        "address": lambda d: setattr(d["event"], "address", "Rathausstraße 15"),
        "slug": lambda d: setattr(d["event"], "slug", "innovationstag"),
        "time zone": lambda d: setattr(d["event"], "timezone", "Europe/Lisbon"),
    }


@pytest.mark.parametrize("change", list(changes()))
def test_fingerprint_covers_every_input(ctx: Flask, change: str) -> None:
    from eventapp.models import Person

    data = build_programme()
    data["opening_speaker"] = Person(name="Otto Offen")
    before = vevent_fingerprint(data["workshop"], data["event"], "de")
    changes()[change](data)
    after = vevent_fingerprint(data["workshop"], data["event"], "de")
    assert after != before
    db.session.rollback()


def test_fingerprint_depends_on_language_and_address_only_as_served(app: Flask, ctx: Flask) -> None:
    data = build_programme()
    workshop, event = data["workshop"], data["event"]
    german = vevent_fingerprint(workshop, event, "de")
    assert vevent_fingerprint(workshop, event, "en") != german
    base = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = f"{base}/"
    assert vevent_fingerprint(workshop, event, "de") == german
    app.config["PUBLIC_BASE_URL"] = "https://example.org"
    assert vevent_fingerprint(workshop, event, "de") != german
    with app.test_request_context(base_url="https://programm.example.org"):
        assert vevent_fingerprint(workshop, event, "de") != german


def test_saving_an_activity_stores_its_vevents_in_both_languages(ctx: Flask) -> None:
    data = build_programme()
    workshop = data["workshop"]
    edit(workshop, title="Fachkräfte gewinnen")  # the organiser's save, committed
    db.session.expire_all()  # compare with what a later request loads from the database
    for language in ("de", "en"):
        entry = stored(language)[workshop.id]
        assert entry.fingerprint == vevent_fingerprint(workshop, workshop.event, language)
        assert "SUMMARY:Fachkräfte gewinnen".encode() in entry.vevent


def test_unpublished_activity_is_not_stored_on_save(ctx: Flask) -> None:
    data = build_programme()
    edit(data["hidden"], title="Noch ein Entwurf")
    assert data["hidden"].id not in stored()


def test_deleting_an_activity_deletes_its_entries(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    fetch(client)
    other_id = data["other"].id
    assert other_id in stored()
    delete_activity(data["other"])
    db.session.commit()
    assert other_id not in stored()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(ActivityCalendarEntry.activity_id == other_id)
        )
        == 0
    )


def entries_for(activities: list[Activity], fingerprint: str) -> list[StoredVevent]:
    return [StoredVevent(a.id, "de", fingerprint, f"V{a.id}".encode()) for a in activities]


def test_duplicate_store_writes_replace_quietly(
    ctx: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    data = build_programme()
    activities = [data["opening"], data["workshop"]]
    with caplog.at_level(logging.WARNING):
        for fingerprint in ("a" * 64, "a" * 64, "b" * 64):
            with read_only():
                save_entries(entries_for(activities, fingerprint))
                db.session.rollback()
        save_entries(entries_for(activities, "c" * 64) + entries_for(activities, "d" * 64))
        db.session.commit()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    entries = stored()
    assert {entries[a.id].fingerprint for a in activities} == {"d" * 64}


def test_concurrent_stores_of_the_same_entries_all_succeed(
    app: Flask, ctx: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    event = make_event()
    ids = [make_activity(event, f"Punkt {n}").id for n in range(60)]
    db.session.commit()  # and hold no lock while the workers store
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def store(number: int) -> None:
        try:
            with app.app_context(), read_only():
                mine = db.session.scalars(sa.select(Activity).where(Activity.id.in_(ids))).all()
                start.wait(timeout=10)
                save_entries(entries_for(list(mine), f"{number % 2}" * 64))
                db.session.rollback()
                db.session.remove()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    with caplog.at_level(logging.WARNING):
        threads = [threading.Thread(target=store, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    entries = stored()
    assert set(entries) == set(ids)
    assert {e.fingerprint for e in entries.values()} <= {"0" * 64, "1" * 64}


@contextmanager
def database_locked(event: Event) -> Iterator[None]:
    """Hold the lock a store needs from another connection (SQLite: the write lock)."""
    if db.engine.dialect.name == "sqlite":
        blocker = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    # PostgreSQL: an entry's foreign key check needs a share lock on its activity row.
    with db.engine.connect() as blocker, blocker.begin():
        blocker.execute(
            sa.select(Activity.id).where(Activity.event_id == event.id).with_for_update()
        )
        yield


def test_feed_is_served_when_entries_cannot_be_stored(
    client: FlaskClient, ctx: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    data = build_programme()
    with caplog.at_level(logging.WARNING), database_locked(data["event"]):
        body = fetch(client)
    assert set(vevents(body)) == {
        "Eröffnung",
        "Fachkräfte sichern",
        "Mittagspause",
        "Anderer Workshop",
    }
    assert "calendar entries not stored" in caplog.text
    assert stored() == {}
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole
    assert fetch(client) == body
    assert set(stored()) == published_ids()


def test_programme_built_outside_requests_stores_with_the_unit_of_work(ctx: Flask) -> None:
    data = build_programme()
    body = programme_ics(data["event"])
    db.session.rollback()
    assert stored() == {}, "a unit of work that writes stores with its own commit"
    VEVENT_CACHE.clear()
    page_cache.forget_all()  # nor any feed kept whole
    assert programme_ics(data["event"]) == body
    db.session.commit()
    assert set(stored()) == published_ids()
