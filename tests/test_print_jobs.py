"""Print jobs: new badges claimed by one batch only, given back when a job fails or dies."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest
from flask import Flask

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


@pytest.mark.parametrize("app_config", [{"PRINT_JOBS_INLINE": True}])
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


def test_job_whose_process_died_fails_at_once_and_gives_its_claim_back(ctx: Flask) -> None:
    event_id, ids = people(2)
    ended = subprocess.Popen(["true"])  # a process id that no longer runs
    ended.wait()
    job = PrintJob(
        event_id=event_id, kind="badges", status=PrintJobStatus.RUNNING,
        worker_host=socket.gethostname(), worker_pid=ended.pid,
    )  # fmt: skip
    db.session.add(job)
    db.session.flush()
    job.marked_ids = badges.claim_unprinted(db.session.get(Event, event_id), utcnow())
    db.session.commit()
    assert printed(ids) == set(ids)

    assert print_jobs.expire_if_stale(job)
    db.session.commit()
    assert job.status == PrintJobStatus.FAILED
    assert printed(ids) == set()


def running_job(event_id: int, host: str, pid: int) -> PrintJob:
    """Store a job that a process (host, pid) is rendering."""
    job = PrintJob(
        event_id=event_id, kind="badges", status=PrintJobStatus.RUNNING,
        worker_host=host, worker_pid=pid,
    )  # fmt: skip
    db.session.add(job)
    db.session.commit()
    return job


@pytest.mark.parametrize(
    ("command", "gone"),
    [
        # A print worker still at work.
        ([sys.executable, "-c", "import time; time.sleep(30)", "eventapp.print_worker"], False),
        # A live process that is no print worker: the worker's process id was used again.
        (["sleep", "30"], True),
    ],
)
def test_job_of_a_live_process_on_this_host(ctx: Flask, command: list[str], gone: bool) -> None:
    event_id, _ids = people(1)
    with subprocess.Popen(command) as process:
        try:
            job = running_job(event_id, socket.gethostname(), process.pid)
            assert print_jobs.expire_if_stale(job) is gone
        finally:
            process.kill()


def test_job_rendered_on_another_host_counts_as_lost_only_after_a_while(ctx: Flask) -> None:
    event_id, _ids = people(1)
    job = running_job(event_id, "another-host", 1)
    assert not print_jobs.expire_if_stale(job)
    job.created_at = utcnow() - print_jobs.STALE_AFTER
    assert print_jobs.expire_if_stale(job)
