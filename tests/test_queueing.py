"""Work queued in a transaction leaves only with its commit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db, task_queue
from eventapp.services.mail.outbox import queue_mail
from tests.helpers.mailbox import delivered


def test_work_queued_before_a_savepoint_waits_for_the_real_commit(app: Flask) -> None:
    """A savepoint inside the transaction (the calendar store uses one) sends no mail early."""
    with app.app_context():
        queue_mail("frueh@example.org", "Betreff", "Text")
        with db.session.begin_nested():
            db.session.execute(sa.text("SELECT 1"))
        assert delivered(app) == []  # still inside the transaction
        db.session.commit()
    assert [m["To"] for m in delivered(app)] == ["frueh@example.org"]


def test_work_of_a_rolled_back_transaction_is_dropped(app: Flask) -> None:
    with app.app_context():
        queue_mail("nie@example.org", "Betreff", "Text")
        with db.session.begin_nested():
            db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
        db.session.commit()
    assert delivered(app) == []


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False, "TASK_QUEUE_URL": ""}])
def test_sqlite_queue_commits_without_waiting_for_the_disk(app: Flask) -> None:
    """The file queue runs as the database does: WAL, synchronous=NORMAL (no fsync per task)."""
    connection = task_queue.bound(app).huey.storage.conn
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (1,)
