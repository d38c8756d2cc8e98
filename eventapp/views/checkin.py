"""Badge desk: find a person, print a single badge, check them in."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from eventapp.extensions import db
from eventapp.models import Event, OrganiserRole
from eventapp.printing_forms import DeskSearchForm, SingleBadgeForm
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.checkin import desk as badge_desk
from eventapp.services.printing import badge_rendering, badges, calibration
from eventapp.services.printing.badge_layouts import LAYOUTS
from eventapp.timezones import utcnow
from eventapp.views.auth import role_required

bp = Blueprint("checkin", __name__, url_prefix="/organisation/einlass")


def event_or_404(event_id: int) -> Event:
    """Return the event with this id, or answer 404."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    return event


@bp.route("/")
@role_required(OrganiserRole.CHECKIN)
def home() -> ResponseReturnValue:
    """Start page of the badge desk: choose the event."""
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_on.desc())).all()
    return render_template("checkin/home.html", events=events)


@bp.route("/<id:event_id>/")
@role_required(OrganiserRole.CHECKIN)
def desk(event_id: int) -> ResponseReturnValue:
    """Search by name, organisation or check-in code and list the matches."""
    event = event_or_404(event_id)
    form = DeskSearchForm(request.args)
    found = badge_desk.search(event, form.q.data or "") if form.validate() else []
    return render_template(
        "checkin/desk.html",
        event=event,
        form=form,
        found=found,
        searched=bool(form.q.data),
        badge_form=SingleBadgeForm(),
    )


def _back(event: Event) -> ResponseReturnValue:
    return redirect(url_for("checkin.desk", event_id=event.id, q=request.form.get("q", "")))


@bp.route("/<id:event_id>/schild", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def print_badge(event_id: int) -> ResponseReturnValue:
    """Print one badge (A6 or ID-1) as PDF and mark it printed."""
    event = event_or_404(event_id)
    form = SingleBadgeForm()
    if not form.validate_on_submit():
        flash(_("Bitte wählen Sie ein Format."), "error")
        return _back(event)
    try:
        registration = badge_desk.registration_of_event(event, form.registration_id.data)
        pdf = badge_rendering.render_badges(
            event,
            [registration],
            LAYOUTS[form.layout.data],
            calibration.offset_for(event, form.layout.data),
            processes=1,
        )
    except DomainError as error:
        flash(error.message, "error")
        return _back(event)
    badges.mark_printed([registration], utcnow())
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="badge-{registration.checkin_code}.pdf"'
    )
    return response


@bp.route("/<id:event_id>/einchecken", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def check_in(event_id: int) -> ResponseReturnValue:
    """Mark a person as arrived (or take it back)."""
    event = event_or_404(event_id)
    registration_id = whole_number(request.form.get("registration_id"))
    if registration_id is None:
        abort(400)
    try:
        registration = badge_desk.registration_of_event(event, registration_id)
        if request.form.get("undo"):
            badge_desk.undo_check_in(registration)
            message = _("Einlass für %(name)s zurückgenommen.", name=registration.full_name)
        elif badge_desk.check_in(registration, utcnow()):
            message = _("%(name)s ist eingecheckt.", name=registration.full_name)
        else:
            message = _("%(name)s war schon eingecheckt.", name=registration.full_name)
    except DomainError as error:
        flash(error.message, "error")
        return _back(event)
    db.session.commit()
    flash(message, "success")
    return _back(event)
