"""Public addresses of the site: the only place a link is built, always from the route table.

Inside a request a link carries the host the visitor used (behind a proxy, the one the proxy
reports); outside a request (worker, command line) and in mails, which are read away from any
request, it starts with PUBLIC_BASE_URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

if TYPE_CHECKING:
    from werkzeug.routing import MapAdapter

    from eventapp.models import Activity, Event

# Set while a mail is written: its links start with PUBLIC_BASE_URL even inside a request.
_public_base_only: ContextVar[bool] = ContextVar("public_base_only", default=False)


@contextmanager
def from_public_base() -> Iterator[None]:
    """Build every link in this block from PUBLIC_BASE_URL (for mails and stored documents)."""
    token = _public_base_only.set(True)
    try:
        yield
    finally:
        _public_base_only.reset(token)


def public_url(endpoint: str, **values: Any) -> str:
    """Return the absolute address of a route; values that are no route part become the query."""
    if has_request_context() and not _public_base_only.get():
        return url_for(endpoint, _external=True, **values)
    return _configured_url(endpoint, values)


def _configured_url(endpoint: str, values: dict[str, Any]) -> str:
    """Build a route's address under PUBLIC_BASE_URL's scheme, host and path (no SERVER_NAME)."""
    app = current_app
    values = dict(values)
    app.inject_url_defaults(endpoint, values)
    return _public_routes(app.config["PUBLIC_BASE_URL"]).build(
        endpoint, values, force_external=True
    )


def _public_routes(base_url: str) -> MapAdapter:
    """Return the app's routes bound to an address (bound once per app and address)."""
    bound: dict[str, MapAdapter] = current_app.extensions.setdefault("public_routes", {})
    adapter = bound.get(base_url)
    if adapter is None:
        base = urlsplit(base_url)
        adapter = current_app.url_map.bind(
            base.netloc,
            script_name=base.path.rstrip("/") or "/",
            url_scheme=base.scheme or "http",
        )
        bound[base_url] = adapter
    return adapter


def site_url() -> str:
    """Return the address of the site's start page, ending in a slash."""
    return public_url("public.index")


def webcal_url(url: str) -> str:
    """Return the webcal:// form of an http(s) feed address, which calendar apps subscribe to."""
    _scheme, separator, rest = url.partition("://")
    return f"webcal://{rest}" if separator else url


def event_url(event: Event) -> str:
    """Return the address of an event's programme page."""
    return public_url("public.event_page", slug=event.slug)


def activity_url(activity: Activity) -> str:
    """Return the address of an activity's page."""
    return public_url("public.activity_page", slug=activity.event.slug, activity_id=activity.id)


def programme_feed_url(event: Event, include_breaks: bool = True) -> str:
    """Return the address of an event's iCal feed (without the breaks if asked)."""
    return public_url(
        "exports.programme_feed", slug=event.slug, pausen=None if include_breaks else "0"
    )


def activity_feed_url(activity: Activity) -> str:
    """Return the address of one activity's iCal file."""
    return public_url("exports.activity_feed", slug=activity.event.slug, activity_id=activity.id)


def personal_feed_url(event: Event, calendar_token: str) -> str:
    """Return the address of a person's own calendar, reached with the read-only token."""
    return public_url("exports.personal_feed", slug=event.slug, token=calendar_token)


def schedule_url(event: Event, form: Literal["xml", "json"]) -> str:
    """Return the address of an event's frab schedule export in XML or JSON."""
    return public_url(f"exports.frab_{form}", slug=event.slug)


def manage_url(event: Event, manage_token: str) -> str:
    """Return the private address where a person sees and changes their registration."""
    return public_url("registration.manage", slug=event.slug, token=manage_token)


def resend_url(event: Event) -> str:
    """Return the address of the page that sends the private link again."""
    return public_url("registration.resend_link", slug=event.slug)


def api_url(endpoint: str, **values: Any) -> str:
    """Return the address of an API route (`event`, `rooms`, …) of /api/v1."""
    return public_url(f"api.{endpoint}", **values)


def password_link_url(token: str) -> str:
    """Return the single-use address where an organiser sets a password (invitation, reset)."""
    return public_url("auth.set_password", token=token)


def login_url() -> str:
    """Return the address of the organisers' login page."""
    return public_url("auth.login")
