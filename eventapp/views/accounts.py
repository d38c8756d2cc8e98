"""Admin pages for the team's accounts: list, invite, role, deactivate, invitations."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from eventapp.account_forms import InviteForm, RoleForm
from eventapp.database import write_unit
from eventapp.extensions import client_address, db
from eventapp.labels import ORGANISER_ROLE_LABELS
from eventapp.models import Organiser, OrganiserRole
from eventapp.services import DomainError
from eventapp.services.accounts import team
from eventapp.views.auth import role_required

bp = Blueprint("accounts", __name__, url_prefix="/organisation/konten")


def _admin() -> Organiser:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def account_or_404(account_id: int) -> Organiser:
    """Return the account with this id, or answer 404."""
    organiser = db.session.get(Organiser, account_id)
    if organiser is None:
        abort(404)
    return organiser


@bp.route("/")
@role_required(OrganiserRole.ADMIN)
def index() -> ResponseReturnValue:
    """List every account with its role and state, and the latest changes to accounts."""
    return render_template(
        "accounts/index.html",
        rows=team.account_rows(),
        log=team.recent_log(),
        log_limit=team.LOG_PAGE_SIZE,
        zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
    )


@bp.route("/einladen", methods=["GET", "POST"])
@role_required(OrganiserRole.ADMIN)
def invite() -> ResponseReturnValue:
    """Invite someone by e-mail: the account is made, the mail carries a link to set a password."""
    form = InviteForm()
    if form.validate_on_submit():
        role = OrganiserRole(form.role.data)
        try:
            organiser = write_unit(
                lambda: team.invite(
                    _admin(), form.email.data, form.name.data, role, client_address()
                )
            )
        except DomainError as error:
            form.email.errors.append(error.message)
        else:
            flash(
                _(
                    "Die Einladung an %(address)s ist unterwegs. Der Link darin gilt 48 Stunden.",
                    address=organiser.email,
                ),
                "success",
            )
            return redirect(url_for("accounts.index"))
    status = 400 if form.errors else 200
    return render_template("accounts/invite.html", form=form), status


def _account_page(
    organiser: Organiser, role_form: RoleForm, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "accounts/account.html",
            row=team.account_row(organiser),
            role_form=role_form,
            is_self=organiser.id == _admin().id,
            zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        ),
        status,
    )


@bp.route("/<id:account_id>")
@role_required(OrganiserRole.ADMIN)
def account(account_id: int) -> ResponseReturnValue:
    """Show one account: its state, its role, what can be done with it."""
    organiser = account_or_404(account_id)
    return _account_page(organiser, RoleForm(role=organiser.role.value))


@bp.route("/<id:account_id>/rolle", methods=["POST"])
@role_required(OrganiserRole.ADMIN)
def change_role(account_id: int) -> ResponseReturnValue:
    """Give the account another role; it applies from the account's next click."""
    organiser = account_or_404(account_id)
    form = RoleForm()
    if not form.validate():
        return _account_page(organiser, form, 400)
    role = OrganiserRole(form.role.data)
    try:
        changed = write_unit(lambda: team.change_role(_admin(), organiser, role, client_address()))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account", account_id=organiser.id))
    if changed:
        flash(
            _(
                "%(address)s hat jetzt die Rolle „%(role)s“.",
                address=organiser.email,
                role=ORGANISER_ROLE_LABELS[role],
            ),
            "success",
        )
    return redirect(url_for("accounts.account", account_id=organiser.id))


def _act(
    organiser: Organiser, work: Callable[[], object], done: str, target: str | None = None
) -> ResponseReturnValue:
    """Run one change on the account, flash its outcome, and go back to the account page."""
    try:
        write_unit(work)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account", account_id=organiser.id))
    flash(done, "success")
    return redirect(target or url_for("accounts.account", account_id=organiser.id))


@bp.route("/<id:account_id>/deaktivieren", methods=["GET", "POST"])
@role_required(OrganiserRole.ADMIN)
def deactivate(account_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then lock the account out (its sessions end at once)."""
    organiser = account_or_404(account_id)
    if not organiser.active:
        return redirect(url_for("accounts.account", account_id=organiser.id))
    if request.method in {"GET", "HEAD"}:
        return render_template(
            "accounts/deactivate.html", organiser=organiser, is_self=organiser.id == _admin().id
        )
    return _act(
        organiser,
        lambda: team.deactivate(_admin(), organiser, client_address()),
        _("Das Konto %(address)s ist deaktiviert.", address=organiser.email),
    )


@bp.route("/<id:account_id>/reaktivieren", methods=["POST"])
@role_required(OrganiserRole.ADMIN)
def reactivate(account_id: int) -> ResponseReturnValue:
    """Let a deactivated account log in again."""
    organiser = account_or_404(account_id)
    return _act(
        organiser,
        lambda: team.reactivate(_admin(), organiser, client_address()),
        _("Das Konto %(address)s ist wieder aktiv.", address=organiser.email),
    )


@bp.route("/<id:account_id>/einladung-erneut", methods=["POST"])
@role_required(OrganiserRole.ADMIN)
def resend_invitation(account_id: int) -> ResponseReturnValue:
    """Mail a fresh invitation link; the earlier one stops working."""
    organiser = account_or_404(account_id)
    return _act(
        organiser,
        lambda: team.resend_invitation(_admin(), organiser, client_address()),
        _(
            "Eine neue Einladung an %(address)s ist unterwegs; der frühere Link gilt nicht mehr.",
            address=organiser.email,
        ),
    )


@bp.route("/<id:account_id>/einladung-zurueckziehen", methods=["POST"])
@role_required(OrganiserRole.ADMIN)
def revoke_invitation(account_id: int) -> ResponseReturnValue:
    """Take back an invitation that was not accepted: the unused account is removed."""
    organiser = account_or_404(account_id)
    email = organiser.email
    return _act(
        organiser,
        lambda: team.revoke_invitation(_admin(), organiser, client_address()),
        _("Die Einladung an %(address)s ist zurückgezogen.", address=email),
        url_for("accounts.index"),
    )
