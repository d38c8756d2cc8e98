"""The mails an organiser account gets: an invitation and a password-reset link.

Their single-use link travels sealed in the outbox row (encrypted with the app's secret key),
the worker builds the text, and the sent mail's stored copy is emptied after delivery, so no
working link is ever stored in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from eventapp import urls
from eventapp.extensions import db
from eventapp.models import AccountTokenPurpose, Organiser, OutboxMail
from eventapp.services.accounts import links
from eventapp.services.mail import mime, outbox
from eventapp.services.registration.tokens import seal, unseal
from eventapp.timezones import utcnow

KINDS = ("account_invitation", "password_reset")


def _queue(organiser: Organiser, kind: str, subject: str, token: str, **extra: Any) -> None:
    """Put the mail in the outbox with its link token sealed; the worker writes the text."""
    data = {
        "organiser_id": organiser.id,
        "sealed_token": seal(token, current_app.config["SECRET_KEY"]),
    } | extra
    outbox.queue_for_rendering(organiser.email, subject, data, kind=kind)


def invitation(organiser: Organiser, token: str, *, invited_by: Organiser) -> None:
    """Invite a new team member to set a password (link valid 48 hours)."""
    with force_locale("de"):  # the office works in German
        subject = _("Einladung zum Organisationsbereich")
    _queue(
        organiser,
        "account_invitation",
        subject,
        token,
        invited_by=invited_by.name or invited_by.email,
        expires_at=(utcnow() + links.INVITATION_VALID).isoformat(),
    )


def password_reset(organiser: Organiser, token: str) -> None:
    """Send a link to set a new password (valid PASSWORD_RESET_MINUTES)."""
    with force_locale("de"):
        subject = _("Neues Passwort für den Organisationsbereich")
    _queue(
        organiser,
        "password_reset",
        subject,
        token,
        expires_at=(utcnow() + links.reset_valid()).isoformat(),
    )


def render(queued: OutboxMail) -> bytes | None:
    """Build an account mail now (None when the account is gone or the key has changed)."""
    data = queued.render_data or {}
    organiser = db.session.get(Organiser, data.get("organiser_id") or 0)
    token = unseal(data.get("sealed_token", ""), current_app.config["SECRET_KEY"])
    if organiser is None or token is None:
        return None
    purpose = (
        AccountTokenPurpose.INVITE
        if queued.kind == "account_invitation"
        else AccountTokenPurpose.RESET
    )
    with force_locale("de"), urls.from_public_base():
        text = render_template(
            f"email/{queued.kind}.txt",
            organiser=organiser,
            link=urls.password_link_url(token),
            login_url=urls.login_url(),
            invited_by=data.get("invited_by", ""),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
            purpose=purpose,
        )
    return mime.build_message(
        current_app.config["MAIL_FROM"], queued.recipient, queued.subject, text, None, []
    )


def register() -> None:
    """Let the worker render the account mails (called by create_app)."""
    outbox.register_renderer(KINDS, render)
