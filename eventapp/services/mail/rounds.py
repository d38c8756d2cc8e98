"""Which mails this worker process has in hand, so the many tasks of a rush cost little.

A burst of commits queues one delivery task per mail. One task's round takes the mails of many
(outbox.deliver_with_due); what is kept here lets the tasks around it end without a query or a
round of their own. All of it is a shortcut within one process: the outbox's rows and leases
stay the record, and the sweep (every minute) sends whatever a task left behind.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import timedelta

from flask import current_app


class TakenHere:
    """The mails this process leased lately and has sent or is sending.

    A burst of commits queues one task per mail, and one round takes the mails of many: the
    tasks that follow end without a query when all their mails are among these, as the query
    would find them leased or sent. A mail leaves this list when its attempt ends otherwise (a
    retry has a task of its own; a failed mail may be sent again). A shortcut, never the
    record: should SQLite give a deleted highest id to a new mail while it is kept (as long as
    a lease), that mail's task ends too and the sweep (every minute) sends it, as for a lost
    task.
    """

    SIZE = 10_000

    def __init__(self, keep: timedelta) -> None:
        self.keep = keep.total_seconds()
        self._taken: OrderedDict[int, float] = OrderedDict()  # id: when, oldest first
        self._lock = threading.Lock()

    def add(self, ids: Iterable[int]) -> None:
        """Note mails whose lease was just committed."""
        now = time.monotonic()
        with self._lock:
            for mail_id in ids:
                self._taken[mail_id] = now
                self._taken.move_to_end(mail_id)
            while self._taken and (
                len(self._taken) > self.SIZE or now - next(iter(self._taken.values())) > self.keep
            ):
                self._taken.popitem(last=False)

    def forget(self, mail_id: int) -> None:
        """Drop a mail that was not sent here after all."""
        with self._lock:
            self._taken.pop(mail_id, None)

    def covers(self, ids: Sequence[int]) -> bool:
        """Tell whether every one of these mails was taken here lately."""
        oldest = time.monotonic() - self.keep
        with self._lock:
            return bool(ids) and all(self._taken.get(i, oldest - 1) >= oldest for i in ids)


def taken_here() -> TakenHere:
    """Return the mails this process (for the current app) took lately."""
    from eventapp.services.mail.outbox import CLAIM_LEASE

    return current_app.extensions.setdefault("mails_taken_here", TakenHere(CLAIM_LEASE))


class NextRound:
    """The round a task of this process waits to start (MAIL_ROUND_WAIT_MS), and its mails.

    While one task waits, the tasks of the commits close behind it hand their mails over and
    end, instead of each waiting to send a round of its own with the few mails left over.
    """

    def __init__(self) -> None:
        self._handed: list[int] | None = None  # None: no task waits
        self._lock = threading.Lock()

    def join(self, ids: Sequence[int]) -> bool:
        """Hand mails to the round a task here waits to start; False when none waits."""
        with self._lock:
            if self._handed is None:
                return False
            self._handed.extend(ids)
            return True

    def join_or_wait(self, ids: Sequence[int]) -> bool:
        """Hand mails to the round a task here waits to start (True), or be that task (False)."""
        with self._lock:
            if self._handed is not None:
                self._handed.extend(ids)
                return True
            self._handed = []
            return False

    def start(self) -> list[int]:
        """End the wait: return the mails handed over meanwhile; later tasks wait anew."""
        with self._lock:
            handed, self._handed = self._handed or [], None
        return handed


def next_round() -> NextRound:
    """Return the round a task of this process (for the current app) waits to start."""
    return current_app.extensions.setdefault("mail_next_round", NextRound())
