"""Failed organiser logins, counted per client address and per account in a moving window.

Only failures count: an organiser who logs in correctly never uses up the limit, and someone
guessing passwords is stopped whether they try many accounts from one address or one account
from many addresses. The entries live in the rate-limit storage (SQLite on one machine, Redis
on several), keyed by a hash of the account so no e-mail address is stored there.
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app
from limits import RateLimitItem, parse
from limits.strategies import MovingWindowRateLimiter

from eventapp.extensions import limiter

log = logging.getLogger(__name__)


def login_limit() -> RateLimitItem:
    """Return the configured allowance of failed logins (LOGIN_RATE_LIMIT)."""
    return parse(current_app.config["LOGIN_RATE_LIMIT"])


def _keys(address: str, account: str) -> list[tuple[str, str]]:
    digest = hashlib.sha256(account.strip().lower().encode("utf-8")).hexdigest()
    return [("login-failed-address", address), ("login-failed-account", digest)]


def _window() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(limiter.storage)


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _storage_failed(error: Exception) -> bool:
    """Log a failing store; tell whether the attempt may go on (RATELIMIT_SWALLOW_ERRORS)."""
    if not current_app.config["RATELIMIT_SWALLOW_ERRORS"]:
        raise error
    log.warning("rate-limit storage failed: %s", error)
    return False


def is_blocked(address: str, account: str) -> bool:
    """Tell whether this address or this account has used up its failed attempts."""
    if not _enabled():
        return False
    item = login_limit()
    try:
        window = _window()
        return any(not window.test(item, *key) for key in _keys(address, account))
    except Exception as error:
        return _storage_failed(error)


def record_failure(address: str, account: str) -> None:
    """Count one failed attempt for the address and for the account."""
    if not _enabled():
        return
    item = login_limit()
    try:
        window = _window()
        for key in _keys(address, account):
            window.hit(item, *key)
    except Exception as error:
        _storage_failed(error)


def retry_after_seconds() -> int:
    """Return the length of the window: the longest wait before an attempt counts no more."""
    return int(login_limit().get_expiry())
