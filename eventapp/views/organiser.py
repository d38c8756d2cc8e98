"""Organiser area: events, rooms, activities, timetable, registrations, printing."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from eventapp.extensions import db
from eventapp.models import Event, OrganiserRole
from eventapp.views.auth import role_required

bp = Blueprint("organiser", __name__, url_prefix="/organisation")


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def dashboard() -> ResponseReturnValue:
    """List all events with links to plan them."""
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_on.desc())).all()
    return render_template("organiser/dashboard.html", events=events)
