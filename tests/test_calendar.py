"""iCal feeds: RFC 5545 content read back by two parsers, DST instants, UIDs, SEQUENCE, 304s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import vobject
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    ActivityChangeNotice,
    ActivityKind,
    Enrolment,
    EnrolmentStatus,
)
from eventapp.services.calendar.ical import clean_text, registration_ics
from eventapp.timezones import from_local, utcnow
from tests.factories import make_activity, make_event, make_registration, make_room
from tests.helpers.participants import form_data
from tests.helpers.programme import BASE, build_programme, edit, parse, vevents


def utc_instants_vobject(body: bytes) -> dict[str, tuple[datetime, datetime]]:
    """Return (start, end) in UTC per SUMMARY, read by vobject (an independent parser)."""
    calendar = vobject.readOne(body.decode("utf-8"))
    return {
        component.summary.value: (
            component.dtstart.value.astimezone(UTC),
            component.dtend.value.astimezone(UTC),
        )
        for component in calendar.vevent_list
    }


def test_programme_feed_has_calendar_properties_and_timezone(
    client: FlaskClient, ctx: Flask
) -> None:
    build_programme()
    response = client.get("/testtag/programm.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="testtag-programm.ics"' in response.headers["Content-Disposition"]
    calendar = parse(response.data)
    assert "eventapp" in str(calendar["PRODID"])
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Testtag – Programm"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Berlin"
    assert timezone.walk("DAYLIGHT") and timezone.walk("STANDARD")
    assert b"\r\n" in response.data


def test_programme_feed_events_carry_rfc5545_fields(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    events = vevents(client.get("/testtag/programm.ics").data)
    assert set(events) == {"Eröffnung", "Fachkräfte sichern", "Mittagspause", "Anderer Workshop"}
    workshop = events["Fachkräfte sichern"]
    assert str(workshop["UID"]) == f"{data['workshop'].uid}@eventapp.fachkraeftebuero.de"
    assert workshop["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert workshop["DTEND"].params["TZID"] == "Europe/Berlin"
    assert workshop.decoded("DTSTART") == from_local(
        date(2026, 6, 10), time(10, 30), "Europe/Berlin"
    )
    for name in ("DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "URL", "CATEGORIES"):
        assert name in workshop
    assert int(workshop["SEQUENCE"]) == 0
    assert str(workshop["STATUS"]) == "CONFIRMED"
    location = str(workshop["LOCATION"])
    assert "Raum 2" in location and "Haus der Deutschen Wirtschaft" in location
    assert "Breite Straße 29" in location
    description = str(workshop["DESCRIPTION"])
    assert "Workshop" in description
    assert "Dr. Beate Beispiel" in description
    assert "Praxis & Austausch" in description
    page = f"{BASE}/testtag/programm/{data['workshop'].id}"
    assert page in description
    assert str(workshop["URL"]) == page
    assert workshop["CATEGORIES"].cats == ["Workshop"]


def test_programme_feed_round_trips_through_vobject(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    body = client.get("/testtag/programm.ics").data
    instants = utc_instants_vobject(body)
    assert instants["Eröffnung"] == (data["opening"].starts_at, data["opening"].ends_at)
    assert instants["Fachkräfte sichern"] == (data["workshop"].starts_at, data["workshop"].ends_at)
    calendar = vobject.readOne(body.decode("utf-8"))
    assert calendar.method.value == "PUBLISH"
    uids = {c.uid.value for c in calendar.vevent_list}
    assert f"{data['lunch'].uid}@eventapp.fachkraeftebuero.de" in uids
    workshop = next(c for c in calendar.vevent_list if c.summary.value == "Fachkräfte sichern")
    assert "Dr. Beate Beispiel" in workshop.description.value


def test_feed_across_dst_change_gives_right_utc_instants(client: FlaskClient, ctx: Flask) -> None:
    event = make_event("herbsttag", date(2026, 10, 24), ends_on=date(2026, 10, 25))
    room = make_room(event)

    make_activity(event, "Sommerzeit", "18:00", "19:00", room, ActivityKind.PLENARY)
    night = make_activity(event, "Nachtschicht", "22:00", "23:00", room, ActivityKind.PLENARY)
    night.ends_at = from_local(date(2026, 10, 25), time(4, 0), event.timezone)
    winter = make_activity(event, "Winterzeit", "18:00", "19:00", room, ActivityKind.PLENARY)
    winter.starts_at = from_local(date(2026, 10, 25), time(9, 0), event.timezone)
    winter.ends_at = from_local(date(2026, 10, 25), time(10, 0), event.timezone)
    db.session.commit()
    body = client.get("/herbsttag/programm.ics").data
    expected = {
        "Sommerzeit": (
            datetime(2026, 10, 24, 16, 0, tzinfo=UTC),
            datetime(2026, 10, 24, 17, 0, tzinfo=UTC),
        ),
        "Nachtschicht": (
            datetime(2026, 10, 24, 20, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 3, 0, tzinfo=UTC),
        ),
        "Winterzeit": (
            datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
        ),
    }
    assert utc_instants_vobject(body) == expected
    by_icalendar = {
        title: (e.decoded("DTSTART").astimezone(UTC), e.decoded("DTEND").astimezone(UTC))
        for title, e in vevents(body).items()
    }
    assert by_icalendar == expected
    # The wall clock says 22:00–04:00 but the night really lasts seven hours (one hour repeats).
    start, end = expected["Nachtschicht"]
    assert (end - start).total_seconds() == 7 * 3600
    assert b"DTSTART;TZID=Europe/Berlin:20261025T090000" in body


def test_uid_stays_and_sequence_rises_after_edit(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    workshop = data["workshop"]
    first = client.get("/testtag/programm.ics")
    before = vevents(first.data)["Fachkräfte sichern"]
    edit(workshop, starts=time(13, 0), ends=time(14, 30))
    second = client.get("/testtag/programm.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    after = vevents(second.data)["Fachkräfte sichern"]
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART").astimezone(UTC) == datetime(2026, 6, 10, 11, 0, tzinfo=UTC)


def test_title_only_edit_also_raises_sequence(ctx: Flask) -> None:
    data = build_programme()
    edit(data["workshop"], title="Fachkräfte gewinnen")
    assert data["workshop"].revision == 1
    assert db.session.scalar(sa.select(sa.func.count(ActivityChangeNotice.id))) == 0


def test_matching_etag_answers_304_without_body(client: FlaskClient, ctx: Flask) -> None:
    build_programme()
    first = client.get("/testtag/programm.ics")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = client.get("/testtag/programm.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_feed_answers_carry_each_validator_once_and_if_none_match_wins(
    client: FlaskClient, ctx: Flask
) -> None:
    data = build_programme()
    age_programme(data["event"], minutes=5)
    first = client.get("/testtag/programm.ics")
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Disposition"):
        assert len(first.headers.getlist(name)) == 1, name
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["Vary"] == "Cookie"
    current = {"If-Modified-Since": first.headers["Last-Modified"]}
    stale_tag = current | {"If-None-Match": '"ein-anderer-stand"'}
    assert client.get("/testtag/programm.ics", headers=current).status_code == 304
    assert client.get("/testtag/programm.ics", headers=stale_tag).status_code == 200
    not_modified = client.get(
        "/testtag/programm.ics", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["ETag"] == first.headers["ETag"]
    assert "Content-Disposition" not in not_modified.headers


def age_programme(event: Any, minutes: int) -> None:
    """Pretend the programme was last edited some minutes ago (HTTP dates have whole seconds)."""
    earlier = utcnow() - timedelta(minutes=minutes)
    for activity in event.activities:
        activity.updated_at = earlier
    event.updated_at = event.programme_changed_at = earlier
    db.session.commit()


def test_if_modified_since_answers_304_until_programme_changes(
    client: FlaskClient, ctx: Flask
) -> None:
    data = build_programme()
    age_programme(data["event"], minutes=5)
    first = client.get("/testtag/programm.ics")
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    assert client.get("/testtag/programm.ics", headers=since).status_code == 304
    edit(data["other"], cancelled=True)
    assert client.get("/testtag/programm.ics", headers=since).status_code == 200


def test_not_modified_answer_runs_only_validator_queries(
    client: FlaskClient, app: Flask, ctx: Flask
) -> None:
    build_programme()
    etag = client.get("/testtag/programm.ics").headers["ETag"]
    with count_statements(app) as statements:
        response = client.get("/testtag/programm.ics", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert len(statements) <= 2


@contextmanager
def count_statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_cancelled_activity_stays_in_feed_as_cancelled(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    data["other"].cancelled = True
    db.session.commit()
    events = {
        str(e["UID"]): e for e in parse(client.get("/testtag/programm.ics").data).walk("VEVENT")
    }
    cancelled = events[f"{data['other'].uid}@eventapp.fachkraeftebuero.de"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert "Abgesagt" in str(cancelled["SUMMARY"])


def test_breaks_left_out_with_query_flag(client: FlaskClient, ctx: Flask) -> None:
    build_programme()
    with_breaks = vevents(client.get("/testtag/programm.ics").data)
    without = client.get("/testtag/programm.ics?pausen=0")
    assert "Mittagspause" in with_breaks
    assert "Mittagspause" not in vevents(without.data)
    assert without.headers["ETag"] != client.get("/testtag/programm.ics").headers["ETag"]


def test_unpublished_programme_parts_stay_private(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    assert "Entwurf" not in vevents(client.get("/testtag/programm.ics").data)
    assert client.get(f"/testtag/programm/{data['hidden'].id}.ics").status_code == 404
    data["event"].published = False
    db.session.commit()
    assert client.get("/testtag/programm.ics").status_code == 404


def test_activity_feed_holds_one_event(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    response = client.get(f"/testtag/programm/{data['workshop'].id}.ics")
    assert response.status_code == 200
    assert list(vevents(response.data)) == ["Fachkräfte sichern"]
    etag = response.headers["ETag"]
    again = client.get(
        f"/testtag/programm/{data['workshop'].id}.ics", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304


def test_english_feed_translates_labels(client: FlaskClient, ctx: Flask) -> None:
    build_programme()
    events = vevents(client.get("/testtag/programm.ics?lang=en").data)
    assert events["Mittagspause"]["CATEGORIES"].cats == ["Break"]


def test_control_characters_are_removed(client: FlaskClient, ctx: Flask) -> None:
    event = make_event()
    make_activity(event, "Bell\x07 and\x1b escape", description="line\x0bone\r\nline\x7f two")
    db.session.commit()
    body = client.get("/testtag/programm.ics").data
    for control in (b"\x07", b"\x1b", b"\x0b", b"\x7f"):
        assert control not in body
    event_component = parse(body).walk("VEVENT")[0]
    assert str(event_component["SUMMARY"]) == "Bell and escape"
    assert "lineone\nline two" in str(event_component["DESCRIPTION"])
    assert clean_text("a\x00b\x9fc\td") == "abc\td"


def enrol(registration: Any, activity: Any, status: EnrolmentStatus) -> None:
    """Give a registration a place in an activity directly."""
    db.session.add(Enrolment(registration=registration, activity=activity, status=status))
    db.session.flush()


def test_personal_feed_has_own_workshops_and_shared_parts(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    person = make_registration(data["event"], language="en")
    enrol(person, data["workshop"], EnrolmentStatus.CONFIRMED)
    enrol(person, data["other"], EnrolmentStatus.WAITLISTED)
    db.session.commit()
    token = person.calendar_token
    response = client.get(f"/testtag/kalender/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
    events = vevents(response.data)
    assert set(events) == {"Eröffnung", "Fachkräfte sichern", "Mittagspause"}
    assert str(parse(response.data)["X-WR-CALNAME"]) == "Testtag – my programme"
    assert (
        client.get(
            f"/testtag/kalender/{token}.ics", headers={"If-None-Match": response.headers["ETag"]}
        ).status_code
        == 304
    )


def test_personal_feed_changes_when_enrolment_changes(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    person = make_registration(data["event"])
    db.session.commit()
    token = person.calendar_token
    first = client.get(f"/testtag/kalender/{token}.ics")
    assert "Fachkräfte sichern" not in vevents(first.data)
    enrol(person, data["workshop"], EnrolmentStatus.CONFIRMED)
    db.session.commit()
    second = client.get(
        f"/testtag/kalender/{token}.ics", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert second.status_code == 200
    assert "Fachkräfte sichern" in vevents(second.data)


def test_personal_feed_refuses_manage_token_and_unknown_token(
    client: FlaskClient, ctx: Flask
) -> None:
    data = build_programme()
    person = make_registration(data["event"])
    db.session.commit()
    assert client.get(f"/testtag/kalender/{person.manage_token}.ics").status_code == 404
    assert client.get("/testtag/kalender/nichts.ics").status_code == 404
    other = make_event("anderer-tag")
    db.session.commit()
    token = person.calendar_token
    assert client.get(f"/{other.slug}/kalender/{token}.ics").status_code == 404


def test_registration_ics_parses_with_both_parsers(ctx: Flask) -> None:
    data = build_programme()
    person = make_registration(data["event"])
    enrol(person, data["workshop"], EnrolmentStatus.CONFIRMED)
    db.session.commit()
    body = registration_ics(person)
    assert "Fachkräfte sichern" in vevents(body)
    assert "Fachkräfte sichern" in utc_instants_vobject(body)


@pytest.mark.parametrize("path", ["/testtag/programm.ics", "/testtag/schedule.xml"])
def test_unknown_event_answers_404(client: FlaskClient, ctx: Flask, path: str) -> None:
    assert client.get(path).status_code == 404


def test_event_page_links_feeds_for_download_and_subscription(
    client: FlaskClient, ctx: Flask
) -> None:
    build_programme()
    page = client.get("/testtag/").get_data(as_text=True)
    assert (
        '<link rel="alternate" type="text/calendar" title="Programm als Kalender (iCal)" '
        f'href="{BASE}/testtag/programm.ics">'
    ) in page
    assert 'href="webcal://localhost/testtag/programm.ics"' in page
    assert f'href="{BASE}/testtag/schedule.xml"' in page


def test_activity_page_links_its_own_feed(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    page = client.get(f"/testtag/programm/{data['workshop'].id}").get_data(as_text=True)
    assert f'href="{BASE}/testtag/programm/{data["workshop"].id}.ics"' in page
    assert f'href="webcal://localhost/testtag/programm/{data["workshop"].id}.ics"' in page


def test_manage_page_offers_personal_feed(client: FlaskClient, ctx: Flask) -> None:
    data = build_programme()
    person = make_registration(data["event"])
    db.session.commit()
    page = client.get(f"/testtag/verwalten/{person.manage_token}").get_data(as_text=True)
    token = person.calendar_token
    assert f'href="webcal://localhost/testtag/kalender/{token}.ics"' in page
    section = page.split("Mein Programm im Kalender")[1].split("</section>")[0]
    assert person.manage_token not in section


def test_room_rename_raises_sequence_and_changes_location(client: FlaskClient, ctx: Flask) -> None:
    from eventapp.services.programme.events import save_room

    data = build_programme()
    first = client.get("/testtag/programm.ics")
    before = vevents(first.data)["Fachkräfte sichern"]
    room = data["workshop"].room
    save_room(data["event"], room, "Raum Spree", room.capacity)
    db.session.commit()
    second = client.get("/testtag/programm.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    after = vevents(second.data)["Fachkräfte sichern"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert str(after["LOCATION"]).startswith("Raum Spree")


def test_speaker_rename_changes_the_feed_etag(client: FlaskClient, ctx: Flask) -> None:
    from eventapp.services.programme.events import save_person

    data = build_programme()
    age_programme(data["event"], minutes=5)
    first = client.get("/testtag/programm.ics")
    speaker = data["workshop"].speakers[0]
    save_person(speaker, "Beate Muster", "Prof. Dr.", "IHK", "", "")
    db.session.commit()
    second = client.get("/testtag/programm.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert "Prof. Dr. Beate Muster" in str(
        vevents(second.data)["Fachkräfte sichern"]["DESCRIPTION"]
    )


def test_a_seat_taken_leaves_the_feeds_as_they_were(client: FlaskClient, ctx: Flask) -> None:
    """Calendars follow programme edits, not every registration of a busy morning."""
    data = build_programme()
    workshop = data["workshop"]
    db.session.commit()
    feed = client.get("/testtag/programm.ics")
    single = client.get(f"/testtag/programm/{workshop.id}.ics")
    page = client.get(f"/testtag/programm/{workshop.id}").get_data(as_text=True)
    assert "noch 20 Plätze frei" in page
    answer = client.post(
        "/testtag/anmeldung",
        data=form_data(network="", **{f"slot-{workshop.id}": str(workshop.id)}),
    )
    assert answer.status_code == 302
    page = client.get(f"/testtag/programm/{workshop.id}").get_data(as_text=True)
    assert "noch 19 Plätze frei" in page  # the public pages show the seat at once
    for path, before in (
        ("/testtag/programm.ics", feed),
        (f"/testtag/programm/{workshop.id}.ics", single),
    ):
        now = client.get(path)
        assert now.headers["ETag"] == before.headers["ETag"]
        assert now.headers["Last-Modified"] == before.headers["Last-Modified"]
        assert now.data == before.data
        repeat = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
        assert repeat.status_code == 304
