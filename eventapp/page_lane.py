"""Kept public answers sent before the app's request handling, to visitors without cookies.

The event page, an activity's page and the programme feed are rendered once per version of
what they show (page_cache). For a visit without cookies, query or conditional headers, the
whole answer (status, every header the app's hooks add, body) depends only on the address and
on the event's stamp: no session, no login, no language choice, no per-visit token. This lane
reads the stamp (one prebuilt query, as the page itself would) and, when an answer was kept
for that address and stamp, sends it as it was sent before, without building a request
context, running the hooks or matching the route. Otherwise the app answers as always: the
stamp read here is lent to the view (one read, and the kept answer matches the stamp it is
kept under), and a view whose answer may be sent again to the next such visitor says so
(`allow_replay`); the lane keeps a copy.

Because the key is read from the database on every visit, an edit on any host changes it
everywhere at once, as for the kept pages: nothing shared lives only in this process.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask, has_request_context, request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from eventapp.services.programme.published import EventStamp

# The addresses the lane serves: /<slug>/, /<slug>/programm/<id>, /<slug>/programm.ics.
ADDRESS = re.compile(r"/([a-z0-9][a-z0-9-]{0,199})/(?:programm/[0-9]{1,9}|programm\.ics)?\Z")
# Request headers that may make an answer conditional (304, 412) or partial.
CONDITIONS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
# ... and those that make it depend on the visitor (session, login, language choice).
PERSONAL = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", *CONDITIONS)
LENT = "eventapp.lane.stamp"  # environ: (slug, stamp) read by the lane for the view
REPLAYABLE = "eventapp.lane.replayable"  # environ: set by a view whose answer may be kept
LIMIT = 256  # answers kept per app: page kinds × events × a few versions

_lanes: weakref.WeakSet[PageLane] = weakref.WeakSet()


@dataclass(frozen=True)
class _Answer:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class PageLane:
    """WSGI middleware in front of the app: replays kept answers to anonymous first visits."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._engine: sa.Engine | None = None
        self._kept: OrderedDict[Hashable, _Answer] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        match = None
        if (
            (method == "GET" or method == "HEAD")
            and not environ.get("QUERY_STRING")
            and not any(name in environ for name in PERSONAL)
        ):
            match = ADDRESS.match(environ.get("PATH_INFO", ""))
        if match is None:
            return self.wsgi_app(environ, start_response)
        slug = match.group(1)
        try:
            stamp = self._stamp(slug)
        except sa.exc.SQLAlchemyError:
            return self.wsgi_app(environ, start_response)  # the app answers (and reports) it
        if stamp is None:
            return self.wsgi_app(environ, start_response)  # no such event: the app's 404
        key = _key(environ, stamp)
        with self._lock:
            answer = self._kept.get(key)
            if answer is not None:
                self._kept.move_to_end(key)
        if answer is not None:
            start_response(answer.status, list(answer.headers))
            return [] if method == "HEAD" else [answer.body]
        environ[LENT] = (slug, stamp)
        if method == "HEAD":
            return self.wsgi_app(environ, start_response)
        return self._answer_and_keep(environ, start_response, key)

    def forget_all(self) -> None:
        """Drop every kept answer."""
        with self._lock:
            self._kept.clear()

    def _stamp(self, slug: str) -> EventStamp | None:
        from eventapp.services.programme.published import published_event_stamp_in

        if self._engine is None:
            from eventapp.extensions import db

            with self.app.app_context():
                self._engine = db.engine
        return published_event_stamp_in(self._engine, slug)

    def _answer_and_keep(
        self, environ: WSGIEnvironment, start_response: StartResponse, key: Hashable
    ) -> Iterable[bytes]:
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def note_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append((status, list(headers)))
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, note_start)
        if not (environ.get(REPLAYABLE) and started and started[-1][0].startswith("200 ")):
            return body
        status, headers = started[-1]
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return body
        try:
            whole = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        with self._lock:
            self._kept[key] = _Answer(status, tuple(headers), whole)
            while len(self._kept) > LIMIT:
                self._kept.popitem(last=False)
        return [whole]


def _key(environ: WSGIEnvironment, stamp: EventStamp) -> Hashable:
    """Name what the answer depends on: the address as asked and everything the stamp holds."""
    from eventapp.services.registration.registrations import registration_window_state

    return (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SCRIPT_NAME"),
        environ.get("PATH_INFO"),
        stamp.pages,
        stamp.feed,
        registration_window_state(stamp),
    )


def install(app: Flask) -> None:
    """Put the lane in front of the app (inside the proxy fix, which must wrap it)."""
    lane = PageLane(app, app.wsgi_app)
    app.wsgi_app = lane  # type: ignore[method-assign]
    _lanes.add(lane)


def lent_stamp(slug: str) -> EventStamp | None:
    """Return the stamp the lane read for this request's event, if it read one."""
    if not has_request_context():
        return None
    lent = request.environ.get(LENT)
    if lent is None or lent[0] != slug:
        return None
    return lent[1]  # type: ignore[no-any-return]


def allow_replay() -> None:
    """Tell the lane that this answer may be sent again to every visitor it serves.

    Only views whose answer depends on nothing but the address and the lent stamp may call it;
    the lane keeps nothing for requests it did not read the stamp for.
    """
    if has_request_context() and LENT in request.environ:
        request.environ[REPLAYABLE] = True


def forget_all() -> None:
    """Drop every lane's kept answers (with the kept pages: tests; a fresh start)."""
    for lane in list(_lanes):
        lane.forget_all()
