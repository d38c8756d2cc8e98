"""Outbox: e-mails are written in the business transaction and delivered afterwards with retries."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context

from eventapp.database import read_only
from eventapp.extensions import db
from eventapp.models import Activity, MailStatus, OutboxMail, Registration
from eventapp.plain_text import printable
from eventapp.timezones import utcnow

log = logging.getLogger(__name__)

# How messages are written: classic MIME (fast to build), CRLF line ends as on the wire.
WIRE = compat32.clone(linesep="\r\n")

# A delivery that started but never finished is tried again after this long.
CLAIM_LEASE = timedelta(minutes=5)
# Waits after the 1st, 2nd, … failed attempt (the last one repeats).
BACKOFF = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
]


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[tuple[str, str, bytes]],
) -> bytes:
    """Return a complete MIME message (text, optional HTML, attachments) with CRLF line ends."""
    # Rows stored before the input check may hold characters no mail should carry.
    subject, text = printable(subject, multiline=False), printable(text)
    html = printable(html) if html else html
    body: MIMEBase = MIMEText(text, "plain", "utf-8")
    if html:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        alternative.attach(MIMEText(html, "html", "utf-8"))
        body = alternative
    message: MIMEBase = body
    if attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for filename, mime_type, payload in attachments:
            kind, *parameters = (piece.strip() for piece in mime_type.split(";"))
            maintype, _, subtype = kind.partition("/")
            part = MIMEApplication(payload, _subtype=subtype or "octet-stream")
            part.set_type(f"{maintype}/{subtype or 'octet-stream'}")
            if maintype == "text":  # our texts are UTF-8; say so, or clients guess Latin-1
                part.set_param("charset", "utf-8")
            for parameter in parameters:
                name, _, value = parameter.partition("=")
                part.set_param(name.strip(), value.strip().strip('"'))
            part.add_header("Content-Disposition", "attachment", filename=filename)
            message.attach(part)
    name, address = parseaddr(sender)
    message["From"] = formataddr((str(Header(name, "utf-8")), address)) if name else address
    message["To"] = recipient
    message["Subject"] = Header(subject, "utf-8").encode()
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    return message.as_bytes(policy=WIRE)


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
    """Write an e-mail to the outbox in the current transaction (delivered after commit)."""
    sender = current_app.config["MAIL_FROM"]
    message = build_message(sender, recipient, subject, text, html, attachments)
    return _add(recipient, subject, message, None, kind, registration, activity)


def queue_for_rendering(
    recipient: str,
    subject: str,
    render_data: dict[str, Any],
    *,
    kind: str,
    registration: Registration,
) -> OutboxMail:
    """Write a mail to the outbox now and render its text after commit, outside the transaction.

    The row is part of the business transaction, so the mail is never lost; the renderer
    registered for its kind builds the message from the registration and render_data.
    """
    return _add(recipient, subject, b"", render_data, kind, registration, None)


def _add(
    recipient: str,
    subject: str,
    message: bytes,
    render_data: dict[str, Any] | None,
    kind: str,
    registration: Registration | None,
    activity: Activity | None,
) -> OutboxMail:
    """Add one outbox row and remember its id for delivery after this request."""
    mail = OutboxMail(
        recipient=recipient,
        subject=subject[:300],
        message=message,
        render_data=render_data,
        kind=kind,
        registration_id=registration.id if registration is not None else None,
        activity_id=activity.id if activity is not None else None,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(mail)  # inserted with the next flush or the commit
    if has_app_context():
        g.setdefault("queued_mails", []).append(mail)
    return mail


def queued_in_this_context() -> list[int]:
    """Return the ids of the mails queued (and stored) during the current request or command."""
    if not has_app_context():
        return []
    identities = (sa.inspect(mail).identity for mail in g.get("queued_mails", []))
    return [identity[0] for identity in identities if identity is not None]


# Build the message of a mail queued for rendering (None: it can no longer be built).
Renderer = Callable[[OutboxMail], "bytes | None"]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that renders mails of one kind after commit."""

    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


# Loads what a batch of mails will need in a few queries; what it returns is kept while they
# are rendered (the session holds loaded objects only weakly).
Preloader = Callable[[Sequence[OutboxMail]], object]
PRELOADERS: list[Preloader] = []


def preloader(function: Preloader) -> Preloader:
    """Register a function that loads, for a whole batch at once, what its renderers read."""
    PRELOADERS.append(function)
    return function


def _render(mail: OutboxMail) -> bytes | None:
    """Build a deferred mail's message with its kind's renderer."""
    function = RENDERERS.get(mail.kind)
    return function(mail) if function is not None else None


@dataclass
class Outgoing:
    """One mail on its way out, detached from the session."""

    id: int
    recipient: str
    message: bytes
    attempts: int
    rendered: bool  # the message was built in this round and must be stored


