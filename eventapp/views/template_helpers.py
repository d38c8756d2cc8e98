"""Template filters and globals: times in the event's zone, language switch, roles."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from babel import dates as babel_dates
from flask import Flask, Response, current_app, redirect, request, session, url_for
from flask_babel import format_decimal, get_locale

from eventapp import labels, urls
from eventapp.models import ActivityKind, OrganiserRole, ParticipantRole
from eventapp.services.mail.greeting import greeting_for
from eventapp.timezones import to_local


@functools.lru_cache(maxsize=1024)
def _date_text(day: date, style: str, locale: str) -> str:
    """Format a calendar date (kept: a list shows the same few dates many times over)."""
    return str(babel_dates.format_date(day, style, locale=locale))


def localtime(moment: datetime | None, zone_name: str, style: str = "datetime") -> str:
    """Format an instant in the event's zone: style is time, date, datetime or weekday."""
    if moment is None:
        return ""
    local = to_local(moment, zone_name)
    if style == "time":
        return local.strftime("%H:%M")
    locale = str(get_locale() or "de")
    if style == "date":
        return _date_text(local.date(), "long", locale)
    if style == "weekday":
        return _date_text(local.date(), "full", locale)
    if style == "iso":
        return local.isoformat()
    return f"{_date_text(local.date(), 'medium', locale)} {local:%H:%M}"


def longdate(day: date | None, style: str = "full") -> str:
    """Format a calendar date in the visitor's language."""
    return _date_text(day, style, str(get_locale() or "de")) if day else ""


def number(value: int) -> str:
    """Format a count in the visitor's language (3.012 in German, 3,012 in English)."""
    return str(format_decimal(value))


def safe_next(target: str | None, fallback: str) -> str:
    """Return target when it is a plain path on this site, else fallback.

    Line breaks would split the Location header; browsers read a backslash as a slash.
    """
    if not target or not target.isprintable() or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def register(app: Flask) -> None:
    """Install filters, globals and the language-switch route."""
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(longdate, "longdate")
    app.add_template_filter(greeting_for, "greeting")
    app.add_template_filter(number, "number")
    app.add_template_global(urls.public_url, "public_url")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "current_language": str(get_locale() or "de"),
            "languages": current_app.config["LANGUAGES"],
            "ActivityKind": ActivityKind,
            "OrganiserRole": OrganiserRole,
            "ParticipantRole": ParticipantRole,
            "labels": labels,
        }

    @app.route("/sprache/<code>")
    def set_language(code: str) -> Response:
        if code in current_app.config["LANGUAGES"]:
            session["lang"] = code
        return redirect(safe_next(request.args.get("next"), url_for("public.index")))  # type: ignore[return-value]
