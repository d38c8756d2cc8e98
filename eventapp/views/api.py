"""Read-only JSON API at /api/v1 for the office's website and other tools."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from eventapp.extensions import csrf
from eventapp.models import ActivityKind, Event
from eventapp.openapi import openapi_document
from eventapp.request_numbers import whole_number
from eventapp.services.calendar import api as data
from eventapp.services.programme.published import (
    published_activity,
    published_event,
    published_events,
)
from eventapp.urls import api_url, public_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

DEFAULT_PER_PAGE = 50


class ApiError(Exception):
    """An answer with an HTTP status and a JSON error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> Response:
    """Return {"error": {"status": …, "message": …}} with the status code."""
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    return error_response(error.status, error.message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    response = error_response(error.code or 500, error.name)
    response.headers.extend((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
    return response


def published_event_or_json_404(slug: str) -> Event:
    """Return the published event or raise a JSON 404."""
    event = published_event(slug)
    if event is None:
        raise ApiError(404, "event not found")
    return event


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """Read a whole-number query parameter within bounds, else answer 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    return number


def paginated(items: list[dict[str, Any]], total: int, page: int, per_page: int) -> Response:
    """Wrap a page of items with counts and first/prev/next/last links."""
    pages = max(math.ceil(total / per_page), 1)
    # Query names of url_for's own (_anchor, _external, …) are no filters: leave them out.
    kept = {k: v for k, v in request.args.items() if k not in {"page", "per_page"}}
    filters = {k: v for k, v in kept.items() if not k.startswith("_")}
    route = request.view_args or {}

    def link(number: int) -> str:
        query = filters | {"page": str(number), "per_page": str(per_page)}
        return public_url(str(request.endpoint), **(query | route))

    links = {
        "self": link(page),
        "first": link(1),
        "last": link(pages),
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }
    body = {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "links": links,
    }
    response = jsonify(body)
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self"
    )
    return response


def page_args() -> tuple[int, int]:
    """Read page and per_page."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", DEFAULT_PER_PAGE, 1, data.MAX_PER_PAGE)
    return page, per_page


@bp.after_request
def no_cookies_cache(response: Response) -> Response:
    """Let anyone read the API from other sites; answers may be cached for a minute.

    Every answer carries an ETag of its body; a client sending it back in If-None-Match gets
    an empty 304 instead of the body again.
    """
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Cache-Control", "public, max-age=60")
    if response.status_code == 200 and request.method in {"GET", "HEAD"}:
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.route("")
def root() -> ResponseReturnValue:
    """Point to the API's collections and its description (the address its document names)."""
    return jsonify(
        {
            "links": {
                "events": api_url("events"),
                "networks": api_url("networks"),
                "openapi": api_url("openapi"),
            }
        }
    )


# The documentation page runs the vendored Redoc build; this policy keeps the browser from
# fetching anything from other sites (Redoc's sidebar links a logo on its CDN). Redoc writes its
# styles inline, so this one page allows inline styles; scripts stay our own files only.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@bp.route("/openapi.json")
def openapi() -> ResponseReturnValue:
    """Send the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document(api_url("root"), api_url("docs")))


@bp.route("/docs")
def docs() -> ResponseReturnValue:
    """Show the API's documentation, rendered in the browser from the OpenAPI document."""
    response = make_response(render_template("api/docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response


@bp.route("/events")
def events() -> ResponseReturnValue:
    """List published events."""
    return jsonify({"items": [data.event_data(e) for e in published_events()]})


@bp.route("/events/<slug>")
def event(slug: str) -> ResponseReturnValue:
    """Describe one published event."""
    return jsonify(data.event_data(published_event_or_json_404(slug)))


@bp.route("/events/<slug>/rooms")
def rooms(slug: str) -> ResponseReturnValue:
    """List an event's rooms."""
    found = published_event_or_json_404(slug)
    return jsonify({"items": [data.room_data(room) for room in found.rooms]})


@bp.route("/events/<slug>/activities")
def activities(slug: str) -> ResponseReturnValue:
    """List an event's published activities with free seats, page by page."""
    found = published_event_or_json_404(slug)
    kind = request.args.get("kind") or None
    if kind is not None and kind not in {k.value for k in ActivityKind}:
        raise ApiError(400, "unknown kind")
    page, per_page = page_args()
    items, total = data.page_of_activities(found, page, per_page, kind)
    return paginated([data.activity_data(a, found) for a in items], total, page, per_page)


@bp.route("/events/<slug>/activities/<id:activity_id>")
def activity(slug: str, activity_id: int) -> ResponseReturnValue:
    """Describe one published activity."""
    found = published_event_or_json_404(slug)
    item = published_activity(found, activity_id)
    if item is None:
        raise ApiError(404, "activity not found")
    return jsonify(data.activity_data(item, found))


@bp.route("/networks")
def networks() -> ResponseReturnValue:
    """List the skilled-labour networks, optionally of one federal state, page by page."""
    state = request.args.get("state") or None
    page, per_page = page_args()
    items, total = data.page_of_networks(page, per_page, state)
    return paginated([data.network_data(n) for n in items], total, page, per_page)


@bp.route("/<path:unknown>")
def not_found(unknown: str) -> ResponseReturnValue:
    """Answer unknown API paths with a JSON 404."""
    raise ApiError(404, "not found")
