"""The organisers' dashboard: figures equal the database, charts are valid SVG, CSV, access."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.demo.event import seed_demo
from eventapp.demo.history import add_demo_history
from eventapp.demo.participants import create_participants
from eventapp.extensions import db
from eventapp.labels import FEDERAL_STATES
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    ExportLog,
    Network,
    Registration,
    RegistrationStatus,
    WorkshopAttendance,
)
from eventapp.services.reporting import charts
from eventapp.services.reporting.figures import event_figures
from eventapp.services.reporting.tables import TABLES
from eventapp.timezones import to_local, utcnow
from tests.conftest import login
from tests.factories import at, make_activity, make_event, make_organiser, make_registration

SVG = "{http://www.w3.org/2000/svg}"


def _demo_event() -> Event:
    """Seed the demo day with 150 people, their registration times and morning check-ins."""
    event = seed_demo(date(2027, 6, 8)).event
    create_participants(event, 150)
    # One workshop fills up, so somebody waits.
    small = next(a for a in event.activities if a.requires_enrolment)
    small.capacity = small.seats_taken
    create_participants(event, 20)
    add_demo_history(event)
    db.session.commit()
    return event


def _quarter(moment: datetime, zone: str) -> tuple[date, str]:
    local = to_local(moment, zone)
    return local.date(), f"{local.hour:02d}:{local.minute // 15 * 15:02d}"


def test_figures_equal_the_database_for_the_demo_with_check_ins(ctx: Flask) -> None:
    event = _demo_event()
    figures = event_figures(event, utcnow())
    people = db.session.scalars(sa.select(Registration)).all()
    enrolments = db.session.scalars(sa.select(Enrolment)).all()
    zone = event.timezone
    assert sum(1 for r in people if r.checked_in_at) > 50
    assert len({r.created_at.date() for r in people}) > 7

    # Registrations per local day, with running totals, cancelled ones left out.
    per_day: Counter[tuple[date, str]] = Counter(
        (to_local(r.created_at, zone).date(), r.status) for r in people
    )
    for entry in figures.registrations:
        assert entry.confirmed == per_day[(entry.day, RegistrationStatus.CONFIRMED)]
        assert entry.waitlisted == per_day[(entry.day, RegistrationStatus.WAITLISTED)]
    last = figures.registrations[-1]
    assert last.confirmed_total == sum(r.status == "confirmed" for r in people)
    assert last.waitlisted_total == sum(r.status == "waitlisted" for r in people)
    assert figures.headline.checked_in == sum(1 for r in people if r.checked_in_at)

    # Seats per activity.
    enrollable = sorted(
        (a for a in event.activities if a.requires_enrolment and not a.cancelled),
        key=lambda a: (a.starts_at, a.title, a.id),
    )
    assert [a.activity_id for a in figures.activities] == [a.id for a in enrollable]
    waiting_somewhere = False
    for item in figures.activities:
        mine = [e for e in enrolments if e.activity_id == item.activity_id]
        confirmed = sum(e.status == EnrolmentStatus.CONFIRMED for e in mine)
        waiting = sum(e.status == EnrolmentStatus.WAITLISTED for e in mine)
        activity = db.session.get(Activity, item.activity_id)
        assert (item.confirmed, item.waitlisted) == (confirmed, waiting)
        assert item.free == max(activity.capacity - confirmed, 0)
        waiting_somewhere = waiting_somewhere or waiting > 0
    assert waiting_somewhere

    # Länder: the 16 in their order; networks by their own state, people by theirs.
    confirmed_people = [r for r in people if r.status == RegistrationStatus.CONFIRMED]
    assert [s.state for s in figures.states] == FEDERAL_STATES
    networks = {n.id: n for n in db.session.scalars(sa.select(Network))}
    for state in figures.states:
        assert state.people == sum(
            1
            for r in confirmed_people
            if (r.state or (networks[r.network_id].state if r.network_id else "")) == state.state
        )
        assert state.networks == len(
            {
                r.network_id
                for r in confirmed_people
                if r.network_id and networks[r.network_id].state == state.state
            }
        )
    assert sum(s.networks for s in figures.states) > 10

    # Check-ins per quarter-hour of local time.
    arrivals = Counter(_quarter(r.checked_in_at, zone) for r in people if r.checked_in_at)
    shown = {
        (day.day, to_local(slot.starts_at, zone).strftime("%H:%M")): slot.count
        for day in figures.checkins
        for slot in day.slots
    }
    assert {key: n for key, n in shown.items() if n} == dict(arrivals)
    assert [d.day for d in figures.checkins] == [event.starts_on]
    assert min(shown)[1] >= "08:00" and max(shown)[1] <= "11:45"

    # No-shows: confirmed for the activity, not checked in at the entrance.
    by_id = {r.id: r for r in people}
    for item in figures.no_shows:
        mine = [
            e
            for e in enrolments
            if e.activity_id == item.activity_id and e.status == EnrolmentStatus.CONFIRMED
        ]
        assert item.confirmed == len(mine)
        assert item.absent == sum(1 for e in mine if by_id[e.registration_id].checked_in_at is None)
    assert 0 < sum(n.absent for n in figures.no_shows) < sum(n.confirmed for n in figures.no_shows)


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))  # noqa: S314  (markup the app itself drew)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.get("viewBox", "").startswith("0 0 320 ")
    return root


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_charts_are_valid_svg_whose_labels_match_the_figures(ctx: Flask) -> None:
    event = _demo_event()
    figures = event_figures(event, utcnow())

    states = _texts(_parse(charts.states_chart(figures)))
    for state in figures.states:
        index = states.index(state.state)
        assert states[index + 1] == str(state.networks)

    activities = _texts(_parse(charts.activities_chart(figures)))
    for item in figures.activities:
        line = next(t for t in activities if t.startswith(f"{item.confirmed} bestätigt"))
        assert line == (
            f"{item.confirmed} bestätigt · {item.free} frei · {item.waitlisted} auf der Warteliste"
        )
        activities.remove(line)

    absent = _texts(_parse(charts.no_shows_chart(figures)))
    for item in figures.no_shows:
        assert f"{item.absent} von {item.confirmed} nicht erschienen" in absent

    (day,) = figures.checkins
    columns = _parse(charts.checkins_chart(figures, day))
    bars = [r for r in columns.iter(f"{SVG}rect") if r.get("fill") == charts.ARRIVED]
    assert len(bars) == sum(1 for s in day.slots if s.count)
    assert f"{day.total} Personen eingecheckt" in columns.find(f"{SVG}desc").text

    line = _parse(charts.registrations_chart(figures))
    last = figures.registrations[-1]
    assert f"Bestätigt: {last.confirmed_total}" in _texts(line)
    assert len(line.findall(f"{SVG}polyline")) == 2


def test_check_in_quarters_and_registration_days_follow_the_event_time_zone(ctx: Flask) -> None:
    # 29 March 2026: Berlin moves from UTC+1 to UTC+2 at 01:00 UTC.
    event = make_event(day=date(2026, 6, 10))
    workshop = make_activity(event, "Workshop", "10:00", "11:00", capacity=10)
    early = make_registration(
        event, "A", "Früh", created_at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    )
    late = make_registration(
        event, "B", "Spät", created_at=datetime(2026, 3, 29, 22, 10, tzinfo=UTC)
    )
    waiting = make_registration(
        event,
        "C",
        "Wartend",
        status=RegistrationStatus.WAITLISTED,
        created_at=datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
    )
    make_registration(
        event,
        "D",
        "Storniert",
        status=RegistrationStatus.CANCELLED,
        created_at=datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
    )
    early.checked_in_at = at(event, "09:14")  # 07:14 UTC
    late.checked_in_at = at(event, "09:15")
    db.session.add(Enrolment(registration=early, activity=workshop, status="confirmed"))
    db.session.add(Enrolment(registration=late, activity=workshop, status="confirmed"))
    db.session.add(Enrolment(registration=waiting, activity=workshop, status="confirmed"))
    db.session.commit()
    figures = event_figures(event, utcnow())

    # 23:30 UTC on the 28th is 00:30 on the 29th in Berlin (winter time); 22:10 UTC on the
    # 29th is 00:10 on the 30th (summer time).
    assert [
        (d.day, d.confirmed, d.waitlisted, d.confirmed_total) for d in figures.registrations
    ] == [
        (date(2026, 3, 29), 1, 0, 1),
        (date(2026, 3, 30), 1, 1, 2),
    ]
    (day,) = figures.checkins
    local = [(to_local(s.starts_at, event.timezone).strftime("%H:%M"), s.count) for s in day.slots]
    assert local == [("09:00", 1), ("09:15", 1), ("09:30", 0), ("09:45", 0)]
    assert day.slots[0].starts_at == datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
    assert [s.total for s in day.slots] == [1, 2, 2, 2]
    (no_show,) = figures.no_shows
    assert (no_show.confirmed, no_show.absent, no_show.at_door) == (3, 1, False)
    # Once a steward scans at the workshop's door, the door counts: one of three let in.
    db.session.add(
        WorkshopAttendance(activity=workshop, registration=early, scanned_at=at(event, "10:01"))
    )
    db.session.commit()
    (no_show,) = event_figures(event, utcnow()).no_shows
    assert (no_show.confirmed, no_show.absent, no_show.at_door) == (3, 2, True)
    (seats,) = figures.activities
    assert (seats.confirmed, seats.waitlisted, seats.free) == (3, 0, 7)

    winter = make_event(slug="wintertag", day=date(2027, 1, 12))
    person = make_registration(winter, "E", "Winter")
    person.checked_in_at = datetime(2027, 1, 12, 7, 50, tzinfo=UTC)  # 08:50 in Berlin
    db.session.commit()
    (winter_day,) = event_figures(winter, utcnow()).checkins
    assert to_local(winter_day.slots[3].starts_at, "Europe/Berlin").strftime("%H:%M") == "08:45"
    assert winter_day.slots[3].count == 1


def _staff(client: FlaskClient, app: Flask, role: str = "staff") -> None:
    with app.app_context():
        make_organiser(f"{role}@example.org", "a-password-123", role=role)
        db.session.commit()
    login(client, f"{role}@example.org", "a-password-123")


def test_csv_files_hold_the_table_figures_and_are_logged(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event = make_event()
        make_activity(event, '=HYPERLINK("http://example.org")', "10:00", "11:00", capacity=5)
        network = Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt")
        db.session.add(network)
        db.session.flush()
        make_registration(event, "A", "Eins", network_id=network.id, state="Sachsen-Anhalt")
        make_registration(event, "B", "Zwei", state="Ausland")
        event_id = event.id
        db.session.commit()
    _staff(client, app)
    base = f"/organisation/veranstaltungen/{event_id}/auswertung"
    response = client.get(f"{base}/bundeslaender.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert 'filename="testtag-bundeslaender.csv"' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Bundesland", "Netzwerke", "Personen"]
    assert [r[0] for r in rows[1:17]] == FEDERAL_STATES
    assert rows[1 + FEDERAL_STATES.index("Sachsen-Anhalt")] == ["Sachsen-Anhalt", "1", "1"]
    assert rows[17] == ["ohne Bundesland", "–", "1"]

    offers = client.get(f"{base}/angebote.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in offers and ";=HYPERLINK" not in offers and not offers.startswith("=")
    for key in TABLES:
        assert client.get(f"{base}/{key}.csv").status_code == 200
    assert client.get(f"{base}/unbekannt.csv").status_code == 404
    with app.app_context():
        entries = db.session.scalars(sa.select(ExportLog).order_by(ExportLog.id)).all()
        assert [e.kind for e in entries] == ["dashboard_csv"] * (2 + len(TABLES))
        assert entries[0].detail == "bundeslaender" and entries[0].row_count == 17
        assert entries[0].organiser_email == "staff@example.org"


def test_empty_event_renders_page_fragment_and_files(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event_id = make_event().id
        db.session.commit()
    _staff(client, app)
    base = f"/organisation/veranstaltungen/{event_id}/auswertung"
    page = client.get(f"{base}/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Noch niemand ist eingecheckt." in html
    assert 'data-refresh-seconds="30"' in html and "dashboard-refresh.js" in html
    fragment = client.get(f"{base}/aktuell")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["Cache-Control"] == "no-store"
    with app.app_context():
        figures = event_figures(db.session.get(Event, event_id), utcnow())
        assert figures.registrations == [] and figures.checkins == []
        for draw in (charts.registrations_chart, charts.activities_chart, charts.states_chart):
            _parse(draw(figures))
        _parse(charts.no_shows_chart(figures))
    for key in TABLES:
        assert client.get(f"{base}/{key}.csv").status_code == 200


def test_dashboard_is_for_staff_and_admins_only(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event_id = make_event().id
        db.session.commit()
    base = f"/organisation/veranstaltungen/{event_id}/auswertung"
    for path in (f"{base}/", f"{base}/aktuell", f"{base}/angebote.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/organisation/anmelden" in response.location
    _staff(client, app, role="checkin")
    for path in (f"{base}/", f"{base}/aktuell", f"{base}/angebote.csv"):
        assert client.get(path).status_code == 403
    client.post("/organisation/abmelden")
    _staff(client, app, role="admin")
    assert client.get(f"{base}/").status_code == 200
    assert client.get("/organisation/veranstaltungen/999999/auswertung/").status_code == 404
    overview = client.get(f"/organisation/veranstaltungen/{event_id}/").get_data(as_text=True)
    assert f"{base}/" in overview
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ExportLog.id))) == 0


def test_figures_take_one_query_each(ctx: Flask) -> None:
    event = _demo_event()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        event_figures(db.session.get(Event, event.id), utcnow())
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    # Seven figures and the door attendance, however many rows there are.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 12


def test_demo_history_is_deterministic_and_in_the_window(ctx: Flask) -> None:
    event = seed_demo(date(2027, 6, 8)).event
    create_participants(event, 40)
    add_demo_history(event)
    db.session.commit()
    first = db.session.execute(
        sa.select(Registration.id, Registration.created_at, Registration.checked_in_at).order_by(
            Registration.id
        )
    ).all()
    add_demo_history(event)
    db.session.commit()
    again = db.session.execute(
        sa.select(Registration.id, Registration.created_at, Registration.checked_in_at).order_by(
            Registration.id
        )
    ).all()
    assert first == again
    times = [row[1] for row in first]
    assert times == sorted(times)
    assert event.registration_opens_at <= times[0] and times[-1] <= utcnow() + timedelta(seconds=1)
    check_ins = [row[2] for row in first if row[2]]
    assert check_ins
    morning = {to_local(t, event.timezone).hour for t in check_ins}
    assert morning <= {8, 9, 10, 11}
    assert {to_local(t, event.timezone).date() for t in check_ins} == {event.starts_on}
    by_status = defaultdict(set)
    for registration in db.session.scalars(sa.select(Registration)):
        by_status[registration.status].add(registration.checked_in_at is not None)
    assert by_status.get(RegistrationStatus.WAITLISTED, {False}) == {False}


def test_charts_escape_what_organisers_typed(ctx: Flask) -> None:
    event = make_event()
    make_activity(event, '<script>alert(1)</script> & "Workshop"', capacity=10)
    db.session.commit()
    figures = event_figures(event, utcnow())
    for drawn in (charts.activities_chart(figures), charts.no_shows_chart(figures)):
        assert "<script>" not in drawn
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in drawn
        _parse(drawn)
