"""Organiser login and logout, and the role guard for organiser pages."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.datastructures import Headers

from eventapp import login_throttle
from eventapp.database import write_unit
from eventapp.extensions import client_address, db
from eventapp.forms import LoginForm
from eventapp.models import Organiser, OrganiserRole
from eventapp.timezones import utcnow
from eventapp.views.template_helpers import safe_next

bp = Blueprint("auth", __name__, url_prefix="/organisation")

F = TypeVar("F", bound=Callable[..., Any])


def role_required(role: OrganiserRole) -> Callable[[F], F]:
    """Allow the view only to logged-in organisers holding at least the given role."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def start_fresh_session() -> None:
    """Drop everything a session held before login (its form token too), keeping the language.

    A session cookie planted before login (session fixation) then carries no token that is
    valid afterwards.
    """
    language = session.get("lang")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if language:
        session["lang"] = language


def too_many_attempts() -> ResponseReturnValue:
    """Answer 429 with a page saying how long to wait."""
    from eventapp.views.errors import error_page  # errors -> api -> exports import this module

    wait = login_throttle.retry_after_seconds()
    minutes = max(math.ceil(wait / 60), 1)
    title, message = (
        _("Zu viele Versuche"),
        ngettext(
            "Nach mehreren falschen Anmeldeversuchen ist die Anmeldung kurz gesperrt. Bitte "
            "versuchen Sie es in %(num)s Minute noch einmal.",
            "Nach mehreren falschen Anmeldeversuchen ist die Anmeldung kurz gesperrt. Bitte "
            "versuchen Sie es in %(num)s Minuten noch einmal.",
            minutes,
        ),
    )
    return error_page(429, title, message, Headers({"Retry-After": str(wait)}))


@bp.route("/anmelden", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the login form and log an organiser in (failed attempts are limited)."""
    if current_user.is_authenticated:
        return redirect(url_for("organiser.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = client_address()
        if login_throttle.is_blocked(address, email):
            return too_many_attempts()
        organiser = db.session.scalar(sa.select(Organiser).where(Organiser.email == email))
        if organiser and organiser.active and organiser.check_password(form.password.data):
            write_unit(lambda: _record_login(organiser))
            start_fresh_session()
            login_user(organiser)
            flash(_("Sie sind angemeldet."), "success")
            fallback = (
                url_for("organiser.dashboard")
                if organiser.can(OrganiserRole.STAFF)
                else url_for("checkin.home")
            )
            return redirect(safe_next(request.args.get("next"), fallback))
        login_throttle.record_failure(address, email)
        form.password.errors.append(_("E-Mail-Adresse oder Passwort ist falsch."))
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    """End the session everywhere: the stored nonce changes, so copied cookies stop working."""
    organiser = current_user._get_current_object()
    write_unit(lambda: _end_sessions(organiser))
    logout_user()
    session.clear()
    flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("public.index"))


def _record_login(organiser: Organiser) -> None:
    """Note when the organiser last logged in."""
    organiser.last_login_at = utcnow()


def _end_sessions(organiser: Organiser) -> None:
    """Change the session nonce, so every copy of the organiser's session cookie stops working."""
    organiser.session_nonce = uuid.uuid4().hex
