"""The visitor's session in a signed cookie, as Flask keeps it, with its signer made once."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from itsdangerous import URLSafeTimedSerializer


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie session, its signer kept per secret key instead of made anew
    for every request, and a visit without a cookie given an empty session straight away."""

    def __init__(self) -> None:
        self._signer: tuple[object, URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Return the signer for the app's current keys (None without a secret key)."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = self._signer
        if kept is not None and kept[0] == keys:
            return kept[1]
        signer = super().get_signing_serializer(app)
        if signer is not None:
            self._signer = (keys, signer)
        return signer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Open the visitor's session; without a cookie it is empty, with nothing to verify."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
