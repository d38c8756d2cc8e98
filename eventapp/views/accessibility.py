"""The accessibility statement with its feedback form, and registration in Leichte Sprache."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from eventapp.database import write_unit
from eventapp.extensions import limiter
from eventapp.forms import AccessibilityFeedbackForm
from eventapp.services.accessibility import feedback as service
from eventapp.views.public import published_event_or_404

bp = Blueprint("accessibility", __name__)

# When the statement was last reviewed (BITV 2.0 asks for the date); change it with the text.
STATEMENT_DATE = date(2026, 11, 28)


def _feedback_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/barrierefreiheit", methods=["GET", "POST"])
@limiter.limit(_feedback_limit, methods=["POST"])
def statement() -> ResponseReturnValue:
    """Show the accessibility statement and take a message about a barrier."""
    form = AccessibilityFeedbackForm()
    if form.validate_on_submit():
        message, page = form.message.data, form.page.data or ""
        name, email = form.name.data or "", form.email.data or ""
        language = str(get_locale() or "de")
        write_unit(
            lambda: service.submit_feedback(
                message, page=page, name=name, email=email, language=language
            )
        )
        flash(
            _(
                "Vielen Dank. Ihre Nachricht ist angekommen und wurde an das Organisationsteam "
                "weitergeleitet."
            ),
            "success",
        )
        return redirect(url_for("accessibility.statement") + "#feedback")
    status = 400 if form.errors else 200
    return render_template(
        "accessibility/statement.html",
        form=form,
        contact=service.statement_contact(),
        statement_date=STATEMENT_DATE,
    ), status


@bp.route("/<slug>/leichte-sprache")
def easy_registration(slug: str) -> ResponseReturnValue:
    """Explain in Leichte Sprache how to register for the event."""
    event = published_event_or_404(slug)
    return render_template("accessibility/easy_registration.html", event=event)
