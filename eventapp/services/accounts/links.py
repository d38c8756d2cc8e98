"""Single-use links that set an organiser's password: invitations (48 h) and resets.

A link carries 256 random bits; only their SHA-256 is stored. A new link for the same purpose
revokes the older unused ones, and setting a password through any link revokes every open reset
link of the account, so a mailbox read later holds nothing that still works.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from eventapp.extensions import db
from eventapp.models import AccountToken, AccountTokenPurpose, Organiser
from eventapp.services import DomainError
from eventapp.services.accounts.passwords import password_problem
from eventapp.services.registration.tokens import new_token, token_hash
from eventapp.timezones import utcnow

# How long an invitation link works.
INVITATION_VALID = timedelta(hours=48)


def reset_valid() -> timedelta:
    """Return how long a reset link works (PASSWORD_RESET_MINUTES)."""
    return timedelta(minutes=max(int(current_app.config["PASSWORD_RESET_MINUTES"]), 1))


def issue(organiser: Organiser, purpose: AccountTokenPurpose) -> str:
    """Make a new link token for the account, revoking its older unused ones (flushes)."""
    now = utcnow()
    revoke_open(organiser, purpose, now)
    valid = INVITATION_VALID if purpose == AccountTokenPurpose.INVITE else reset_valid()
    token = new_token()
    db.session.add(
        AccountToken(
            organiser_id=organiser.id,
            purpose=purpose,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + valid,
        )
    )
    db.session.flush()
    return token


def revoke_open(
    organiser: Organiser, purpose: AccountTokenPurpose | None = None, now: datetime | None = None
) -> None:
    """Make the account's unused links (of one purpose, or all) stop working."""
    query = sa.update(AccountToken).where(
        AccountToken.organiser_id == organiser.id,
        AccountToken.used_at.is_(None),
        AccountToken.revoked_at.is_(None),
    )
    if purpose is not None:
        query = query.where(AccountToken.purpose == purpose)
    db.session.execute(
        query.values(revoked_at=now or utcnow()).execution_options(synchronize_session=False)
    )


class LinkState(enum.StrEnum):
    """What a visited link can still do."""

    USABLE = "usable"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class LinkCheck:
    """A visited link, its state and (when known) its stored row."""

    state: LinkState
    token: AccountToken | None = None

    @property
    def usable(self) -> bool:
        """Tell whether the link may set a password now."""
        return self.state == LinkState.USABLE


def check(token: str, *, for_update: bool = False) -> LinkCheck:
    """Look a link's token up and say whether it still works (locking its row if asked)."""
    if not token or len(token) > 100:
        return LinkCheck(LinkState.UNKNOWN)
    query = sa.select(AccountToken).where(AccountToken.token_hash == token_hash(token))
    if for_update:
        query = query.with_for_update()
    row = db.session.scalar(query)
    if row is None:
        return LinkCheck(LinkState.UNKNOWN)
    if row.used_at is not None:
        return LinkCheck(LinkState.USED, row)
    if row.revoked_at is not None or not row.organiser.active:
        return LinkCheck(LinkState.REVOKED, row)
    if utcnow() >= row.expires_at:
        return LinkCheck(LinkState.EXPIRED, row)
    return LinkCheck(LinkState.USABLE, row)


class LinkNotUsable(DomainError):
    """The link stopped working between showing the form and sending it."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(str(state))
        self.state = state


def set_password_with(token: str, password: str) -> AccountToken:
    """Set the password through a link, once: mark it used and revoke open reset links.

    The row is locked first, so two tabs sending the same link set at most one password.
    Returns the used link (its organiser and purpose); raises DomainError (field "password")
    for a weak password, LinkNotUsable for a link that no longer works.
    """
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="password")
    found = check(token, for_update=True)
    if not found.usable or found.token is None:
        raise LinkNotUsable(found.state)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.id == found.token.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another request used it first
        raise LinkNotUsable(LinkState.USED)
    organiser = found.token.organiser
    organiser.set_password(password)  # also ends every existing session of the account
    revoke_open(organiser, AccountTokenPurpose.RESET, now)
    if found.token.purpose == AccountTokenPurpose.INVITE:
        revoke_open(organiser, AccountTokenPurpose.INVITE, now)
    db.session.flush()
    return found.token


def latest_invitation(organiser: Organiser) -> AccountToken | None:
    """Return the account's newest invitation link, if any."""
    return db.session.scalar(
        sa.select(AccountToken)
        .where(
            AccountToken.organiser_id == organiser.id,
            AccountToken.purpose == AccountTokenPurpose.INVITE,
        )
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc())
        .limit(1)
    )


def request_reset(email: str) -> bool:
    """Mail a reset link to an active account with this address; say nothing either way.

    Runs in the worker, so the web request does the same work whether the address is known.
    """
    from eventapp.services.mail import account_mail

    address = email.strip().lower()
    organiser = db.session.scalar(sa.select(Organiser).where(Organiser.email == address))
    if organiser is None or not organiser.active:
        return False
    token = issue(organiser, AccountTokenPurpose.RESET)
    account_mail.password_reset(organiser, token)
    return True
