"""The preview and the import of an upload, run by the worker with their progress in the database.

A row costs some 25 ms, so a large file takes minutes: far longer than a web request may last.
The request stores the upload (or the confirmation) and queues a task; the worker runs the
preview (an import that is rolled back) or the import (one transaction, all or nothing) and
keeps the upload's status, progress and heartbeat up to date, so any host shows how far it is.
A run whose worker died (its heartbeat stopped) is started again by the minute sweep, or given
up with a reason after two tries.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from eventapp.database import brief_write
from eventapp.extensions import db
from eventapp.models import ImportStatus, PendingImport
from eventapp.queueing import after_commit
from eventapp.services.imports import pending as pending_imports
from eventapp.services.imports.reading import UnreadableFile
from eventapp.services.imports.rows import ImportReport, run_import
from eventapp.timezones import utcnow

log = logging.getLogger(__name__)

# A running preview or import renews its heartbeat (and progress) this often …
HEARTBEAT_EVERY = timedelta(seconds=2)
# … so one silent for this long lost its worker. On SQLite the run's own transaction holds the
# write lock, so neither can be written until it ends: the sweep cannot take the lock either.
LOST_AFTER = timedelta(seconds=30)
# A queued run nobody started for this long lost its task (queue emptied): queue it again.
QUEUED_UNTOUCHED = timedelta(minutes=2)
# Starts of a run before it is given up.
MAX_ATTEMPTS = 2
RUNNING = (ImportStatus.PREVIEWING, ImportStatus.IMPORTING)


def queue_preview(pending: PendingImport) -> None:
    """Have the worker check the upload once the request has committed."""
    after_commit("preview_import", pending)


def confirm(pending: PendingImport, send_mail: bool) -> bool:
    """Queue the import of a previewed upload; False when it is not (or no longer) ready.

    A conditional update, so a confirmation sent twice queues one import.
    """
    options = dict(pending.options or {}, send_mail=bool(send_mail))
    result = db.session.execute(
        sa.update(PendingImport)
        .where(PendingImport.id == pending.id, PendingImport.status == ImportStatus.PREVIEWED)
        .values(
            status=ImportStatus.IMPORTING,
            options=options,
            heartbeat_at=None,
            attempts=0,
            done=0,
            error="",
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    after_commit("run_import", pending.id)
    return True


def report_of(pending: PendingImport) -> ImportReport | None:
    """Return the last run's report (the preview, or the import's result), if there is one."""
    return ImportReport.from_dict(pending.result) if pending.result else None


def run_preview(import_id: int) -> None:
    """Check every row of an upload in a transaction that is rolled back; keep each row's result."""
    if not _take(import_id, ImportStatus.UPLOADED, ImportStatus.PREVIEWING):
        return
    _run(import_id, commit=False)


def run_confirmed_import(import_id: int) -> None:
    """Import a confirmed upload in one transaction, all or nothing; keep each row's result."""
    if not _take(import_id, ImportStatus.IMPORTING, ImportStatus.IMPORTING):
        return
    _run(import_id, commit=True)


