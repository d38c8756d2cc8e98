"""Secret tokens for private links: random, at least 128 bits, stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

# 32 bytes = 256 random bits, URL-safe.
TOKEN_BYTES = 32


def new_token() -> str:
    """Return a fresh random URL-safe token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_feed_token() -> dict[str, str]:
    """Return a fresh calendar-feed token and its hash, as the registration's columns."""
    token = new_token()
    return {"calendar_token": token, "calendar_token_hash": token_hash(token)}


def calendar_token_for(manage_token: str) -> str:
    """Derive the feed token of a registration from before feed tokens were kept (one-way).

    Such registrations hold no calendar token of their own; their feed token was derived from
    their first manage token and stays valid until that link is replaced.
    """
    digest = hashlib.sha256(b"eventapp-calendar-feed\x00" + manage_token.encode("utf-8"))
    return digest.hexdigest()[:43]


def new_checkin_code() -> str:
    """Return a random check-in code for the badge QR code (no personal data, easy to scan)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _sealing_key(secret_key: str) -> bytes:
    """Derive the key that seals tokens on their way to the worker from the app's secret key."""
    digest = hashlib.sha256(b"eventapp-sealed-token\x00" + secret_key.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _sealer(secret_key: str) -> Fernet:
    """Return the Fernet that seals and unseals tokens under the app's secret key."""
    return Fernet(_sealing_key(secret_key))


def seal(token: str, secret_key: str) -> str:
    """Encrypt a token for a queued mail, so the outbox never holds it in clear (Fernet)."""
    return _sealer(secret_key).encrypt(token.encode("utf-8")).decode("ascii")


def unseal(sealed: str, secret_key: str) -> str | None:
    """Return the token a queued mail carries (None when the secret key has changed since)."""
    try:
        return _sealer(secret_key).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
