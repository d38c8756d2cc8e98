"""Badge desk: find a person, print a single badge, check them in."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from eventapp.extensions import db
from eventapp.models import Event, OrganiserRole
from eventapp.views.auth import role_required

bp = Blueprint("checkin", __name__, url_prefix="/organisation/einlass")


@bp.route("/")
@role_required(OrganiserRole.CHECKIN)
def home() -> ResponseReturnValue:
    """Start page of the badge desk."""
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_on.desc())).all()
    return render_template("checkin/home.html", events=events)
