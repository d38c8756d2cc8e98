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
from werkzeug.http import quote_etag

from eventapp import page_lane
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
    page_lane.forget_all()  # and the whole answers kept from them


def shareable() -> bool:
    """Tell whether this visit sees the page every anonymous visitor sees."""
    if current_user.is_authenticated:
        return False
    return not session.get("_flashes")


def page(key: Hashable, render: Callable[[], str]) -> str:
    """Return the page for key: rendered once, with this visit's token and nonce swapped in."""
    if not shareable():
        return render()
    fresh, kept = _shared(_full_key(key), key, render)
    return fresh if fresh is not None else kept.filled()


def conditional_page(key: Hashable, render: Callable[[], str]) -> Response:
    """Answer with the kept page and an ETag of its version; 304 when the visitor has it.

    Only a page without per-visit values gets a tag (a token or nonce must be fresh). A tagged
    page is kept encoded with its headers, so a visit only puts them on a new answer.
    """
    if not shareable():
        return Response(render(), mimetype="text/html")
    fresh, kept = _shared(_full_key(key), key, render)
    if kept.etag is None:
        return Response(fresh if fresh is not None else kept.filled(), mimetype="text/html")
    page_lane.allow_replay()  # the same for every visitor without cookies
    response = Response(kept.encoded, mimetype="text/html", headers=kept.headers)
    environ = request.environ
    if any(name in environ for name in page_lane.CONDITIONS):
        response.make_conditional(request)
    return response


@dataclass(frozen=True)
class _Kept:
    """A page as kept: marked where per-visit values go; tagged when it has none."""

    marked: str
    etag: str | None
    has_token: bool
    has_nonce: bool
    encoded: bytes = b""  # the page as sent, when it has no per-visit values
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, body: str, key: Hashable) -> _Kept:
        """Keep a rendered page, its per-visit values marked."""
        marked = _marked(body)
        has_token, has_nonce = TOKEN_MARK in marked, NONCE_MARK in marked
        if has_token or has_nonce:
            return cls(marked, None, has_token, has_nonce)
        etag = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        headers = (
            ("ETag", quote_etag(etag)),
            ("Cache-Control", "no-cache"),  # ask again each time; 304 is cheap
            ("Vary", "Cookie"),
        )
        return cls(marked, etag, False, False, marked.encode(), headers)

    def filled(self) -> str:
        """Return the page with this visit's CSRF token and script nonce where the marks are."""
        page = self.marked
        if self.has_token:
            from flask_wtf.csrf import generate_csrf

            page = page.replace(TOKEN_MARK, generate_csrf())
        if self.has_nonce:
            page = page.replace(NONCE_MARK, csp_nonce())
        return page


def _shared(
    full_key: Hashable, key: Hashable, render: Callable[[], str]
) -> tuple[str | None, _Kept]:
    """Return the kept page, and the page as rendered for this visit when it was rendered now."""
    fresh: list[str] = []

    def render_and_mark() -> _Kept:
        body = render()
        fresh.append(body)
        return _Kept.of(body, key)

    kept = remember(full_key, render_and_mark)
    return (fresh[0] if fresh else None), kept


def _full_key(key: Hashable) -> Hashable:
    """Add the database and the address as asked, host included (the page's language links
    repeat the path; its calendar links name the host)."""
    database = current_app.config["SQLALCHEMY_DATABASE_URI"]
    return ("page", database, request.host_url, request.full_path, key)


def _marked(body: str) -> str:
    """Put markers where this visit's CSRF token and script nonce stand in the page."""
    token = g.get("csrf_token")  # where Flask-WTF keeps the signed token it rendered
    if token:
        body = body.replace(token, TOKEN_MARK)
    nonce = g.get("csp_nonce")
    if nonce:
        body = body.replace(nonce, NONCE_MARK)
    return body
