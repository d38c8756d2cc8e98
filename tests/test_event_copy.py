"""Copying an event as next year's template: service, organiser page and `eventapp copy-event`."""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityKind,
    ActivityPerson,
    Enrolment,
    EnrolmentStatus,
    Event,
    OutboxMail,
    Person,
    PersonRole,
    PrinterCalibration,
    PrintJob,
    Registration,
    Room,
)
from eventapp.services.programme.copy import CopyValues, copy_event, suggested_values
from eventapp.services.programme.events import ValuesRefused
from eventapp.timezones import from_local, to_local
from tests.factories import make_activity, make_event, make_registration, make_room
from tests.helpers import inline_parts

# A Thursday in winter time (CET); a week later Berlin is on summer time (CEST).
WINTER_DAY = date(2026, 3, 26)
SUMMER_DAY = date(2026, 4, 2)


def build_source(day: date = WINTER_DAY) -> Event:
    """An event with rooms, a programme with people, a participant and print traces."""
    event = make_event(
        "innovationstag-2026",
        day=day,
        title="Innovationstag 2026",
        subtitle="Fachkräfte für die Region",
        contact_email="team@example.org",
        organiser_name="Innovationsbüro",
        capacity=600,
        per_network_limit=3,
        registration_opens_at=from_local(date(2026, 2, 1), time(9, 0), "Europe/Berlin"),
        registration_closes_at=from_local(day, time(8, 0), "Europe/Berlin"),
    )
    hall = make_room(event, "Großer Saal", 300, notes="EG, stufenlos", position=1)
    small = make_room(event, "Raum 2", 20, position=2)
    opening = make_activity(event, "Eröffnung", "09:00", "10:00", hall, ActivityKind.PLENARY)
    workshop = make_activity(
        event, "Fachkräfte sichern", "10:30", "12:00", small, capacity=18, description="Praxis"
    )
    make_activity(event, "Mittagspause", "12:00", "13:00", None, ActivityKind.BREAK)
    make_activity(event, "Abgesagt", "14:00", "15:00", small, cancelled=True)
    speaker = Person(name="Beate Beispiel", title="Dr.")
    host = Person(name="Moritz Moderator")
    db.session.add_all(
        [
            ActivityPerson(activity=workshop, person=speaker, role=PersonRole.SPEAKER),
            ActivityPerson(activity=workshop, person=host, role=PersonRole.MODERATOR),
            ActivityPerson(activity=opening, person=speaker, role=PersonRole.SPEAKER),
        ]
    )
    registration = make_registration(event, checked_in_at=event.registration_closes_at)
    db.session.add(
        Enrolment(registration=registration, activity=workshop, status=EnrolmentStatus.CONFIRMED)
    )
    workshop.seats_taken = 1
    event.seats_taken = 1
    db.session.add(PrinterCalibration(event_id=event.id, layout="a4-10", x_mm=1.5, y_mm=-0.5))
    db.session.add(PrintJob(event=event, kind="badges"))
    db.session.add(
        OutboxMail(
            recipient="x@example.org", subject="s", message=b"", registration_id=registration.id
        )
    )
    db.session.commit()
    return event


def local(moment: object, event: Event) -> tuple[date, time]:
    value = to_local(moment, event.timezone)  # type: ignore[arg-type]
    return value.date(), value.time()


