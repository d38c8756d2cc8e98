"""`eventapp send-mail`: deliver the outbox (retries with growing pauses are kept in the table)."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from eventapp.extensions import db
from eventapp.models import MailStatus, OutboxMail
from eventapp.services.mail.outbox import deliver_pending


@click.command("send-mail")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    help="Most mails per round (each round ends with one short write).",
)
@click.option(
    "--watch", is_flag=True, help="Keep running and deliver new or retried mail every few seconds."
)
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def send_mail(limit: int, watch: bool, interval: float) -> None:
    """Deliver queued e-mails now (files under instance/mail or SMTP, as configured)."""
    while True:
        counts = deliver_pending(current_app.config, limit=limit)
        waiting = db.session.scalar(
            sa.select(sa.func.count(OutboxMail.id)).where(OutboxMail.status == MailStatus.PENDING)
        )
        db.session.commit()
        click.echo(
            f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}, "
            f"still pending {waiting}"
        )
        if sum(counts.values()) >= limit:
            continue  # a full round: more are due at once
        if not watch:
            return
        time.sleep(interval)
