"""Mail queued by a request: rendered after its commit, then sent in the background."""

from __future__ import annotations

import logging
import threading

from flask import Response, current_app

from eventapp.extensions import db
from eventapp.services.mail import outbox as mail

log = logging.getLogger(__name__)


def deliver_mail_after_commit(response: Response) -> Response:
    """Render the mails this request queued (and committed), then send them in the background.

    Rendering runs here, after the business transaction, so it never holds the write lock.
    Without MAIL_SEND_AFTER_COMMIT the delivery process (`eventapp send-mail --watch`) renders
    and sends them instead.
    """
    ids = mail.queued_in_this_context()
    if not ids or response.status_code >= 400 or not current_app.config["MAIL_SEND_AFTER_COMMIT"]:
        return response
    try:
        claimed = mail.render_queued(ids, claim=True)
    except Exception:  # the mail stays in the outbox for `eventapp send-mail`
        log.exception("rendering mail after the request failed")
        db.session.rollback()
        return response
    if not claimed:
        return response
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def deliver() -> None:
        with app.app_context():
            try:
                mail.send_claimed(app.config, claimed)
            except Exception:  # the lease runs out and `eventapp send-mail` sends it
                log.exception("delivering mail after the request failed")
                db.session.rollback()

    threading.Thread(target=deliver, name="mail-after-commit", daemon=True).start()
    return response