def test_copy_takes_rooms_programme_people_and_settings(ctx: Flask) -> None:
    source = build_source()
    result = copy_event(
        source, CopyValues(starts_on=SUMMER_DAY, slug="innovationstag-2027", title="Neu")
    )
    db.session.commit()
    new = result.event
    assert (new.starts_on, new.ends_on, new.published) == (SUMMER_DAY, SUMMER_DAY, False)
    assert (new.subtitle, new.contact_email, new.organiser_name) == (
        "Fachkräfte für die Region",
        "team@example.org",
        "Innovationsbüro",
    )
    assert (new.venue, new.address) == (source.venue, source.address)
    assert (new.capacity, new.per_network_limit, new.seats_taken) == (600, 3, 0)
    rooms = db.session.scalars(sa.select(Room).where(Room.event_id == new.id)).all()
    assert {(r.name, r.capacity, r.notes, r.position) for r in rooms} == {
        ("Großer Saal", 300, "EG, stufenlos", 1),
        ("Raum 2", 20, "", 2),
    }
    activities = {
        a.title: a
        for a in db.session.scalars(sa.select(Activity).where(Activity.event_id == new.id))
    }
    assert set(activities) == {"Eröffnung", "Fachkräfte sichern", "Mittagspause"}
    assert result.activities == 3 and result.left_out_cancelled == 1 and result.rooms == 2
    workshop = activities["Fachkräfte sichern"]
    assert workshop.room is not None and workshop.room.event_id == new.id
    assert (workshop.room.name, workshop.capacity, workshop.seats_taken) == ("Raum 2", 18, 0)
    assert workshop.requires_enrolment and workshop.description == "Praxis"
    assert activities["Mittagspause"].room is None
    # The same Person rows, linked again.
    assert [p.name for p in workshop.speakers] == ["Beate Beispiel"]
    assert [p.name for p in workshop.moderators] == ["Moritz Moderator"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 2
    originals = {a.uid for a in source.activities}
    assert not originals & {a.uid for a in activities.values()}
    calibration = db.session.scalar(
        sa.select(PrinterCalibration).where(PrinterCalibration.event_id == new.id)
    )
    assert calibration is not None and (calibration.x_mm, calibration.y_mm) == (1.5, -0.5)


def test_copy_keeps_wall_clock_times_across_a_clock_change(ctx: Flask) -> None:
    source = build_source(WINTER_DAY)
    new = copy_event(source, CopyValues(SUMMER_DAY, "sommer", "Sommer")).event
    db.session.commit()
    opening = next(a for a in new.activities if a.title == "Eröffnung")
    assert local(opening.starts_at, new) == (SUMMER_DAY, time(9, 0))
    assert local(opening.ends_at, new) == (SUMMER_DAY, time(10, 0))
    # Seven days later, yet only 6 days 23 hours in UTC: the clocks went forward.
    old_opening = next(a for a in source.activities if a.title == "Eröffnung")
    assert (opening.starts_at - old_opening.starts_at).total_seconds() == (7 * 24 - 1) * 3600
    # The registration window moved by as many days, at the same wall-clock times.
    assert new.registration_opens_at is not None and new.registration_closes_at is not None
    assert local(new.registration_opens_at, new) == (date(2026, 2, 8), time(9, 0))
    assert local(new.registration_closes_at, new) == (SUMMER_DAY, time(8, 0))


def test_copy_back_into_winter_time_keeps_wall_clock(ctx: Flask) -> None:
    source = build_source(date(2026, 10, 22))
    new = copy_event(source, CopyValues(date(2026, 10, 29), "herbst", "Herbst")).event
    workshop = next(a for a in new.activities if a.title == "Fachkräfte sichern")
    assert local(workshop.starts_at, new) == (date(2026, 10, 29), time(10, 30))
    assert local(workshop.ends_at, new) == (date(2026, 10, 29), time(12, 0))


def test_copy_takes_no_participants_mails_or_print_jobs(ctx: Flask) -> None:
    source = build_source()
    new = copy_event(source, CopyValues(date(2027, 3, 25), "neu", "Neu")).event
    db.session.commit()
    for model in (Registration, PrintJob):
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.event_id == new.id)
        )
        assert count == 0
    enrolments = db.session.scalar(
        sa.select(sa.func.count(Enrolment.id)).join(Activity).where(Activity.event_id == new.id)
    )
    assert enrolments == 0
    mails = db.session.scalar(
        sa.select(sa.func.count(OutboxMail.id))
        .join(Registration)
        .where(Registration.event_id == new.id)
    )
    assert mails == 0
    # The source keeps its own.
    assert len(source.registrations) == 1


