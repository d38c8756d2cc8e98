"""Background print jobs: a row in the database, rendered by a separate process, polled.

Several app workers and no queue server: the request stores a PrintJob and starts
`python -m eventapp.print_worker JOB_ID` in its own session; the worker writes progress and
the result path into the row, so any app worker can show the progress and serve the file.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from eventapp.extensions import db
from eventapp.models import Event, Organiser, PrintJob, PrintJobStatus
from eventapp.services import DomainError
from eventapp.timezones import utcnow

KINDS = ("badges", "programme", "sign_in_sheets", "door_signs")
# A job still unfinished after this long lost its process (machine restart, killed worker).
STALE_AFTER = timedelta(minutes=30)


def jobs_folder() -> Path:
    """Return instance/print-jobs/, where finished documents are kept."""
    folder = Path(current_app.instance_path) / "print-jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def create_job(
    event: Event, kind: str, parameters: dict[str, Any], organiser: Organiser | None
) -> PrintJob:
    """Queue a print job for the event (the view commits, then calls launch)."""
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
    return job


def launch(job: PrintJob) -> None:
    """Start the job in a separate process (or right here when PRINT_JOBS_INLINE is set)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("PRINT_JOBS_INLINE"):
        run_job(job.id)
        return
    env = dict(os.environ)
    env["EVENTAPP_DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env["EVENTAPP_INSTANCE_PATH"] = app.instance_path
    process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        [sys.executable, "-m", "eventapp.print_worker", str(job.id)],
        start_new_session=True,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
    # Reap the worker when it ends, so it never lingers as a zombie of the app worker.
    threading.Thread(target=process.wait, daemon=True).start()


def _progress(job_id: int, done: int) -> None:
    db.session.execute(sa.update(PrintJob).where(PrintJob.id == job_id).values(done=done))
    db.session.commit()


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
        job.total = len(chosen)
        db.session.commit()
        done = 0

        def step(count: int) -> None:
            nonlocal done
            done += count
            _progress(job.id, done)

        offset = calibration.offset_for(event, layout)
        pdf = badge_rendering.render_badges(
            event, chosen, LAYOUTS[layout], offset, language,
            current_app.config.get("PRINT_PROCESSES", 2), progress=step,
        )  # fmt: skip
        return pdf, ids if mark else []
    job.total = 1
    if job.kind == "programme":
        return programme_booklet.render_programme(event, language), []
    if job.kind == "sign_in_sheets":
        return day_lists.render_sign_in_sheets(event, language, params.get("activity_id")), []
    return day_lists.render_door_signs(event, language), []


def run_job(job_id: int, own_process: bool = False) -> None:
    """Render a queued job, keep its file and record the outcome (commits as it goes).

    With own_process (the print worker), the job records this process, so the job page can
    tell at once when it has died.
    """
    job = db.session.get(PrintJob, job_id)
    if job is None or job.status != PrintJobStatus.QUEUED:
        return
    job.status = PrintJobStatus.RUNNING
    job.started_at = utcnow()
    if own_process:
        job.worker_host, job.worker_pid = socket.gethostname(), os.getpid()
    db.session.commit()
    try:
        pdf, marked = _render(job)
    except Exception as error:  # the worker must always leave a final status
        db.session.rollback()
        job = db.session.get(PrintJob, job_id)
        job.status = PrintJobStatus.FAILED
        job.error = (
            error.message if isinstance(error, DomainError) else _("Der Druck ist fehlgeschlagen.")
        )
        job.finished_at = utcnow()
        _give_back_claim(job)
        db.session.commit()
        if not isinstance(error, DomainError):
            traceback.print_exc()
        return
    path = jobs_folder() / f"{job_id}-{secrets.token_hex(8)}.pdf"
    path.write_bytes(pdf)
    job = db.session.get(PrintJob, job_id)
    if marked:
        from eventapp.models import Registration

        now = utcnow()
        db.session.execute(
            sa.update(Registration).where(Registration.id.in_(marked)).values(badge_printed_at=now)
        )
    if marked:
        job.marked_ids = marked
    job.result_path = str(path)
    job.done = job.total
    job.status = PrintJobStatus.DONE
    job.finished_at = utcnow()
    db.session.commit()


def expire_if_stale(job: PrintJob) -> bool:
    """Mark a job failed when its process has gone; return whether it changed.

    A process on this host is looked up directly; for one elsewhere (or not started) the job
    counts as lost after STALE_AFTER. Badges it had claimed count as not printed again.
    """
    unfinished = job.status in {PrintJobStatus.QUEUED, PrintJobStatus.RUNNING}
    if not unfinished:
        return False
    gone = _worker_gone(job) if job.worker_host == socket.gethostname() else False
    if not gone and utcnow() - job.created_at < STALE_AFTER:
        return False
    job.status = PrintJobStatus.FAILED
    job.error = _("Der Druckauftrag wurde abgebrochen. Bitte starten Sie ihn neu.")
    job.finished_at = utcnow()
    _give_back_claim(job)
    db.session.flush()
    return True


def _worker_gone(job: PrintJob) -> bool:
    """Tell whether the job's recorded process on this host no longer renders it."""
    if not job.worker_pid:
        return False
    try:
        os.kill(job.worker_pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user: not ours any more
    # On Linux, a recycled process id shows in the command line.
    cmdline = Path(f"/proc/{job.worker_pid}/cmdline")
    try:
        return b"eventapp.print_worker" not in cmdline.read_bytes()
    except OSError:
        return False


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
