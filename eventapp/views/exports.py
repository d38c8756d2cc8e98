"""Calendar feeds and schedule exports, answered with ETag/Last-Modified and cheap 304s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta
from werkzeug.http import http_date, quote_etag

from eventapp import page_cache, page_lane, urls
from eventapp.extensions import db
from eventapp.languages import visitor_language
from eventapp.models import Activity, Event, OrganiserRole
from eventapp.services.calendar import frab as schedule_export
from eventapp.services.calendar import ical
from eventapp.services.mail import change_notices
from eventapp.services.programme.published import published_event_stamp
from eventapp.views.auth import role_required
from eventapp.views.lookups import published_event_or_404

bp = Blueprint("exports", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"
# Calendar clients poll; let them and shared caches reuse an answer for a few minutes.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


def feed_language() -> str:
    """Pick the language of a feed: ?lang=, else the visitor's language (German by default)."""
    requested = request.args.get("lang", "")
    if requested in current_app.config["LANGUAGES"]:
        return requested
    return visitor_language()


def is_not_modified(etag: str, last_modified: datetime) -> bool:
    """Tell whether the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    environ = request.environ
    if "HTTP_IF_NONE_MATCH" not in environ and "HTTP_IF_MODIFIED_SINCE" not in environ:
        return False
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and last_modified.replace(microsecond=0) <= since


def conditional(
    version: tuple[str, datetime],
    build: Callable[[], bytes],
    mimetype: str,
    filename: str,
    cache_control: str = PUBLIC_CACHE,
) -> Response:
    """Answer 304 when the client's copy is current, else build the body and send it."""
    etag, last_modified = version
    headers = [
        ("ETag", quote_etag(etag)),
        ("Last-Modified", http_date(last_modified)),
        ("Cache-Control", cache_control),
        ("Vary", "Cookie"),
    ]
    if is_not_modified(etag, last_modified):
        return Response(status=304, headers=headers)
    # A public feed is the same for everyone with this ETag who asks at this address (its
    # links name the address): build it once per version and address.
    shared = cache_control == PUBLIC_CACHE
    database = current_app.config["SQLALCHEMY_DATABASE_URI"]
    key = ("feed", database, urls.site_url(), etag)
    body = page_cache.remember(key, build) if shared else build()
    if shared:
        page_lane.allow_replay()
    headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    return Response(body, content_type=mimetype, headers=headers)


@bp.route("/<slug>/programm.ics")
def programme_feed(slug: str) -> ResponseReturnValue:
    """Send the published programme as an iCal feed (?pausen=0 leaves the breaks out)."""
    stamp = published_event_stamp(slug)
    if stamp is None:
        abort(404)
    include_breaks = request.args.get("pausen", "1") not in {"0", "nein", "no", "false"}
    lang = feed_language()
    version = ical.feed_version(stamp.feed, f"ics:{include_breaks}:{lang}")
    return conditional(
        version,
        lambda: ical.programme_ics(published_event_or_404(slug), include_breaks, lang),
        CALENDAR_TYPE,
        f"{slug}-programm.ics",
    )


@bp.route("/<slug>/programm/<id:activity_id>.ics")
def activity_feed(slug: str, activity_id: int) -> ResponseReturnValue:
    """Send one published activity as an iCal file."""
    event = published_event_or_404(slug)
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.event_id != event.id or not activity.published:
        abort(404)
    lang = feed_language()
    return conditional(
        ical.activity_version(activity, f"ics:{lang}"),
        lambda: ical.activity_ics(activity, lang),
        CALENDAR_TYPE,
        f"{event.slug}-{activity.id}.ics",
    )


@bp.route("/<slug>/kalender/<token>.ics")
def personal_feed(slug: str, token: str) -> ResponseReturnValue:
    """Send a person's own plan, reached with the read-only calendar token."""
    event = published_event_or_404(slug)
    registration = ical.registration_by_calendar_token(event, token)
    if registration is None:
        abort(404)
    response = conditional(
        ical.registration_version(registration, "ics"),
        lambda: ical.registration_ics(registration),
        CALENDAR_TYPE,
        f"{event.slug}-mein-programm.ics",
        PRIVATE_CACHE,
    )
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/<slug>/schedule.xml")
def frab_xml(slug: str) -> ResponseReturnValue:
    """Send the published programme as frab schedule XML."""
    event = published_event_or_404(slug)
    return conditional(
        ical.programme_version(event, "frab-xml"),
        lambda: schedule_export.schedule_xml(event),
        "application/xml; charset=utf-8",
        f"{event.slug}-schedule.xml",
    )


@bp.route("/<slug>/schedule.json")
def frab_json(slug: str) -> ResponseReturnValue:
    """Send the published programme as frab schedule JSON."""
    event = published_event_or_404(slug)
    return conditional(
        ical.programme_version(event, "frab-json"),
        lambda: schedule_export.schedule_json(event),
        "application/json",
        f"{event.slug}-schedule.json",
    )


@bp.route("/organisation/veranstaltungen/<id:event_id>/aenderungsmitteilungen")
@role_required(OrganiserRole.STAFF)
def change_notice_log(event_id: int) -> ResponseReturnValue:
    """Show per activity which participants were told about a change, and when."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    notices = change_notices.notices_for_event(event)
    quiet_period = format_timedelta(change_notices.quiet_period(), threshold=1)
    return render_template(
        "organiser/change_notices.html", event=event, notices=notices, quiet_period=quiet_period
    )


def feed_links(download: str) -> dict[str, str]:
    """Return the download (http/https) and subscribe (webcal://) addresses of a feed."""
    return {"download": download, "subscribe": urls.webcal_url(download)}


@bp.app_context_processor
def calendar_link_helpers() -> dict[str, Any]:
    """Give templates the feed addresses of an event, an activity and a personal plan."""

    def programme(event: Event, breaks: bool = True) -> dict[str, str]:
        return feed_links(urls.programme_feed_url(event, breaks))

    def activity(event: Event, activity: Activity) -> dict[str, str]:
        return feed_links(urls.activity_feed_url(activity))

    def personal(event: Event, calendar_token: str) -> dict[str, str]:
        return feed_links(urls.personal_feed_url(event, calendar_token))

    def schedule(event: Event) -> dict[str, str]:
        return {"xml": urls.schedule_url(event, "xml"), "json": urls.schedule_url(event, "json")}

    return {
        "programme_feed": programme,
        "activity_feed": activity,
        "personal_feed": personal,
        "schedule_exports": schedule,
    }
