"""The mail organisers get when someone reports a barrier through the accessibility statement.

The request stores the message and puts one outbox row per organiser; the worker writes the
text from the stored message when it sends the mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from eventapp.extensions import db
from eventapp.models import AccessibilityFeedback, OutboxMail
from eventapp.services.mail import mime, outbox

KIND = "accessibility_feedback"


def queue(feedback: AccessibilityFeedback, addresses: Sequence[str]) -> None:
    """Put a mail about the stored feedback in the outbox for each address (flushed feedback)."""
    with force_locale("de"):  # the office works in German
        subject = _("Rückmeldung zur Barrierefreiheit (Nr. %(number)s)", number=feedback.id)
    for address in addresses:
        outbox.queue_for_rendering(address, subject, {"feedback_id": feedback.id}, kind=KIND)


def render(queued: OutboxMail) -> bytes | None:
    """Build the mail from the stored feedback (None when it has been deleted meanwhile)."""
    data = queued.render_data or {}
    feedback = db.session.get(AccessibilityFeedback, data.get("feedback_id") or 0)
    if feedback is None:
        return None
    with force_locale("de"):
        text = render_template("email/accessibility_feedback.txt", feedback=feedback)
    return mime.build_message(
        current_app.config["MAIL_FROM"], queued.recipient, queued.subject, text, None, []
    )


def register() -> None:
    """Let the worker render the feedback mails (called by create_app)."""
    outbox.register_renderer((KIND,), render)