def test_copy_with_a_taken_slug_is_refused_and_stores_nothing(ctx: Flask) -> None:
    source = build_source()
    make_event("vergeben", title="Schon da")
    db.session.commit()
    events_before = db.session.scalar(sa.select(sa.func.count(Event.id)))
    activities_before = db.session.scalar(sa.select(sa.func.count(Activity.id)))
    with pytest.raises(ValuesRefused) as refused:
        copy_event(source, CopyValues(date(2027, 3, 25), "vergeben", "Neu"))
    db.session.rollback()
    assert refused.value.errors == [("slug", "Dieser Kurzname ist schon vergeben.")]
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == events_before
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == activities_before
    assert db.session.scalar(sa.select(sa.func.count(Room.id))) == 2


def test_suggested_values_bump_the_year_and_keep_the_weekday(ctx: Flask) -> None:
    source = build_source(date(2026, 6, 10))
    proposed = suggested_values(source)
    assert proposed.starts_on == date(2027, 6, 9)
    assert proposed.starts_on.weekday() == source.starts_on.weekday()
    assert (proposed.title, proposed.slug) == ("Innovationstag 2027", "innovationstag-2027")
    plain = make_event("fachtag", title="Fachtag")
    assert suggested_values(plain).slug == "fachtag-2027"


def source_id(app: Flask) -> int:
    with app.app_context():
        return build_source().id


def test_copy_page_prefills_and_creates_the_event(staff_client: FlaskClient, app: Flask) -> None:
    event_id = source_id(app)
    overview = staff_client.get(f"/organisation/veranstaltungen/{event_id}/")
    assert "Als Vorlage für eine neue Veranstaltung verwenden" in overview.text
    page = staff_client.get(f"/organisation/veranstaltungen/{event_id}/als-vorlage")
    assert page.status_code == 200
    assert 'value="innovationstag-2027"' in page.text
    assert 'value="Innovationstag 2027"' in page.text
    assert inline_parts(page.text) == []
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/als-vorlage",
        data={"starts_on": "2027-03-25", "slug": "innovationstag-2027", "title": "Tag 2027"},
    )
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(sa.select(Event).where(Event.slug == "innovationstag-2027"))
        assert new is not None and new.title == "Tag 2027" and not new.published
        assert response.headers["Location"].endswith(f"/veranstaltungen/{new.id}/")
        assert len(new.activities) == 3


def test_copy_page_shows_a_taken_slug_on_the_field(staff_client: FlaskClient, app: Flask) -> None:
    event_id = source_id(app)
    response = staff_client.post(
        f"/organisation/veranstaltungen/{event_id}/als-vorlage",
        data={"starts_on": "2027-03-25", "slug": "innovationstag-2026", "title": "Doppelt"},
    )
    assert response.status_code == 400
    assert "Dieser Kurzname ist schon vergeben." in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 1


def test_copy_event_command(runner: FlaskCliRunner, app: Flask) -> None:
    source_id(app)
    result = runner.invoke(
        args=["copy-event", "innovationstag-2026", "--date", "2027-03-25", "--slug", "tag-2027"]
    )
    assert result.exit_code == 0, result.output
    assert "3 activities" in result.output and "1 cancelled left out" in result.output
    with app.app_context():
        new = db.session.scalar(sa.select(Event).where(Event.slug == "tag-2027"))
        assert new is not None and new.title == "Innovationstag 2027"
        opening = next(a for a in new.activities if a.title == "Eröffnung")
        assert local(opening.starts_at, new) == (date(2027, 3, 25), time(9, 0))


def test_copy_event_command_refuses_taken_slug_and_bad_input(
    runner: FlaskCliRunner, app: Flask
) -> None:
    source_id(app)
    taken = runner.invoke(
        args=[
            "copy-event",
            "innovationstag-2026",
            "--date",
            "2027-03-25",
            "--slug",
            "innovationstag-2026",
        ]
    )
    assert taken.exit_code != 0
    assert "nothing copied" in taken.output and "schon vergeben" in taken.output
    unknown = runner.invoke(
        args=["copy-event", "gibtsnicht", "--date", "2027-03-25", "--slug", "x"]
    )
    assert unknown.exit_code != 0 and "no event" in unknown.output
    bad_day = runner.invoke(
        args=["copy-event", "innovationstag-2026", "--date", "25.03.2027", "--slug", "x"]
    )
    assert bad_day.exit_code != 0 and "YYYY-MM-DD" in bad_day.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 1
