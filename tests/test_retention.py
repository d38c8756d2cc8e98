"""Personal data deleted as the privacy notice promises: needs after the event, all later."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from eventapp.extensions import db
from eventapp.models import (
    Enrolment,
    OutboxMail,
    PrintJob,
    PrintJobFile,
    PrintJobStatus,
    Registration,
)
from eventapp.services.mail.outbox import queue_mail
from eventapp.services.registration.retention import months_after, purge_personal_data
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_registration

DAY = timedelta(days=1)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def people_at(day: date, slug: str, tmp_path: Path) -> int:
    """Create an event on that day with a registration, a choice, a mail and a badge file."""
    event = make_event(slug=slug, starts_on=day, ends_on=day)
    workshop = make_activity(event, "Workshop", capacity=5)
    person = make_registration(
        event, email=f"{slug}@example.org", accessibility_needs="Rollstuhlplatz",
        dietary_wishes="vegan",
    )  # fmt: skip
    db.session.add(Enrolment(registration=person, activity=workshop, status="confirmed"))
    db.session.flush()
    queue_mail(person.email, "Ihre Anmeldung", "Text", registration=person)
    job = PrintJob(event_id=event.id, kind="badges", status=PrintJobStatus.DONE)
    db.session.add(job)
    db.session.flush()
    db.session.add(
        PrintJobFile(job_id=job.id, content=b"%PDF", size=4, expires_at=utcnow() + DAY * 300)
    )
    db.session.commit()
    return event.id


def count(model: type, **where: int) -> int:
    query = sa.select(sa.func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(db.session.scalar(query) or 0)


def test_months_after_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_after(date(2026, 5, 12), 6) == date(2026, 11, 12)
    assert months_after(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_needs_cleared_after_the_event_and_people_deleted_six_months_on(
    ctx: Flask, tmp_path: Path
) -> None:
    coming = people_at(date(2026, 12, 10), "kommt", tmp_path)
    yesterday = people_at(date(2026, 11, 25), "gestern", tmp_path)
    long_ago = people_at(date(2026, 5, 25), "vorbei", tmp_path)

    report = purge_personal_data(NOW)
    db.session.commit()

    assert (report.needs_cleared, report.registrations_deleted) == (1, 1)
    assert (report.mails_deleted, report.print_jobs_deleted) == (1, 1)
    needs = dict(
        db.session.execute(
            sa.select(
                Registration.event_id,
                Registration.accessibility_needs + Registration.dietary_wishes,
            )
        ).all()
    )
    assert needs == {coming: "Rollstuhlplatzvegan", yesterday: ""}
    assert count(Registration, event_id=long_ago) == 0
    assert count(PrintJob, event_id=long_ago) == 0
    assert count(PrintJobFile) == 2  # the deleted job's PDF went with it
    assert count(Enrolment) == 2 and count(OutboxMail) == 2
    assert count(PrintJob, event_id=coming) == 1  # other events keep theirs

    again = purge_personal_data(NOW)
    assert (again.needs_cleared, again.registrations_deleted) == (0, 0)


def test_purge_command_reports_what_it_did(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        make_registration(
            make_event(slug="alt", starts_on=date(2020, 1, 1), ends_on=date(2020, 1, 1))
        )
        db.session.commit()
    result = runner.invoke(args=["purge-personal-data"])
    assert result.exit_code == 0, result.output
    assert "1 registrations" in result.output
    with app.app_context():
        assert count(Registration) == 0


def test_event_overview_tells_organisers_when_registrations_are_deleted(
    app: Flask, staff_client: FlaskClient
) -> None:
    with app.app_context():
        event_id = make_event(slug="tag", starts_on=date(2027, 3, 9), ends_on=date(2027, 3, 9)).id
        db.session.commit()
    page = staff_client.get(f"/organisation/veranstaltungen/{event_id}/").text
    assert "alle Anmeldungen am Donnerstag, 9. September 2027" in page
