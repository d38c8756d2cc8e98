"""Print jobs: a row in the database, rendered by the worker, its PDF stored in the database.

Any app process on any host can start a job (the worker takes it from the task queue), show its
progress and serve the finished PDF, because all of it lives in the database.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _

from eventapp.database import read_only, write_intent
from eventapp.extensions import db
from eventapp.models import Event, Organiser, PrintJob, PrintJobFile, PrintJobStatus
from eventapp.queueing import after_commit
from eventapp.services import DomainError
from eventapp.timezones import utcnow

log = logging.getLogger(__name__)

KINDS = ("badges", "programme", "sign_in_sheets", "door_signs")
# A running job renews its heartbeat this often …
HEARTBEAT_EVERY = timedelta(seconds=5)
# … so one silent for this long lost its worker.
LOST_AFTER = timedelta(seconds=30)
# A queued job nobody started for this long lost its task (queue emptied): queue it again.
QUEUED_UNTOUCHED = timedelta(minutes=2)
# Starts of a job before it is given up.
MAX_ATTEMPTS = 2


def create_job(
    event: Event, kind: str, parameters: dict[str, Any], organiser: Organiser | None
) -> PrintJob:
    """Queue a print job for the event; the worker starts it once the view has committed."""
    if kind not in KINDS:
        raise DomainError(_("Unbekannte Druckart."))
    job = PrintJob(
        event_id=event.id,
        kind=kind,
        parameters=parameters,
        status=PrintJobStatus.QUEUED,
        created_by_id=organiser.id if organiser else None,
    )
    db.session.add(job)
    db.session.flush()
    after_commit("run_print_job", job)
    return job


def _progress(job_id: int, done: int) -> None:
    """Store how far a job is, on a connection of its own (the render's reads go on)."""
    token = write_intent.set(True)
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.update(PrintJob).where(PrintJob.id == job_id).values(done=done))
    finally:
        write_intent.reset(token)


def _render(job: PrintJob) -> tuple[bytes, list[int]]:
    """Render the job's document; return the PDF and the registrations to mark printed."""
    from eventapp.services.printing import (
        badge_rendering,
        badges,
        calibration,
        day_lists,
        programme_booklet,
    )
    from eventapp.services.printing.badge_layouts import LAYOUTS

    params = job.parameters or {}
    event = job.event
    language = params.get("lang", "de")
    if job.kind == "badges":
        layout = params.get("layout", "a4-10")
        mark = params.get("mark", True)
        sort = params.get("sort", "name")
        chosen, claimed = badges.choose_for_printing(
            event,
            utcnow(),
            only_new=bool(params.get("only_new")),
            mark=mark,
            role=params.get("role") or None,
            registration_id=params.get("registration_id"),
            sort=sort,
        )
        if claimed:  # marked printed already; given back if the job fails
            job.marked_ids, mark = claimed, False
        ids = [r.id for r in chosen]
        job_id = job.id
        job.total = len(chosen)
        db.session.commit()
        done = 0

        def step(count: int) -> None:
            nonlocal done
            done += count
            _progress(job_id, done)

        # Rendering only reads: on SQLite it must not hold the write lock for its minutes.
        with read_only():
            offset = calibration.offset_for(event, layout)
            pdf = badge_rendering.render_badges(
                event, chosen, LAYOUTS[layout], offset, language,
                current_app.config.get("PRINT_PROCESSES", 2), progress=step,
            )  # fmt: skip
            db.session.rollback()
        return pdf, ids if mark else []
    with read_only():
        if job.kind == "programme":
            pdf = programme_booklet.render_programme(event, language)
        elif job.kind == "sign_in_sheets":
            pdf = day_lists.render_sign_in_sheets(
                event,
                language,
                params.get("activity_id"),
                with_checkins=bool(params.get("with_checkins")),
                printed_at=utcnow(),
            )
        else:
            pdf = day_lists.render_door_signs(event, language)
        db.session.rollback()
    return pdf, []