def _outgoing(ids: Sequence[int]) -> list[Outgoing]:
    """Load mails (rendering the deferred ones) in a read transaction that holds no write lock."""
    if not ids:
        return []
    import eventapp.services.mail.registration_mail  # noqa: F401  (registers renderers, preloaders)

    db.session.commit()  # what came before is settled; the read below starts afresh
    with read_only():
        mails = db.session.scalars(
            sa.select(OutboxMail).where(OutboxMail.id.in_(list(ids))).order_by(OutboxMail.id)
        ).all()
        deferred = [mail for mail in mails if mail.render_data is not None]
        loaded = [load(deferred) for load in PRELOADERS] if deferred else []
        outgoing = []
        for mail in mails:
            rendered = mail.render_data is not None
            message = (_render(mail) or b"") if rendered else mail.message
            outgoing.append(Outgoing(mail.id, mail.recipient, message, mail.attempts, rendered))
        del loaded
        db.session.rollback()
    return outgoing


def render_queued(ids: Sequence[int], *, claim: bool) -> list[Outgoing]:
    """Render and store this request's deferred mails; with claim, lease all of them to send now."""
    outgoing = [o for o in _outgoing(ids) if claim or (o.rendered and o.message)]
    if not outgoing:
        return []
    now = utcnow()
    claimed: list[Outgoing] = []
    for item in outgoing:
        values: dict[str, Any] = {}
        conditions = [OutboxMail.id == item.id]
        if item.rendered and item.message:
            values |= {"message": item.message, "render_data": None}
            conditions.append(OutboxMail.render_data.is_not(None))
        if claim:
            values["next_attempt_at"] = now + CLAIM_LEASE
            conditions += [
                OutboxMail.status == MailStatus.PENDING,
                OutboxMail.next_attempt_at <= now,
            ]
        result = db.session.execute(
            sa.update(OutboxMail)
            .where(*conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(item)
    db.session.commit()
    return claimed if claim else []


class Transport:
    """Delivers raw messages through one backend: .eml files or an SMTP connection."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.backend = config["MAIL_BACKEND"]
        self.smtp: smtplib.SMTP | None = None

    def send(self, mail: OutboxMail | Outgoing) -> None:
        """Deliver one message or raise."""
        if self.backend == "file":
            folder = Path(self.config["MAIL_FILE_DIR"] or Path(current_app.instance_path) / "mail")
            folder.mkdir(parents=True, exist_ok=True)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S")
            (folder / f"{stamp}-{mail.id:06d}.eml").write_bytes(mail.message)
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


def _claim(config: Mapping[str, Any], limit: int, ids: Iterable[int] | None) -> list[int]:
    """Lease due mails for this process (one UPDATE) so no other worker sends them meanwhile."""
    now = utcnow()
    due = (
        sa.select(OutboxMail.id)
        .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now)
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(limit)
    )
    if ids is not None:
        due = due.where(OutboxMail.id.in_(list(ids)))
    claimed = db.session.scalars(
        sa.update(OutboxMail)
        .where(
            OutboxMail.id.in_(due.scalar_subquery()),
            OutboxMail.status == MailStatus.PENDING,
            OutboxMail.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .returning(OutboxMail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def deliver_pending(
    config: Mapping[str, Any], limit: int = 100, ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Send due mails (all, or only the given ids); failures wait with growing pauses."""
    if ids is None:  # the periodic run also mails change notices whose quiet time is over
        from eventapp.services.mail.change_notices import flush_change_notices

        flush_change_notices()
    return send_claimed(config, _outgoing(_claim(config, limit, ids)))


def send_claimed(config: Mapping[str, Any], outgoing: Sequence[Outgoing]) -> dict[str, int]:
    """Send mails leased by this process, holding no write lock while sending."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not outgoing:
        return counts
    outcomes: list[dict[str, Any]] = []
    transport = Transport(config)
    try:
        for item in outgoing:
            outcome = {
                "id": item.id,
                "attempts": item.attempts + 1,
                "message": item.message,
                "render_data": None,
                "status": MailStatus.SENT,
                "sent_at": None,
                "next_attempt_at": utcnow(),
                "last_error": "",
            }
            outcomes.append(outcome)
            try:
                if not item.message:
                    raise ValueError("the message can no longer be built")
                transport.send(item)
            except (smtplib.SMTPException, OSError, ValueError) as error:
                transport.close()
                outcome["last_error"] = f"{type(error).__name__}: {error}"[:2000]
                if outcome["attempts"] >= int(config["MAIL_MAX_ATTEMPTS"]) or not item.message:
                    outcome["status"] = MailStatus.FAILED
                    counts["failed"] += 1
                else:
                    pause = BACKOFF[min(outcome["attempts"], len(BACKOFF)) - 1]
                    outcome["status"] = MailStatus.PENDING
                    outcome["next_attempt_at"] = utcnow() + pause
                    counts["retry"] += 1
                log.warning("mail %s not delivered: %s", item.id, outcome["last_error"])
            else:
                outcome["sent_at"] = utcnow()
                counts["sent"] += 1
    finally:
        transport.close()
        if outcomes:  # one short write transaction for the whole round
            db.session.execute(sa.update(OutboxMail), outcomes)
        db.session.commit()
    return counts
