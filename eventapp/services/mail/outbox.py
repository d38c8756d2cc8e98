"""Outbox: e-mails are written in the business transaction; the worker renders and sends them."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp.database import read_only
from eventapp.extensions import db
from eventapp.models import Activity, MailStatus, OutboxMail, Registration
from eventapp.prebuilt import PrebuiltStatement
from eventapp.queueing import after_commit, enqueue
from eventapp.services import DomainError
from eventapp.services.mail import mime
from eventapp.services.mail.rounds import taken_here
from eventapp.timezones import utcnow

log = logging.getLogger(__name__)
# The outbox table: its hot statements are written in Core, without the ORM's bookkeeping.
_OUTBOX = OutboxMail.__table__
# Set the columns named by the parameters of one mail (mail_id).
_SET_BY_ID = PrebuiltStatement(sa.update(_OUTBOX).where(_OUTBOX.c.id == sa.bindparam("mail_id")))
# Mark a mail as being handed to the server, if this worker's lease on it still holds.
_MARK = PrebuiltStatement(
    sa.update(_OUTBOX).where(
        _OUTBOX.c.id == sa.bindparam("mail_id"),
        _OUTBOX.c.status == MailStatus.PENDING,
        _OUTBOX.c.delivery_started_at.is_(None),
        _OUTBOX.c.next_attempt_at == sa.bindparam("leased_until"),
    )
)


# A delivery that started but never finished is tried again after this long.
CLAIM_LEASE = timedelta(minutes=5)
# The most mails a task for one commit's mails takes along from those already due (as many
# as a round of the sweep): a second of a rush of registrations goes out in one round.
ROUND_SIZE = 100
# The longest pause between two attempts at a mail.
MAX_RETRY_DELAY = timedelta(hours=1)
# The reason shown for a mail whose delivery was cut off.
INTERRUPTED = (
    "interrupted: the worker stopped while handing the mail to the server; it may have been "
    "delivered. Send it again if the person did not get it."
)


def queue_mail(
    recipient: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    kind: str = "",
    registration: Registration | None = None,
    activity: Activity | None = None,
) -> OutboxMail:
    """Write a finished e-mail to the outbox in the current transaction (sent after commit).

    For producers that already run in the worker (change notices); a web request uses
    queue_for_rendering, so no template is rendered while a visitor waits.
    """
    sender = current_app.config["MAIL_FROM"]
    message = mime.build_message(sender, recipient, subject, text, html, attachments)
    return _add(recipient, subject, message, None, kind, registration, activity)


def queue_for_rendering(
    recipient: str,
    subject: str,
    render_data: dict[str, Any],
    *,
    kind: str,
    registration: Registration | None = None,
    registration_id: int | None = None,
    campaign_id: int | None = None,
    not_before: datetime | None = None,
) -> int:
    """Write a mail to the outbox now; the worker renders its text before sending it.

    The row is part of the business transaction, so the mail is never lost; the renderer
    registered for its kind builds the message from render_data (and the registration, given
    as a row or by its id, if any). A campaign's mails carry its id and the moment their turn
    comes (the throttle's slot). Written with one INSERT at once (not at the next flush), as
    the web requests that queue mail are many; returns the mail's id.
    """
    values = _row(recipient, subject, b"", render_data, kind)
    values["registration_id"] = registration.id if registration is not None else registration_id
    values["campaign_id"] = campaign_id
    if not_before is not None:
        values["next_attempt_at"] = not_before
    mail_id = int(_INSERT.run(db.session.connection(), **values).value())
    after_commit("deliver_mail", mail_id)
    return mail_id


# One outbox row with every column given (a statement compiled once for all of them).
_INSERT = PrebuiltStatement(sa.insert(_OUTBOX).returning(_OUTBOX.c.id))


def _row(
    recipient: str, subject: str, message: bytes, render_data: dict[str, Any] | None, kind: str
) -> dict[str, Any]:
    """Return the columns of a new outbox row, due now."""
    now = utcnow()
    return {
        "recipient": recipient,
        "subject": subject[:300],
        "message": message,
        "render_data": render_data,
        "kind": kind,
        "status": MailStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "sent_at": None,
        "delivery_started_at": None,
        "created_at": now,
        "updated_at": now,
    }


def _add(
    recipient: str,
    subject: str,
    message: bytes,
    render_data: dict[str, Any] | None,
    kind: str,
    registration: Registration | None,
    activity: Activity | None,
) -> OutboxMail:
    """Add one outbox row and have the worker deliver it once the transaction is committed."""
    mail = OutboxMail(
        **_row(recipient, subject, message, render_data, kind),
        registration_id=registration.id if registration is not None else None,
        activity_id=activity.id if activity is not None else None,
    )
    db.session.add(mail)  # inserted with the next flush or the commit
    after_commit("deliver_mail", mail)
    return mail


# Build the message of a mail queued for rendering (None: it can no longer be built).
Renderer = Callable[[OutboxMail], "bytes | None"]
# Loads what a batch of mails will need in a few queries; what it returns is kept while they
# are rendered (the session holds loaded objects only weakly).
Preloader = Callable[[Sequence[OutboxMail]], object]


@dataclass
class MailKinds:
    """The renderers of deferred mails by kind, and the loaders that serve a batch of them.

    The outbox knows no producer: each producer module registers its kinds through
    `register_renderers`, and create_app calls those registrations.
    """

    renderers: dict[str, Renderer] = field(default_factory=dict)
    preloaders: list[Preloader] = field(default_factory=list)

    def add(self, kinds: Sequence[str], render: Renderer, preload: Preloader | None) -> None:
        """Register one renderer for some kinds, with the loader its batch needs."""
        for kind in kinds:
            self.renderers[kind] = render
        if preload is not None and preload not in self.preloaders:
            self.preloaders.append(preload)


MAIL_KINDS = MailKinds()
# What each loader returned for the batch being rendered in this context (see preloaded).
_BATCH: ContextVar[dict[Preloader, object] | None] = ContextVar("outbox_batch", default=None)


def register_renderer(
    kinds: Sequence[str], render: Renderer, preload: Preloader | None = None
) -> None:
    """Let the worker build deferred mails of these kinds with `render`."""
    MAIL_KINDS.add(kinds, render, preload)


def preloaded(load: Preloader) -> object | None:
    """Return what `load` returned for the batch being rendered now (None outside one)."""
    return (_BATCH.get() or {}).get(load)


@dataclass
class Outgoing:
    """One mail on its way out, detached from the session."""

    id: int
    recipient: str
    message: bytes
    attempts: int
    rendered: bool  # the message was built in this round and must be stored
    leased_until: datetime  # this worker's lease: the mail is its own until then


def _outgoing(mails: Sequence[OutboxMail]) -> list[Outgoing]:
    """Render the deferred mails (just leased) in a read transaction that holds no write lock."""
    if not mails:
        return []
    with read_only():  # the lease was committed: the read below starts afresh
        deferred = [mail for mail in mails if mail.render_data is not None]
        loaded = {load: load(deferred) for load in MAIL_KINDS.preloaders} if deferred else {}
        token = _BATCH.set(loaded)
        try:
            outgoing = []
            for mail in mails:
                rendered = mail.render_data is not None
                message = (_render(mail) or b"") if rendered else mail.message
                outgoing.append(
                    Outgoing(
                        mail.id,
                        mail.recipient,
                        message,
                        mail.attempts,
                        rendered,
                        mail.next_attempt_at,  # the lease just taken
                    )
                )
        finally:
            _BATCH.reset(token)
        del loaded
        db.session.rollback()
    return outgoing


def _render(mail: OutboxMail) -> bytes | None:
    """Build a deferred mail's message with its kind's renderer."""
    function = MAIL_KINDS.renderers.get(mail.kind)
    if function is None:
        return None
    try:
        return function(mail)
    except Exception:  # one broken mail must not stop the others
        log.exception("mail %s could not be rendered", mail.id)
        return None


class Transport:
    """Delivers raw messages through one backend: .eml files or an SMTP connection."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.backend = config["MAIL_BACKEND"]
        self.smtp: smtplib.SMTP | None = None
        self.folder: Path | None = None  # the file backend's, made once per round

    def send(self, mail: OutboxMail | Outgoing) -> None:
        """Deliver one message or raise."""
        if self.backend == "file":
            if self.folder is None:
                folder = self.config["MAIL_FILE_DIR"] or Path(current_app.instance_path) / "mail"
                self.folder = Path(folder)
                self.folder.mkdir(parents=True, exist_ok=True)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S")
            (self.folder / f"{stamp}-{mail.id:06d}.eml").write_bytes(mail.message)
            return
        if self.backend != "smtp":
            raise ValueError(f"unknown MAIL_BACKEND {self.backend!r}")
        if self.smtp is None:
            self.smtp = self._connect()
        sender = self.config["MAIL_FROM"]
        self.smtp.sendmail(sender, [mail.recipient], mail.message)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(
            self.config["MAIL_SERVER"],
            int(self.config["MAIL_PORT"]),
            timeout=float(self.config["MAIL_TIMEOUT"]),
        )
        if self.config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if self.config["MAIL_USERNAME"]:
            smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"])
        return smtp

    def close(self) -> None:
        """End the SMTP session, if any."""
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


@lru_cache(maxsize=3)
def _lease_statement(choice: str) -> sa.Select[tuple[OutboxMail]]:
    """Build (once) the UPDATE that leases due mails and returns them: "any" due mails, only
    the "given" ids, or the given ids "first" and other due mails after them."""
    due = (
        _OUTBOX.c.status == MailStatus.PENDING,
        _OUTBOX.c.next_attempt_at <= sa.bindparam("now"),
        _OUTBOX.c.delivery_started_at.is_(None),
    )
    order: list[Any] = [_OUTBOX.c.next_attempt_at, _OUTBOX.c.id]
    chosen = sa.select(_OUTBOX.c.id).where(*due)
    given = _OUTBOX.c.id.in_(sa.bindparam("ids", expanding=True))
    if choice == "given":
        chosen = chosen.where(given)
    elif choice == "first":  # campaign mails keep the pace the sweep sets for them
        chosen = chosen.where(sa.or_(given, _OUTBOX.c.campaign_id.is_(None)))
        order.insert(0, sa.case((given, 0), else_=1))
    chosen = chosen.order_by(*order).limit(sa.bindparam("limit", type_=sa.Integer))
    lease = (
        sa.update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(chosen.scalar_subquery()), *due)
        .values(next_attempt_at=sa.bindparam("lease_until"))
        .returning(*_OUTBOX.c)
    )
    return sa.select(OutboxMail).from_statement(lease)


