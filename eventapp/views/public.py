"""Public site: published events, their programme and activity pages."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from eventapp import page_cache
from eventapp.extensions import db
from eventapp.languages import visitor_language
from eventapp.models import ActivityKind, Event, Room
from eventapp.services.programme.published import (
    published_activities,
    published_activity,
    published_event_stamp,
    published_events,
)
from eventapp.services.programme.scheduling import programme_days
from eventapp.services.registration.registrations import (
    registration_window_state as window_state,
)
from eventapp.views.lookups import published_event_or_404

bp = Blueprint("public", __name__)


@bp.route("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Clients that ask for the icon at its old place get the one every page names."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/")
def index() -> ResponseReturnValue:
    """List the published events, the latest first."""
    return render_template("public/index.html", events=published_events())


@bp.route("/<slug>/")
def event_page(slug: str) -> ResponseReturnValue:
    """Show an event's published programme by time and room."""
    stamp = published_event_stamp(slug)
    if stamp is None:
        abort(404)
    key = ("event-page", stamp.pages, window_state(stamp), visitor_language())
    return page_cache.conditional_page(key, lambda: render_event_page(published_event_or_404(slug)))


def render_event_page(event: Event) -> str:
    """Render the event's timetable page."""
    rooms = db.session.scalars(
        sa.select(Room).where(Room.event_id == event.id).order_by(Room.position, Room.name)
    ).all()
    activities = published_activities(event)
    used = {a.room_id for a in activities}
    columns = [room for room in rooms if room.id in used]
    return render_template(
        "public/event.html",
        event=event,
        rooms=columns,
        room_columns={room.id: index for index, room in enumerate(columns)},
        days=programme_days(event, activities),
    )


@bp.route("/<slug>/programm/<id:activity_id>")
def activity_page(slug: str, activity_id: int) -> ResponseReturnValue:
    """Show one published activity with its time, room, people and free seats."""
    stamp = published_event_stamp(slug)
    if stamp is None:
        abort(404)
    key = ("activity-page", activity_id, stamp.pages, window_state(stamp), visitor_language())

    def render() -> str:
        event = published_event_or_404(slug)
        activity = published_activity(event, activity_id)
        if activity is None:
            abort(404)
        return render_template("public/activity.html", event=event, activity=activity)

    return page_cache.conditional_page(key, render)


@cache
def kind_stylesheet() -> str:
    """Write each activity kind's colours as custom properties of its kind-<value> class."""
    return "".join(
        f".kind-{kind.value} {{ --kind-colour: {kind.colour}; --kind-tint: {kind.tint}; }}\n"
        for kind in ActivityKind
    )


@bp.route("/css/activity-kinds.css")
def kind_styles() -> ResponseReturnValue:
    """Serve the activity kinds' colours for the timetable and programme stylesheets."""
    response = Response(kind_stylesheet(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    response.add_etag()
    return response.make_conditional(request)
