"""Outbox: e-mails are written in the business transaction and delivered afterwards with retries."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
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

from eventapp.extensions import db
from eventapp.models import Activity, MailStatus, OutboxMail, Registration
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
            maintype, _, subtype = mime_type.partition("/")
            part = MIMEApplication(payload, _subtype=subtype or "octet-stream")
            part.set_type(f"{maintype}/{subtype or 'octet-stream'}")
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
    mail = OutboxMail(
        recipient=recipient,
        subject=subject[:300],
        message=message,
        kind=kind,
        registration_id=registration.id if registration is not None else None,
        activity_id=activity.id if activity is not None else None,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(mail)
    db.session.flush()
    if has_app_context():
        g.setdefault("queued_mail_ids", []).append(mail.id)
    return mail


def queued_in_this_context() -> list[int]:
    """Return the ids of the mails queued during the current request or command."""
    return list(g.get("queued_mail_ids", [])) if has_app_context() else []


class Transport:
    """Delivers raw messages through one backend: .eml files or an SMTP connection."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.backend = config["MAIL_BACKEND"]
        self.smtp: smtplib.SMTP | None = None

    def send(self, mail: OutboxMail) -> None:
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
        from eventapp.services.change_notices import flush_change_notices

        flush_change_notices()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    claimed = _claim(config, limit, ids)
    if not claimed:
        return counts
    mails = db.session.scalars(
        sa.select(OutboxMail).where(OutboxMail.id.in_(claimed)).order_by(OutboxMail.id)
    ).all()
    transport = Transport(config)
    try:
        for mail in mails:
            mail.attempts += 1
            try:
                transport.send(mail)
            except (smtplib.SMTPException, OSError, ValueError) as error:
                transport.close()
                mail.last_error = f"{type(error).__name__}: {error}"[:2000]
                if mail.attempts >= int(config["MAIL_MAX_ATTEMPTS"]):
                    mail.status = MailStatus.FAILED
                    counts["failed"] += 1
                else:
                    pause = BACKOFF[min(mail.attempts, len(BACKOFF)) - 1]
                    mail.next_attempt_at = utcnow() + pause
                    counts["retry"] += 1
                log.warning("mail %s not delivered: %s", mail.id, mail.last_error)
            else:
                mail.status = MailStatus.SENT
                mail.sent_at = utcnow()
                mail.last_error = ""
                counts["sent"] += 1
    finally:
        transport.close()
        db.session.commit()
    return counts
