"""Private links of a registration: its manage links and its read-only calendar-feed token."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import ManageLink, Registration
from eventapp.services.registration.tokens import (
    calendar_token_for,
    new_feed_token,
    new_token,
    token_hash,
)


def holds_manage_token(registration: Registration, token: str) -> bool:
    """Tell whether this token still opens the registration's manage page."""
    digest = token_hash(token)
    if digest == registration.token_hash:
        return True
    return (
        db.session.scalar(
            sa.select(ManageLink.id).where(
                ManageLink.registration_id == registration.id, ManageLink.token_hash == digest
            )
        )
        is not None
    )


def add_manage_link(registration: Registration, now: datetime) -> str:
    """Issue a further manage link (for a Rundmail) that leaves every earlier link working."""
    token = new_token()
    db.session.add(
        ManageLink(registration_id=registration.id, token_hash=token_hash(token), created_at=now)
    )
    return token


def keep_calendar_token(registration: Registration) -> None:
    """Give the registration its own calendar-feed token unless it has one.

    A registration from before feed tokens were kept gets one only when its first manage link
    is replaced: its old feed address was derived from that link and ends with it anyway.
    """
    if registration.calendar_token is None:
        for column, value in new_feed_token().items():
            setattr(registration, column, value)


def calendar_token_shown(registration: Registration, manage_token: str) -> str | None:
    """Return the feed token the manage page links to (None when no valid one is known)."""
    if registration.calendar_token is not None:
        return registration.calendar_token
    derived = calendar_token_for(manage_token)
    return derived if token_hash(derived) == registration.calendar_token_hash else None
