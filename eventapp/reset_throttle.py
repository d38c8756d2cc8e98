"""Requests for a password-reset link, limited per client address and per e-mail address.

Both count every request, known address or not, so the limit tells nothing about which
addresses have accounts. Kept in the rate-limit storage (keyed by a hash of the address), in a
moving window of PASSWORD_RESET_RATE_LIMIT.
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app
from limits import RateLimitItem, parse
from limits.strategies import MovingWindowRateLimiter

from eventapp.extensions import limiter

log = logging.getLogger(__name__)


def reset_limit() -> RateLimitItem:
    """Return the configured allowance of reset requests."""
    return parse(current_app.config["PASSWORD_RESET_RATE_LIMIT"])


def _keys(address: str, email: str) -> list[tuple[str, str]]:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return [("password-reset-address", address), ("password-reset-account", digest)]


def allow(address: str, email: str) -> bool:
    """Count one request; tell whether it is within the limit for the address and the e-mail."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    item = reset_limit()
    try:
        window = MovingWindowRateLimiter(limiter.storage)
        keys = _keys(address, email)
        if not all(window.test(item, *key) for key in keys):
            return False
        for key in keys:
            window.hit(item, *key)
        return True
    except Exception as error:
        if not current_app.config["RATELIMIT_SWALLOW_ERRORS"]:
            raise
        log.warning("rate-limit storage failed: %s", error)
        return True


def retry_after_seconds() -> int:
    """Return the length of the window: the longest wait before a request counts no more."""
    return int(reset_limit().get_expiry())
