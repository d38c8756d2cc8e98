"""`eventapp send-mail`: deliver what is due now, by hand (the worker does it on its own)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from eventapp.extensions import db
from eventapp.services.mail import change_notices, outbox


@click.command("send-mail")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    help="Most mails per round (each round ends with one short write).",
)
@with_appcontext
def send_mail(limit: int) -> None:
    """Deliver the mails that are due now (files under instance/mail or SMTP, as configured).

    Change notices whose quiet period is over are written first. The worker (`eventapp
    worker`, started by `make run` and `make serve`) does all of this by itself; this command
    is for an operator who wants it done at once.
    """
    change_notices.flush_change_notices()
    db.session.commit()
    totals = {"sent": 0, "retry": 0, "failed": 0}
    while True:
        counts = outbox.deliver(current_app.config, limit=limit)
        totals = {key: totals[key] + counts[key] for key in totals}
        if sum(counts.values()) < limit:
            break  # a full round means more are due at once
    waiting = outbox.due_count()
    db.session.commit()
    click.echo(
        f"sent {totals['sent']}, to retry {totals['retry']}, failed {totals['failed']}, "
        f"still pending {waiting}"
    )
