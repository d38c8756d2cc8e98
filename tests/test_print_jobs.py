"""Print jobs: new badges claimed by one batch only, given back when a job fails or dies."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskCliRunner

from eventapp.extensions import db
from eventapp.models import Event, PrintJob, PrintJobStatus, Registration
from eventapp.services.printing import badges
from eventapp.services.printing import jobs as print_jobs
from eventapp.timezones import utcnow
from tests.factories import make_event, make_registration


def people(count: int) -> tuple[int, list[int]]:
    """Create an event with count confirmed registrations; return the event id and theirs."""
    event = make_event(slug="tag")
    ids = [make_registration(event, f"Vorname{i}", f"Nachname{i}").id for i in range(count)]
    event_id = event.id
    db.session.commit()  # and start no new transaction (which would hold SQLite's lock)
    return event_id, ids


def printed(ids: list[int]) -> set[int]:
    """Return which of these registrations count as printed."""
    db.session.expire_all()
    return {i for i in ids if db.session.get(Registration, i).badge_printed_at is not None}


def test_batches_of_new_badges_started_at_once_get_different_people(app: Flask, ctx: Flask) -> None:
    event_id, ids = people(12)
    start = threading.Barrier(3)
    claims: list[list[int]] = []
    failures: list[BaseException] = []

    def claim() -> None:
        try:
            with app.app_context():
                mine = db.session.get(Event, event_id)
                db.session.commit()  # hold no lock while waiting for the others
                start.wait(timeout=10)
                claims.append(badges.claim_unprinted(mine, utcnow()))
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=claim) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    together = [i for claim in claims for i in claim]
    assert sorted(together) == ids  # every badge once, none twice
    assert printed(ids) == set(ids)


def test_failed_batch_of_new_badges_gives_its_claim_back(ctx: Flask) -> None:
    event_id, ids = people(3)
    job = PrintJob(
        event_id=event_id, kind="badges", status=PrintJobStatus.QUEUED,
        parameters={"layout": "no-such-layout", "only_new": True, "mark": True},
    )  # fmt: skip
    db.session.add(job)
    db.session.commit()
    print_jobs.run_job(job.id)
    db.session.expire_all()
    assert job.status == PrintJobStatus.FAILED
    assert sorted(job.marked_ids) == ids and job.marks_undone_at is not None
    assert printed(ids) == set()


def running_job(event_id: int, beat_age: timedelta, attempts: int = 1) -> PrintJob:
    """Store a running badge job whose last heartbeat is beat_age old, with claimed badges."""
    job = PrintJob(
        event_id=event_id, kind="badges", status=PrintJobStatus.RUNNING, attempts=attempts,
        parameters={"layout": "a4-10", "only_new": True, "mark": True},
        heartbeat_at=utcnow() - beat_age,
    )  # fmt: skip
    db.session.add(job)
    db.session.flush()
    job.marked_ids = badges.claim_unprinted(db.session.get(Event, event_id), utcnow())
    db.session.commit()
    return job


def test_job_with_a_fresh_heartbeat_is_left_alone(ctx: Flask) -> None:
    event_id, ids = people(2)
    job = running_job(event_id, timedelta(seconds=3))
    assert print_jobs.recover_lost_jobs() == []
    db.session.expire_all()
    assert job.status == PrintJobStatus.RUNNING
    assert printed(ids) == set(ids)


def test_job_whose_worker_died_is_queued_again_with_its_claim_given_back(ctx: Flask) -> None:
    event_id, ids = people(2)
    job = running_job(event_id, print_jobs.LOST_AFTER + timedelta(seconds=1))
    assert print_jobs.recover_lost_jobs() == [job.id]
    db.session.expire_all()
    assert job.status == PrintJobStatus.QUEUED
    assert job.marked_ids == [] and job.marks_undone_at is None
    assert printed(ids) == set()  # the new start claims them afresh
    assert print_jobs.recover_lost_jobs() == []  # taken once, not twice


def test_job_lost_twice_fails_with_a_reason(ctx: Flask) -> None:
    event_id, ids = people(2)
    job = running_job(event_id, print_jobs.LOST_AFTER * 2, attempts=print_jobs.MAX_ATTEMPTS)
    assert print_jobs.recover_lost_jobs() == []
    db.session.expire_all()
    assert job.status == PrintJobStatus.FAILED
    assert "unterbrochen" in job.error
    assert printed(ids) == set()


def test_recovered_job_then_runs_to_the_end(ctx: Flask) -> None:
    event_id, ids = people(3)
    job = running_job(event_id, print_jobs.LOST_AFTER * 2)
    (job_id,) = print_jobs.recover_lost_jobs()
    print_jobs.run_job(job_id)
    db.session.expire_all()
    assert job.status == PrintJobStatus.DONE and job.attempts == 2
    assert sorted(job.marked_ids) == ids and printed(ids) == set(ids)
    stored = print_jobs.job_file(job)
    assert stored is not None and stored.content.startswith(b"%PDF")


def test_print_files_expire(ctx: Flask) -> None:
    event_id, _ids = people(1)
    job = PrintJob(event_id=event_id, kind="programme", status=PrintJobStatus.QUEUED)
    db.session.add(job)
    db.session.commit()
    print_jobs.run_job(job.id)
    assert print_jobs.job_file(job) is not None
    assert print_jobs.expire_files(utcnow() + timedelta(days=6)) == 0
    assert print_jobs.expire_files(utcnow() + timedelta(days=8)) == 1
    db.session.commit()
    assert print_jobs.job_file(job) is None


def test_expire_print_files_by_hand(ctx: Flask, runner: FlaskCliRunner) -> None:
    event_id, _ids = people(1)
    job = PrintJob(event_id=event_id, kind="programme", status=PrintJobStatus.QUEUED)
    db.session.add(job)
    db.session.commit()
    print_jobs.run_job(job.id)
    stored = print_jobs.job_file(job)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["expire-print-files"])
    assert result.exit_code == 0 and "Deleted 1 print files" in result.output
    assert print_jobs.job_file(job) is None


def test_queued_job_runs_by_hand(ctx: Flask, runner: FlaskCliRunner) -> None:
    event_id, _ids = people(1)
    job = PrintJob(event_id=event_id, kind="programme", status=PrintJobStatus.QUEUED)
    db.session.add(job)
    db.session.commit()
    result = runner.invoke(args=["print-job", str(job.id)])
    assert result.exit_code == 0 and f"Print job {job.id}: done" in result.output
    assert print_jobs.job_file(job) is not None
    again = runner.invoke(args=["print-job", str(job.id)])  # finished jobs are left alone
    assert again.exit_code == 0 and "done" in again.output
    assert runner.invoke(args=["print-job", "999"]).exit_code == 1
