"""Pages rendered once per version of what they show, kept in this process, swapped per visit.

A public page that only changes with the programme (and its free seats) is rendered once per
key: the key names the versions read from the database on each request (the event's programme
stamp, the activities' change times and seat counts), so an edit on any host changes the key
everywhere at once and nothing shared lives only in one process. The rendered copy keeps
markers where the per-visit values stood (the form's CSRF token, the script nonce); each visit
gets its own values swapped in. Pages for logged-in organisers or with flashed messages are
never shared, and nothing personal is ever kept here.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from flask import Response, current_app, g, request, session
from flask_login import current_user

from eventapp.security_headers import csp_nonce

T = TypeVar("T")

# Enough for every page kind × event × language × a few programme versions.
LIMIT = 512
TOKEN_MARK = "\x00csrf-token\x00"  # noqa: S105 (a placeholder, not a secret)
NONCE_MARK = "\x00csp-nonce\x00"

_kept: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()


def remember(key: Hashable, build: Callable[[], T]) -> T:
    """Return the value kept for key, building and keeping it on the first call."""
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]  # type: ignore[return-value]
    value = build()
    with _lock:
        _kept[key] = value
        while len(_kept) > LIMIT:
            _kept.popitem(last=False)
    return value


def forget_all() -> None:
    """Drop every kept page (tests; a fresh start)."""
    with _lock:
        _kept.clear()


def shareable() -> bool:
    """Tell whether this visit sees the page every anonymous visitor sees."""
    if current_user.is_authenticated:
        return False
    return not session.get("_flashes")


def page(key: Hashable, render: Callable[[], str]) -> str:
    """Return the page for key: rendered once, with this visit's token and nonce swapped in."""
    if not shareable():
        return render()
    return _shared(_full_key(key), key, render)[0]


def conditional_page(key: Hashable, render: Callable[[], str]) -> Response:
    """Answer with the kept page and an ETag of its version; 304 when the visitor has it.

    Only a page without per-visit values gets a tag (a token or nonce must be fresh).
    """
    if not shareable():
        return Response(render(), mimetype="text/html")
    body, etag = _shared(_full_key(key), key, render)
    response = Response(body, mimetype="text/html")
    if etag:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # ask again each time; 304 is cheap
        response.vary.add("Cookie")
        response.make_conditional(request)
    return response


@dataclass(frozen=True)
class _Kept:
    """A page as kept: marked where per-visit values go; tagged when it has none."""

    marked: str
    etag: str | None


def _shared(full_key: Hashable, key: Hashable, render: Callable[[], str]) -> tuple[str, str | None]:
    """Return this visit's copy of the shared page and its ETag (None: per-visit values)."""
    fresh: list[str] = []

    def render_and_mark() -> _Kept:
        body = render()
        fresh.append(body)
        marked = _marked(body)
        per_visit = TOKEN_MARK in marked or NONCE_MARK in marked
        etag = None if per_visit else hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        return _Kept(marked, etag)

    kept = remember(full_key, render_and_mark)
    return (fresh[0] if fresh else _filled(kept.marked)), kept.etag


def _full_key(key: Hashable) -> Hashable:
    """Add the database and the address as asked (the page's language links repeat it)."""
    return ("page", current_app.config["SQLALCHEMY_DATABASE_URI"], request.full_path, key)


def _marked(body: str) -> str:
    """Put markers where this visit's CSRF token and script nonce stand in the page."""
    token = g.get("csrf_token")  # where Flask-WTF keeps the signed token it rendered
    if token:
        body = body.replace(token, TOKEN_MARK)
    nonce = g.get("csp_nonce")
    if nonce:
        body = body.replace(nonce, NONCE_MARK)
    return body


def _filled(kept: str) -> str:
    """Put this visit's CSRF token and script nonce where the markers stand."""
    if TOKEN_MARK in kept:
        from flask_wtf.csrf import generate_csrf

        kept = kept.replace(TOKEN_MARK, generate_csrf())
    if NONCE_MARK in kept:
        kept = kept.replace(NONCE_MARK, csp_nonce())
    return kept