def _take(import_id: int, waiting: ImportStatus, running: ImportStatus) -> bool:
    """Mark a queued run as started by this worker, unless another one took it (commits)."""
    now = utcnow()
    started = db.session.execute(
        sa.update(PendingImport)
        .where(
            PendingImport.id == import_id,
            PendingImport.status == waiting,
            PendingImport.heartbeat_at.is_(None),
            PendingImport.expires_at > now,
        )
        .values(
            status=running,
            heartbeat_at=now,
            attempts=PendingImport.attempts + 1,
            done=0,
            error="",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return started.rowcount == 1


def _run(import_id: int, commit: bool) -> None:
    """Run the import of the upload; commit it (all rows fine) or roll it back."""
    pending = db.session.get(PendingImport, import_id)
    if pending is None:  # discarded meanwhile
        return
    event, kind, content, filename = pending.event, pending.kind, pending.content, pending.filename
    options = pending_imports.options_of(pending, send_mail=bool(pending.options.get("send_mail")))
    language = str(pending.options.get("lang") or "de")
    with Heartbeat(current_app._get_current_object(), import_id) as beat:  # type: ignore[attr-defined]
        try:
            with force_locale(language):
                report = run_import(event, kind, content, filename, options, beat.progress)
                refused = _("Es wurde nichts importiert.")
                changed = _(
                    "Es wurde nichts importiert: %(count)s Zeile(n) lassen sich nicht übernehmen "
                    "(die Daten haben sich womöglich seit der Vorschau geändert).",
                    count=len(report.errors),
                )
        except UnreadableFile as error:
            db.session.rollback()
            _end(import_id, ImportStatus.FAILED, None, error.message)
            return
        except Exception as error:  # the run must always end with a final status
            db.session.rollback()
            log.error("import %s failed", import_id, exc_info=error)
            _end(import_id, ImportStatus.FAILED, None, _("Der Import ist fehlgeschlagen."))
            return
        data = report.to_dict()
        if not commit:
            db.session.rollback()
            _end(import_id, ImportStatus.PREVIEWED, data, "")
        elif not report.ok:
            db.session.rollback()  # all or nothing: the rows fine so far are not kept
            _end(import_id, ImportStatus.PREVIEWED, data, changed if report.rows else refused)
        else:
            # The import and its record in one transaction: both or neither.
            _end(import_id, ImportStatus.IMPORTED, data, "", forget_content=True)


def _end(
    import_id: int,
    status: ImportStatus,
    data: dict | None,
    error: str,
    forget_content: bool = False,
) -> None:
    """Record a run's outcome (and commit the open transaction with it)."""
    values: dict = {"status": status, "error": error, "heartbeat_at": None}
    if data is not None:
        values.update(result=data, done=len(data["rows"]), total=len(data["rows"]))
    if forget_content:
        values["content"] = b""  # imported: the personal data in the file is not kept twice
    recorded = db.session.execute(
        sa.update(PendingImport)
        .where(PendingImport.id == import_id, PendingImport.status.in_(RUNNING))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if recorded.rowcount != 1:  # discarded or taken over meanwhile: keep nothing of this run
        db.session.rollback()
        return
    db.session.commit()


class Heartbeat:
    """Renew a running upload's heartbeat and progress every few seconds from its own thread.

    Each write waits briefly for its lock and is skipped when it cannot have it (SQLite, whose
    single write lock the run's own transaction holds until it ends).
    """

    def __init__(self, app: Flask, import_id: int) -> None:
        self.app = app
        self.import_id = import_id
        self.done = 0
        self.total = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-{import_id}", daemon=True)

    def progress(self, done: int, total: int) -> None:
        """Note how far the run is (written by the next beat)."""
        self.done, self.total = done, total

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
                    with brief_write(db.engine, 0.5) as connection:
                        connection.execute(
                            sa.update(PendingImport)
                            .where(
                                PendingImport.id == self.import_id,
                                PendingImport.status.in_(RUNNING),
                            )
                            .values(heartbeat_at=utcnow(), done=self.done, total=self.total)
                        )
                except Exception:  # a busy database: the next beat tries again
                    log.debug("import %s: heartbeat not written", self.import_id)


def recover_lost(now: datetime | None = None) -> list[tuple[str, int]]:
    """Find runs whose worker died or whose task was lost; return the tasks to queue again.

    A run silent for LOST_AFTER goes back to its queued state (or fails after MAX_ATTEMPTS);
    each is taken with a conditional update, so two sweeps recover it once. Nothing of a lost
    run was kept: its transaction ended with its worker.
    """
    now = now or utcnow()
    again: list[tuple[str, int]] = []
    lost = db.session.execute(
        sa.select(PendingImport.id, PendingImport.status, PendingImport.attempts).where(
            PendingImport.status.in_(RUNNING),
            PendingImport.heartbeat_at.is_not(None),
            PendingImport.heartbeat_at < now - LOST_AFTER,
        )
    ).all()
    for import_id, status, attempts in lost:
        retry = attempts < MAX_ATTEMPTS
        previewing = status == ImportStatus.PREVIEWING
        if retry:
            values: dict = {
                "status": ImportStatus.UPLOADED if previewing else ImportStatus.IMPORTING,
                "heartbeat_at": None,
                "done": 0,
            }
        else:
            values = {
                "status": ImportStatus.FAILED,
                "heartbeat_at": None,
                "error": _(
                    "Die Prüfung wurde zweimal unterbrochen, weil der Hintergrunddienst beendet "
                    "wurde. Bitte laden Sie die Datei erneut hoch."
                )
                if previewing
                else _(
                    "Der Import wurde zweimal unterbrochen, weil der Hintergrunddienst beendet "
                    "wurde; es wurde nichts importiert. Bitte laden Sie die Datei erneut hoch."
                ),
            }
        taken = db.session.execute(
            sa.update(PendingImport)
            .where(
                PendingImport.id == import_id,
                PendingImport.status == status,
                PendingImport.heartbeat_at < now - LOST_AFTER,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1 and retry:
            again.append(("preview_import" if previewing else "run_import", import_id))
    # Queued long ago and never started: the task was lost (starting twice is harmless).
    waiting = db.session.execute(
        sa.select(PendingImport.id, PendingImport.status).where(
            PendingImport.status.in_((ImportStatus.UPLOADED, ImportStatus.IMPORTING)),
            PendingImport.heartbeat_at.is_(None),
            PendingImport.created_at < now - QUEUED_UNTOUCHED,
            PendingImport.expires_at > now,
        )
    ).all()
    for import_id, status in waiting:
        task = "preview_import" if status == ImportStatus.UPLOADED else "run_import"
        if (task, import_id) not in again:
            again.append((task, import_id))
    db.session.commit()
    return again
