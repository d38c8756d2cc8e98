"""The task queue (Huey): work that does not belong in a web request, done by `eventapp worker`.

The database stays the record of every piece of work (an outbox row, a print job, a change
notice); a queued task only says "look at this now". A task lost with its queue (a worker
killed, the queue's storage wiped) is found again by the worker's periodic sweep, so nothing
depends on the queue alone.

Services say what should happen once their transaction is committed with `after_commit()`; the
factory wires a session hook that enqueues those tasks after a successful commit and forgets
them on rollback, so a request, a CLI command and a task all queue work the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, crontab
from huey.api import TaskWrapper
from huey.storage import SqliteStorage

log = logging.getLogger(__name__)

# Key in the session's info dict under which tasks wait for the commit.
PENDING_KEY = "eventapp_after_commit"


@dataclass(frozen=True)
class TaskSpec:
    """A task of the product: its function and, for a periodic duty, when it runs."""

    function: Callable[..., Any]
    schedule: crontab | None = None  # type: ignore[valid-type]


@dataclass
class TaskQueue:
    """Registry of the product's tasks and the Huey instance of each app."""

    specs: dict[str, TaskSpec] = field(default_factory=dict)

    def task(self, name: str, schedule: Any = None) -> Callable[[Callable], Callable]:
        """Register a function as the task `name` (periodic when a crontab is given)."""

        def register(function: Callable) -> Callable:
            self.specs[name] = TaskSpec(function, schedule)
            return function

        return register

    def init_app(self, app: Flask) -> None:
        """Create the app's Huey instance from TASK_QUEUE_URL and bind every task to it."""
        import eventapp.tasks  # noqa: F401  (registers the tasks)

        huey = build_huey(app)
        wrappers: dict[str, TaskWrapper] = {}
        for name, spec in self.specs.items():
            runner = _in_app_context(app, spec.function)
            if spec.schedule is not None:
                wrappers[name] = huey.periodic_task(spec.schedule, name=name)(runner)
            else:
                wrappers[name] = huey.task(name=name)(runner)
        app.extensions["task_queue"] = BoundQueue(huey, wrappers)

    def bound(self, app: Flask | None = None) -> BoundQueue:
        """Return the queue of the given (or current) app."""
        return (app or current_app).extensions["task_queue"]


@dataclass
class BoundQueue:
    """One app's Huey instance and its task wrappers."""

    huey: Huey
    wrappers: dict[str, TaskWrapper]

    def close(self) -> None:
        """Close this process's connection to the queue's storage."""
        close = getattr(self.huey.storage, "close", None)
        if close is not None:
            close()

    def enqueue(self, name: str, *args: Any, eta: datetime | None = None) -> None:
        """Queue a task now, or for a moment in the future."""
        wrapper = self.wrappers[name]
        if eta is None:
            wrapper(*args)
        else:
            wrapper.schedule(args=args, eta=eta)  # an aware time, converted to UTC by Huey


class SqliteQueueStorage(SqliteStorage):
    """Huey's SQLite queue with the database's durability: WAL and synchronous=NORMAL.

    Huey leaves SQLite at FULL, which waits for the disk at every commit, once per queued and
    once per taken task. With NORMAL a power cut may lose the last tasks but never harms the
    file, and the worker's sweep finds the work of a lost task again.
    """

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def build_huey(app: Flask) -> Huey:
    """Return the Huey instance for TASK_QUEUE_URL (empty: a SQLite file in the instance)."""
    url = app.config.get("TASK_QUEUE_URL") or ""
    name = "eventapp"
    if app.config.get("TASK_QUEUE_IMMEDIATE"):
        return MemoryHuey(name, immediate=True, results=False, utc=True)
    if not url:
        path = Path(app.instance_path) / "task-queue.sqlite3"
        return Huey(
            name,
            storage_class=SqliteQueueStorage,
            filename=str(path),
            results=False,
            utc=True,
            timeout=15,
        )
    scheme = url.split(":", 1)[0].lower()
    if scheme in {"redis", "rediss", "unix"}:
        return RedisHuey(name, url=url, results=False, utc=True)
    if scheme.startswith("postgres"):
        dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(name, dsn=dsn, results=False, utc=True)
    if scheme == "sqlite":
        return Huey(
            name,
            storage_class=SqliteQueueStorage,
            filename=url.split("://", 1)[1],
            results=False,
            utc=True,
        )
    raise ValueError(f"TASK_QUEUE_URL: unknown scheme {scheme!r} (redis://, postgresql://)")


def _in_app_context(app: Flask, function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task inside an app context and end its database session afterwards."""
    from eventapp.extensions import db

    def run(*args: Any) -> Any:
        with app.app_context():
            try:
                return function(*args)
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    run.__name__ = function.__name__
    run.__doc__ = function.__doc__
    return run


def after_commit(name: str, *args: Any, eta: datetime | None = None) -> None:
    """Queue the task `name` once the current transaction has been committed.

    Arguments may be model instances: they are replaced by their primary key at commit time
    (new rows get theirs with the flush), so a service can queue work for a row it just added.
    """
    from eventapp.extensions import db

    db.session.info.setdefault(PENDING_KEY, []).append((name, args, eta))


def _resolve(value: Any) -> Any:
    """Return a model instance's primary key (lists element-wise); other values unchanged."""
    if isinstance(value, list | tuple):
        return [_resolve(v) for v in value]
    state = sa.inspect(value, raiseerr=False)
    if state is not None and hasattr(state, "identity"):
        identity = state.identity
        return identity[0] if identity else None
    return value


def enqueue_committed(session: Any) -> None:
    """Session hook: queue what the committed transaction asked for (merging mail deliveries)."""
    if session.in_nested_transaction():
        return  # a savepoint was released: the work waits for the transaction's own commit
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    queue = current_app.extensions.get("task_queue")
    if queue is None:
        return
    mail_ids: list[int] = []
    for name, args, eta in pending:
        values = [_resolve(a) for a in args]
        if name == "deliver_mail" and eta is None:
            mail_ids += [v for v in values if v is not None]
            continue
        _enqueue_quietly(queue, name, *values, eta=eta)
    if mail_ids:  # one task for all mails of this transaction
        _enqueue_quietly(queue, "deliver_mail", sorted(set(mail_ids)), eta=None)


def enqueue(name: str, *args: Any, eta: datetime | None = None) -> None:
    """Queue a task for work already committed (outside the session, so no hook queues it)."""
    queue = current_app.extensions.get("task_queue") if has_app_context() else None
    if queue is not None:
        _enqueue_quietly(queue, name, *args, eta=eta)


def _enqueue_quietly(queue: BoundQueue, name: str, *args: Any, eta: datetime | None) -> None:
    """Queue a task; when the queue is unreachable, leave it to the worker's periodic sweep."""
    try:
        queue.enqueue(name, *args, eta=eta)
    except Exception:
        log.exception("could not queue task %s; the worker's sweep will pick the work up", name)


def forget_pending(session: Any, previous_transaction: Any) -> None:
    """Session hook: a rolled-back transaction queues nothing (a savepoint's keeps the rest)."""
    if not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)


def install_session_hooks(session_class: type) -> None:
    """Wire the commit and rollback hooks on the session class (once per process)."""
    for event_name, hook in (
        ("after_commit", enqueue_committed),
        ("after_soft_rollback", forget_pending),
    ):
        if not sa.event.contains(session_class, event_name, hook):
            sa.event.listen(session_class, event_name, hook)
