"""The worker's tasks and periodic duties; each is a thin call into a service.

Tasks are registered here and bound to the app's queue by create_app. Each runs in its own app
context and commits its own work. Periodic duties (every minute, daily) also catch up on
anything whose queued task was lost, so the database, not the queue, is the record.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from huey import crontab

from eventapp.extensions import db, task_queue
from eventapp.timezones import utcnow

log = logging.getLogger(__name__)


@task_queue.task("deliver_mail")
def deliver_mail(ids: list[int]) -> None:
    """Render and send the given mails (those still due; a retry is queued for failures).

    The task first waits MAIL_ROUND_WAIT_MS for the mails of commits close behind, then sends
    them with its own and any other due ones in one round, so a burst of registrations is sent
    in a few rounds. The tasks that come while it waits hand their mails to its round and end;
    those of the mails that went along find nothing left and end.
    """
    from eventapp.services.mail import outbox, rounds

    config = current_app.config
    wait = int(config["MAIL_ROUND_WAIT_MS"]) / 1000
    waits = wait > 0 and not task_queue.bound().huey.immediate
    upcoming = rounds.next_round()
    if waits and upcoming.join(ids):
        return  # the round a task of this worker waits to start takes them along
    if not outbox.still_due(ids):
        return  # an earlier round sent them
    if waits:
        if upcoming.join_or_wait(ids):
            return
        try:
            time.sleep(wait)
        finally:
            ids = [*ids, *upcoming.start()]
    outbox.deliver_with_due(config, ids)


@task_queue.task("flush_change_notices")
def flush_change_notices() -> None:
    """Mail the change notices whose quiet period is over (each edit schedules this task)."""
    from eventapp.services.mail import change_notices

    queued = change_notices.flush_change_notices()
    db.session.commit()  # the notices' mails are delivered by their own task after this
    if queued:
        log.info("change notices: %s mails queued", queued)


@task_queue.task("send_manage_link")
def send_manage_link(event_id: int, email: str, registered_again: bool = False) -> None:
    """Send the private link to an address, if it is registered.

    Asked for on "Link anfordern" (the lookup happens here, not in the request, so the
    request's answer and time are the same for a known and an unknown address), or
    (registered_again) the registration form was sent for the address at the very moment
    another request registered it.
    """
    from eventapp.models import Event
    from eventapp.services.registration import registrations

    event = db.session.get(Event, event_id)
    if event is not None:
        registrations.request_manage_link(event, email, registered_again=registered_again)
        db.session.commit()


@task_queue.task("send_password_reset")
def send_password_reset(email: str) -> None:
    """Send a new-password link to an address asked for on "Passwort vergessen", if it has one."""
    from eventapp.services.accounts import links

    links.request_reset(email)
    db.session.commit()


@task_queue.task("run_print_job")
def run_print_job(job_id: int) -> None:
    """Render a print job and store its PDF in the database."""
    from eventapp.services.printing import jobs

    jobs.run_job(job_id)


@task_queue.task("preview_import")
def preview_import(import_id: int) -> None:
    """Check every row of an uploaded table (nothing is kept) and store each row's result."""
    from eventapp.services.imports import jobs

    jobs.run_preview(import_id)


@task_queue.task("run_import")
def run_import(import_id: int) -> None:
    """Import a confirmed table in one transaction, all or nothing."""
    from eventapp.services.imports import jobs

    jobs.run_confirmed_import(import_id)


@task_queue.task("sweep", schedule=crontab(minute="*"))
def sweep() -> None:
    """Every minute: send what is due, mail quiet change notices, recover lost print jobs and
    imports, and delete expired print files and uploads."""
    from eventapp.services.imports import jobs as import_jobs
    from eventapp.services.imports import pending as pending_imports
    from eventapp.services.mail import campaign_schedule, campaigns, change_notices, outbox
    from eventapp.services.printing import jobs

    config = current_app.config
    campaign_schedule.reschedule_missed(config)  # after an outage, campaign mails keep their pace
    db.session.commit()
    while sum(outbox.deliver(config, limit=100).values()) >= 100:
        pass  # a full round: more are due at once
    campaigns.mark_finished()
    change_notices.flush_change_notices()
    db.session.commit()
    for job_id in jobs.recover_lost_jobs():
        task_queue.bound().enqueue("run_print_job", job_id)
    for task, import_id in import_jobs.recover_lost():
        task_queue.bound().enqueue(task, import_id)
    jobs.expire_files()
    pending_imports.expire()
    db.session.commit()


@task_queue.task("purge_personal_data", schedule=crontab(minute="17", hour="3"))
def purge_personal_data() -> None:
    """Daily at 03:17 UTC: keep the privacy notice's promise (clear needs, delete old data)."""
    from eventapp.services.registration.retention import purge_personal_data as purge

    report = purge(utcnow())
    db.session.commit()
    log.info("personal data purged: %s", report)
