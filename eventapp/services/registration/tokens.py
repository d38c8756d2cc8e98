"""Secret tokens for private links: random, at least 128 bits, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

# 32 bytes = 256 random bits, URL-safe.
TOKEN_BYTES = 32


def new_token() -> str:
    """Return a fresh random URL-safe token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def calendar_token_for(manage_token: str) -> str:
    """Derive the read-only calendar-feed token from the manage token (one-way).

    The manage page knows the manage token from its URL and can show the feed link; the feed
    token never reveals the manage token, so a subscribed calendar cannot change a registration.
    """
    digest = hashlib.sha256(b"eventapp-calendar-feed\x00" + manage_token.encode("utf-8"))
    return digest.hexdigest()[:43]


def new_checkin_code() -> str:
    """Return a random check-in code for the badge QR code (no personal data, easy to scan)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))