def run_job(job_id: int) -> None:
    """Render a queued job, store its PDF and record the outcome (commits as it goes).

    While it renders, a heartbeat shows it is alive; a job whose heartbeat stops (its worker
    was killed) is started again by the sweep, or given up with a reason.
    """
    started = db.session.execute(
        sa.update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.status == PrintJobStatus.QUEUED)
        .values(
            status=PrintJobStatus.RUNNING,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            attempts=PrintJob.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if started.rowcount != 1:
        return  # done, failed, or taken by another worker
    with Heartbeat(current_app._get_current_object(), job_id):  # type: ignore[attr-defined]
        job = db.session.get(PrintJob, job_id)
        try:
            pdf, marked = _render(job)
        except Exception as error:  # the job must always end with a final status
            db.session.rollback()
            _fail(job_id, error)
            return
        _finish(job_id, pdf, marked)


def _fail(job_id: int, error: Exception) -> None:
    """Record a failed job with a reason organisers can read, giving back its claim."""
    job = db.session.get(PrintJob, job_id)
    job.status = PrintJobStatus.FAILED
    job.error = (
        error.message if isinstance(error, DomainError) else _("Der Druck ist fehlgeschlagen.")
    )
    job.finished_at = utcnow()
    _give_back_claim(job)
    db.session.commit()
    if not isinstance(error, DomainError):
        log.error("print job %s failed", job_id, exc_info=error)


def _finish(job_id: int, pdf: bytes, marked: list[int]) -> None:
    """Store the PDF and mark the job done (and its badges printed) in one transaction."""
    from eventapp.models import Registration

    now = utcnow()
    job = db.session.get(PrintJob, job_id)
    days = int(current_app.config.get("PRINT_FILE_DAYS", 7))
    db.session.add(
        PrintJobFile(
            job_id=job_id,
            content=pdf,
            size=len(pdf),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    if marked:
        db.session.execute(
            sa.update(Registration).where(Registration.id.in_(marked)).values(badge_printed_at=now)
        )
        job.marked_ids = marked
    if job.kind != "badges":
        job.total = 1  # one document
    job.done = job.total
    job.status = PrintJobStatus.DONE
    job.finished_at = now
    db.session.commit()


class Heartbeat:
    """Renew a running job's heartbeat every few seconds from a thread of its own."""

    def __init__(self, app: Flask, job_id: int) -> None:
        self.app = app
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"print-job-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def _beat(self) -> None:
        with self.app.app_context():
            while not self.stop.wait(HEARTBEAT_EVERY.total_seconds()):
                try:
                    db.session.execute(
                        sa.update(PrintJob)
                        .where(
                            PrintJob.id == self.job_id, PrintJob.status == PrintJobStatus.RUNNING
                        )
                        .values(heartbeat_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
                    db.session.commit()
                except Exception:  # a busy database: the next beat tries again
                    db.session.rollback()
                    log.warning("print job %s: heartbeat not written", self.job_id)
            db.session.remove()


def recover_lost_jobs(now: datetime | None = None) -> list[int]:
    """Find jobs whose worker died; queue them again, or give them up after two tries.

    Returns the ids to queue again. Each job is taken with a conditional UPDATE, so two
    workers sweeping at once recover it only once. A queued job whose task was lost (the queue
    emptied) is queued again too; starting it twice is harmless, only one worker takes it.
    """
    now = now or utcnow()
    lost = db.session.scalars(
        sa.select(PrintJob).where(
            sa.or_(
                sa.and_(
                    PrintJob.status == PrintJobStatus.RUNNING,
                    sa.or_(
                        PrintJob.heartbeat_at.is_(None), PrintJob.heartbeat_at < now - LOST_AFTER
                    ),
                ),
                sa.and_(
                    PrintJob.status == PrintJobStatus.QUEUED,
                    PrintJob.updated_at < now - QUEUED_UNTOUCHED,
                ),
            )
        )
    ).all()
    again: list[int] = []
    for job in lost:
        if job.status == PrintJobStatus.QUEUED:
            job.updated_at = now  # looked at: the next look comes after QUEUED_UNTOUCHED
            again.append(job.id)
        elif _take_lost(job, now):
            db.session.refresh(job)
            _give_back_claim(job)  # a new start claims its badges afresh
            if job.status == PrintJobStatus.QUEUED:
                job.marked_ids, job.marks_undone_at = [], None
                again.append(job.id)
    db.session.commit()
    return again


def _take_lost(job: PrintJob, now: datetime) -> bool:
    """Set a lost running job back to queued (or failed after MAX_ATTEMPTS), unless taken."""
    retry = job.attempts < MAX_ATTEMPTS
    beat = job.heartbeat_at
    result = db.session.execute(
        sa.update(PrintJob)
        .where(
            PrintJob.id == job.id,
            PrintJob.status == PrintJobStatus.RUNNING,
            PrintJob.heartbeat_at.is_(None) if beat is None else PrintJob.heartbeat_at == beat,
        )
        .values(
            status=PrintJobStatus.QUEUED if retry else PrintJobStatus.FAILED,
            error=""
            if retry
            else _(
                "Der Druckauftrag wurde zweimal unterbrochen, weil der Hintergrunddienst "
                "beendet wurde. Bitte starten Sie ihn neu."
            ),
            finished_at=None if retry else now,
            updated_at=now,
            done=0,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def expire_files(now: datetime | None = None) -> int:
    """Delete print files past their keeping time; return how many went."""
    result = db.session.execute(
        sa.delete(PrintJobFile)
        .where(PrintJobFile.expires_at < (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return int(result.rowcount or 0)


def job_file(job: PrintJob) -> PrintJobFile | None:
    """Return a finished job's stored PDF (None once it has expired)."""
    return db.session.scalar(sa.select(PrintJobFile).where(PrintJobFile.job_id == job.id))


def _give_back_claim(job: PrintJob) -> None:
    """Count the badges an unfinished job had claimed as not printed again."""
    from eventapp.services.printing.badges import unmark_printed

    if job.marked_ids and job.marks_undone_at is None:
        unmark_printed(job.event, job.marked_ids)
        job.marks_undone_at = utcnow()


def undo_marks(job: PrintJob) -> int:
    """Take back the printed marks this job set; return how many registrations changed."""
    from eventapp.services.printing.badges import unmark_printed

    if job.marks_undone_at is not None or not job.marked_ids:
        raise DomainError(_("Für diesen Auftrag gibt es nichts zurückzunehmen."))
    count = unmark_printed(job.event, job.marked_ids)
    job.marks_undone_at = utcnow()
    db.session.flush()
    return count


def recent_jobs(event: Event, limit: int = 15) -> list[PrintJob]:
    """Return the event's latest print jobs, newest first."""
    return list(
        db.session.scalars(
            sa.select(PrintJob)
            .where(PrintJob.event_id == event.id)
            .order_by(PrintJob.created_at.desc(), PrintJob.id.desc())
            .limit(limit)
        ).all()
    )
