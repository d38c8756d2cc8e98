"""Organiser page for the outbox: mails that finally failed, with their reason, sent again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from eventapp.database import write_unit
from eventapp.extensions import db
from eventapp.models import OrganiserRole, OutboxMail
from eventapp.services import DomainError
from eventapp.services.mail import outbox
from eventapp.views.auth import role_required

bp = Blueprint("mail", __name__, url_prefix="/organisation/e-mails")


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def index() -> ResponseReturnValue:
    """List the mails that could not be delivered, and how many are on their way."""
    return render_template(
        "mail/index.html", failed=outbox.failed_mails(), waiting=outbox.due_count()
    )


@bp.route("/<id:mail_id>/erneut-senden", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def send_again(mail_id: int) -> ResponseReturnValue:
    """Give a failed mail a new round of attempts."""
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None:
        abort(404)
    try:
        write_unit(lambda: outbox.send_again(mail))
    except DomainError as error:
        flash(error.message, "error")
    else:
        message = _("Die E-Mail an %(address)s wird erneut gesendet.", address=mail.recipient)
        flash(message, "success")
    return redirect(url_for("mail.index"))
