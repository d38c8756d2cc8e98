"""Unbound Flask extensions, bound to the app in create_app()."""

from __future__ import annotations

import hashlib

import flask_limiter
import flask_login
from flask import current_app, request, session
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import csrf as flask_wtf_csrf
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from eventapp.queueing import TaskQueue

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraint names are stable across databases."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def client_address() -> str:
    """Return the client's address as the rate-limit key."""
    return get_remote_address() or request.remote_addr or "unknown"


def reading_is_not_limited() -> bool:
    """Let reading requests pass the rate limiter unlooked-at: every limit is on a POST."""
    return request.method in {"GET", "HEAD", "OPTIONS"}


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, passing a reading request on before it looks up any limit.

    The request filter (reading_is_not_limited) says the same; checked here first, a GET does
    not first gather and weigh every limit only to find them all exempt.
    """

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if reading_is_not_limited():
            return
        if in_middleware and not self._limits_beyond_routes():
            # Every limit sits on a view (limiter.limit), checked by its decorator; the
            # before-request pass would gather and weigh the limits a second time per POST.
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _limits_beyond_routes(self) -> bool:
        """Tell whether any limit applies outside a view's decorator (app, default, blueprint
        or meta limits, or the in-memory fallback when the store is down)."""
        manager = self.limit_manager
        return bool(
            manager.application_limits
            or manager.default_limits
            or manager._blueprint_limits
            or self._meta_limits
            or self._storage_dead
        )


class CSRFProtect(flask_wtf_csrf.CSRFProtect):
    """Flask-WTF's CSRF check, which lets a request no token protects (GET) pass first,
    before it looks the view up among the exempt ones."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        super().protect(apply_exemptions)


def session_identifier() -> str:
    """Fingerprint a login session by client address and browser, as Flask-Login's own does,
    but with the address the app trusts (Flask-Login's would believe any X-Forwarded-For)."""
    seen = f"{client_address()}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha512(seen.encode("utf-8")).hexdigest()


class LoginManager(flask_login.LoginManager):
    """Flask-Login's manager, leaving a visit that no organiser is signed in to alone."""

    def _load_user(self) -> None:
        # Only the session's organiser can sign a visit in (no remember cookie is ever set, no
        # request loader). Without one, strong session protection would fingerprint the visit
        # and mark its login-less session as changed, so every visit with a cookie (a form
        # token, a language) would get it signed and sent again.
        remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", flask_login.COOKIE_NAME)
        if (
            "_user_id" not in session
            and remember_cookie not in request.cookies
            and self._request_callback is None
            and self._header_callback is None
        ):
            self._update_request_context_with_user()
            return
        super()._load_user()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=client_address, default_limits=[])
# The worker's queue (Huey); services queue work with task_queue.after_commit().
task_queue = TaskQueue()
