"""Public site: published events, their programme and activity pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from eventapp.extensions import db
from eventapp.models import Event

bp = Blueprint("public", __name__)


def published_event_or_404(slug: str) -> Event:
    """Return the published event with this slug, or answer 404."""
    event = db.session.scalar(sa.select(Event).where(Event.slug == slug, Event.published))
    if event is None:
        abort(404)
    return event


@bp.route("/")
def index() -> ResponseReturnValue:
    """List the published events, the next one first."""
    events = db.session.scalars(
        sa.select(Event).where(Event.published).order_by(Event.starts_on.desc())
    ).all()
    return render_template("public/index.html", events=events)


@bp.route("/<slug>/")
def event_page(slug: str) -> ResponseReturnValue:
    """Show an event's published programme."""
    event = published_event_or_404(slug)
    return render_template("public/event.html", event=event)
