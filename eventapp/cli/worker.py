"""`eventapp worker`: the background worker (mail, change notices, print jobs, daily duties)."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from eventapp.extensions import task_queue
from eventapp.timezones import utcnow


@click.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 32),
    default=None,
    help="Tasks run at the same time (default: the WORKER_THREADS setting).",
)
@with_appcontext
def worker_command(threads: int | None) -> None:
    """Run the worker until stopped (Ctrl-C or SIGTERM finish the running tasks first)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = task_queue.bound(app)
    if queue.huey.immediate:
        raise click.UsageError("TASK_QUEUE_IMMEDIATE is set: tasks already run where they start")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Two lines for every task (a burst of registrations queues one each) tell nothing the
    # services do not log themselves; failed tasks are still logged (as errors).
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)  # start, stop, periodic duties
    lower_priority(int(app.config["WORKER_NICE"]))
    consumer = queue.huey.create_consumer(
        workers=threads or int(app.config["WORKER_THREADS"]),
        worker_type="thread",
        periodic=True,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=1.0,  # an idle SQLite queue is looked at every second
        scheduler_interval=1,
        check_worker_health=True,
        graceful_signal="TERM",
        shutdown_timeout=30,
    )
    # Catch up at once on work whose task was lost while no worker ran, and again once a print
    # job that a killed worker left behind counts as lost.
    from eventapp.services.printing.jobs import LOST_AFTER

    queue.enqueue("sweep")
    queue.enqueue("sweep", eta=utcnow() + LOST_AFTER + timedelta(seconds=5))
    click.echo(f"eventapp worker: queue {describe(app.config.get('TASK_QUEUE_URL', ''))}")
    consumer.run()


def lower_priority(nice: int) -> int:
    """Lower the worker's CPU priority to this nice value (never raise it); return the value.

    The web requests of a rush then get the cores first: the worker's CPU is the same, its
    mails leave a little later, and the answers to the people registering come sooner.
    """
    current = os.nice(0)
    target = min(max(nice, 0), 19)
    if target > current:
        current = os.nice(target - current)
    return current


def describe(url: str) -> str:
    """Return the queue's address for the start line, without a password."""
    if not url:
        return "SQLite file in the instance folder"
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]