def _claim(limit: int, ids: Iterable[int] | None, others: bool = False) -> list[OutboxMail]:
    """Lease due mails to this worker (one UPDATE) so no other worker sends them meanwhile.

    With ids, only those; with others as well, the round fills up to limit with other due mails.
    Returns the leased mails as they are now, in id order.
    """
    now = utcnow()
    params: dict[str, Any] = {"now": now, "lease_until": now + CLAIM_LEASE, "limit": limit}
    if ids is not None:
        params["ids"] = list(ids)
    choice = "any" if ids is None else "first" if others else "given"
    claimed = db.session.scalars(_lease_statement(choice), params).all()
    session = db.session()
    session.expire_on_commit = False  # they are read while rendering, not loaded again
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    taken_here().add(mail.id for mail in claimed)
    return sorted(claimed, key=lambda mail: mail.id)


def deliver(
    config: Mapping[str, Any], limit: int = 100, ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Render and send due mails (all, or only the given ids); failures wait, growing pauses.

    A round over all due mails (the sweep, `send-mail`) first gives up deliveries that were cut
    off; a task for the mails of one commit leaves that to the sweep.
    """
    if ids is None:
        give_up_interrupted()
    return _send_claimed(config, _outgoing(_claim(limit, ids)))


# Whether some of the given mails wait to be leased.
_DUE_AMONG = (
    sa.select(_OUTBOX.c.id)
    .where(
        _OUTBOX.c.id.in_(sa.bindparam("ids", expanding=True)),
        _OUTBOX.c.status == MailStatus.PENDING,
        _OUTBOX.c.next_attempt_at <= sa.bindparam("now"),
        _OUTBOX.c.delivery_started_at.is_(None),
    )
    .limit(1)
)


def still_due(ids: Iterable[int]) -> bool:
    """Tell whether any of these mails still waits to be sent (a read that takes no lock).

    Mails this process took lately need no look (see rounds.TakenHere).
    """
    ids = list(ids)
    if taken_here().covers(ids):
        return False
    with read_only(), db.engine.connect() as connection:
        found = connection.execute(_DUE_AMONG, {"ids": ids, "now": utcnow()}).first()
    return found is not None


def deliver_with_due(
    config: Mapping[str, Any], ids: Iterable[int], limit: int = ROUND_SIZE
) -> dict[str, int]:
    """Send the given mails and, in the same round, other mails already due (up to limit).

    A burst of commits, each asking for its own mail, becomes a few rounds: a task whose mails
    an earlier round already took finds nothing to lease and ends. Campaign mails go only when
    given: the sweep first moves those an outage left behind to new slots, keeping the pace.
    """
    ids = list(ids)
    return _send_claimed(config, _outgoing(_claim(max(limit, len(ids)), ids, others=True)))


def retry_delay(config: Mapping[str, Any], attempts: int) -> timedelta:
    """Return the pause after the given number of failed attempts (×4 each time, ≤ 1 hour)."""
    first = max(1, int(config.get("MAIL_RETRY_DELAY", 30)))
    return min(timedelta(seconds=first * 4 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def _send_claimed(config: Mapping[str, Any], outgoing: Sequence[Outgoing]) -> dict[str, int]:
    """Send mails leased by this worker, one commit per mail, holding no write lock meanwhile.

    Before a message goes to the server its row is marked (delivery_started_at) in the same
    commit that records the previous mail's outcome; after the server's answer the outcome is
    recorded. So a worker killed in between leaves a marked row, never an unmarked sent mail.
    The mark only takes while this worker's lease holds: a mail whose lease ran out before its
    turn (a slow server) may have been taken by another worker, and is left to it. A rendered
    message is stored only when its attempt fails (to be tried again as it was); a mail cut
    off in between keeps what it is rendered from. The round writes through one connection of
    its own, without the session's bookkeeping per commit.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not outgoing:
        return counts
    transport = Transport(config)
    stored: dict[str, Any] = {}  # the outcome of the previous mail, written with the next mark
    with db.engine.connect() as connection:
        try:
            for item in outgoing:
                start = {"delivery_started_at": utcnow()}
                if _record(connection, stored, item, start):
                    stored = _attempt(config, transport, item, counts)
                else:
                    stored = {}
                    log.warning("mail %s not sent here: its lease ran out before its turn", item.id)
        finally:
            transport.close()
            _record(connection, stored, None, {})
    return counts


def _attempt(
    config: Mapping[str, Any], transport: Transport, item: Outgoing, counts: dict[str, int]
) -> dict[str, Any]:
    """Hand one message to the server; return the values that record the outcome."""
    attempts = item.attempts + 1
    outcome: dict[str, Any] = {
        "id": item.id,
        "attempts": attempts,
        "delivery_started_at": None,
        "last_error": "",
    }
    try:
        if not item.message:
            raise ValueError("the message can no longer be built")
        transport.send(item)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        transport.close()
        outcome["last_error"] = f"{type(error).__name__}: {error}"[:2000]
        if item.rendered and item.message:  # it waits, or may be sent again, as it was tried
            outcome |= {"message": item.message, "render_data": None}
        if attempts >= int(config["MAIL_MAX_ATTEMPTS"]) or not item.message:
            outcome["status"] = MailStatus.FAILED
            counts["failed"] += 1
        else:
            outcome["status"] = MailStatus.PENDING
            outcome["next_attempt_at"] = utcnow() + retry_delay(config, attempts)
            counts["retry"] += 1
        log.warning("mail %s not delivered: %s", item.id, outcome["last_error"])
    else:
        # Sent: keep the record, not the text (it holds the person's private link).
        outcome |= {"status": MailStatus.SENT, "sent_at": utcnow(), "message": b""}
        outcome["render_data"] = None
        counts["sent"] += 1
    return outcome


def _record(
    connection: sa.Connection,
    outcome: dict[str, Any],
    following: Outgoing | None,
    mark: dict[str, Any],
) -> bool:
    """Write one mail's outcome and the next mail's mark in one short transaction.

    Returns whether the next mail was marked (its lease still held). A mail to be tried again
    gets its task once its outcome is committed.
    """
    marked = False
    with connection.begin():
        if outcome:
            values = dict(outcome)
            values["mail_id"] = values.pop("id")
            _SET_BY_ID.run(connection, **values)
        if following is not None:
            parameters = {**mark, "mail_id": following.id, "leased_until": following.leased_until}
            marked = _MARK.run(connection, **parameters).rowcount == 1
    if outcome and outcome["status"] != MailStatus.SENT:
        taken_here().forget(outcome["id"])
        if outcome["status"] == MailStatus.PENDING:
            enqueue("deliver_mail", [outcome["id"]], eta=outcome["next_attempt_at"])
    if following is not None and not marked:
        taken_here().forget(following.id)
    return marked


def give_up_interrupted(now: datetime | None = None) -> int:
    """Mark mails whose delivery was cut off (the worker died while sending) as failed.

    Whether such a mail reached the server is unknown, so it is not sent again on its own: an
    organiser sees it with this reason on the mail page and may send it again.
    """
    now = now or utcnow()
    result = db.session.execute(
        sa.update(OutboxMail)
        .where(
            OutboxMail.status == MailStatus.PENDING,
            OutboxMail.delivery_started_at.is_not(None),
            OutboxMail.delivery_started_at < now - CLAIM_LEASE,
        )
        .values(
            status=MailStatus.FAILED,
            delivery_started_at=None,
            last_error=INTERRUPTED,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)


def send_again(mail: OutboxMail) -> None:
    """Queue a failed mail for a new round of attempts (an organiser's decision; flushes)."""
    if mail.status != MailStatus.FAILED:
        raise DomainError(_("Nur fehlgeschlagene E-Mails können erneut gesendet werden."))
    if not mail.message and mail.render_data is None:
        raise DomainError(_("Der Text dieser E-Mail ist nicht mehr gespeichert."))
    mail.status = MailStatus.PENDING
    mail.attempts = 0
    mail.next_attempt_at = utcnow()
    mail.delivery_started_at = None
    db.session.flush()
    after_commit("deliver_mail", mail)


def due_count() -> int:
    """Return how many mails wait to be sent."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(OutboxMail.id)).where(OutboxMail.status == MailStatus.PENDING)
        )
        or 0
    )


def failed_mails(limit: int = 200) -> list[OutboxMail]:
    """Return the mails that finally failed, newest first."""
    return list(
        db.session.scalars(
            sa.select(OutboxMail)
            .options(selectinload(OutboxMail.campaign))
            .where(OutboxMail.status == MailStatus.FAILED)
            .order_by(OutboxMail.updated_at.desc(), OutboxMail.id.desc())
            .limit(limit)
        )
    )
