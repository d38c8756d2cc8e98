"""Organiser login and logout, the role guard, and password links (forgotten, invited)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
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

from eventapp import login_throttle, reset_throttle
from eventapp.account_forms import ForgotPasswordForm, SetPasswordForm
from eventapp.database import write_unit
from eventapp.extensions import client_address, db
from eventapp.forms import LoginForm
from eventapp.models import AccountTokenPurpose, Organiser, OrganiserRole
from eventapp.queueing import after_commit
from eventapp.services import DomainError
from eventapp.services.accounts import links, team
from eventapp.services.accounts.passwords import MIN_PASSWORD_LENGTH
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
            return redirect(safe_next(request.args.get("next"), _start_page(organiser)))
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


def _start_page(organiser: Organiser) -> str:
    """Return where an organiser starts after logging in: planning, or the badge desk."""
    if organiser.can(OrganiserRole.STAFF):
        return url_for("organiser.dashboard")
    return url_for("checkin.home")


def too_many_reset_requests() -> ResponseReturnValue:
    """Answer 429 with a page saying how long to wait before asking for a link again."""
    from eventapp.views.errors import error_page

    minutes = max(math.ceil(reset_throttle.retry_after_seconds() / 60), 1)
    message = ngettext(
        "Für diese Adresse oder von Ihrem Anschluss wurden in kurzer Zeit zu viele neue "
        "Passwörter angefordert. Bitte versuchen Sie es in %(num)s Minute noch einmal; ein "
        "bereits geschickter Link gilt weiter.",
        "Für diese Adresse oder von Ihrem Anschluss wurden in kurzer Zeit zu viele neue "
        "Passwörter angefordert. Bitte versuchen Sie es in %(num)s Minuten noch einmal; ein "
        "bereits geschickter Link gilt weiter.",
        minutes,
    )
    headers = Headers({"Retry-After": str(reset_throttle.retry_after_seconds())})
    return error_page(429, _("Zu viele Anfragen"), message, headers)


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    """Ask for a new-password link; the answer is the same whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = form.email.data.lower()
        if not reset_throttle.allow(client_address(), email):
            return too_many_reset_requests()
        # The worker looks the address up: the same work here for known and unknown addresses.
        write_unit(lambda: after_commit("send_password_reset", email))
        return redirect(url_for("auth.reset_requested"))
    status = 400 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/passwort-vergessen/gesendet")
def reset_requested() -> ResponseReturnValue:
    """Say what happens next, without saying whether the address has an account."""
    minutes = int(current_app.config["PASSWORD_RESET_MINUTES"])
    return render_template("auth/reset_requested.html", minutes=minutes)


def _private(response: Response) -> Response:
    """Keep a page with a secret link in its address out of referrers and caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_invalid(state: links.LinkState, purpose: AccountTokenPurpose | None) -> Response:
    """Explain why a mailed link does not work any more, and what to do instead."""
    status = 404 if state == links.LinkState.UNKNOWN else 410
    page = render_template("auth/link_invalid.html", state=state, purpose=purpose)
    return _private(Response(page, status=status))


@bp.route("/passwort/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    """Set a password through an invitation or reset link (once), then log the person in."""
    found = links.check(token)
    if not found.usable or found.token is None:
        return _link_invalid(found.state, found.token.purpose if found.token else None)
    purpose = found.token.purpose
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            organiser = write_unit(lambda: _use_link(token, form.password.data))
        except links.LinkNotUsable as error:
            return _link_invalid(error.state, purpose)
        except DomainError as error:
            form.password.errors.append(error.message)
            status = 400
        else:
            start_fresh_session()
            login_user(organiser)
            flash(_("Ihr Passwort ist gespeichert. Sie sind angemeldet."), "success")
            return redirect(_start_page(organiser))
    elif form.errors:
        status = 400
    page = render_template(
        "auth/set_password.html",
        form=form,
        purpose=purpose,
        organiser=found.token.organiser,
        min_length=MIN_PASSWORD_LENGTH,
    )
    return _private(Response(page, status=status))


def _use_link(token: str, password: str) -> Organiser:
    """Set the password through the link, note the login and write the account log."""
    used = links.set_password_with(token, password)
    organiser = used.organiser
    organiser.last_login_at = utcnow()
    action = (
        "invitation_accepted" if used.purpose == AccountTokenPurpose.INVITE else "password_reset"
    )
    team.record(None, organiser, action, client_address())
    return organiser
