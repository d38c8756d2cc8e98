"""The admin's changes to the team's accounts: invite, roles, deactivation, the account log.

Every change is written to the account log in the same transaction. The last active admin
always stays: the admins' rows are locked before counting, so two admins demoting each other
at the same moment cannot both succeed.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from eventapp.extensions import db
from eventapp.models import (
    AccountLog,
    AccountToken,
    AccountTokenPurpose,
    MailStatus,
    Organiser,
    OrganiserRole,
    OutboxMail,
)
from eventapp.services import DomainError
from eventapp.services.accounts import links
from eventapp.timezones import utcnow

# Entries of the account log the page shows, newest first.
LOG_PAGE_SIZE = 50


class AccountState(enum.StrEnum):
    """Where an account stands, as the list shows it."""

    ACTIVE = "active"
    INVITED = "invited"
    INVITATION_EXPIRED = "invitation_expired"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class AccountRow:
    """One account on the admin's list, with its state and open invitation."""

    organiser: Organiser
    state: AccountState
    invitation_expires_at: datetime | None


def _state(organiser: Organiser, invitation: AccountToken | None, now: datetime) -> AccountState:
    if not organiser.active:
        return AccountState.DEACTIVATED
    if organiser.has_password:
        return AccountState.ACTIVE
    if invitation is not None and invitation.usable_at(now):
        return AccountState.INVITED
    return AccountState.INVITATION_EXPIRED


def account_rows() -> list[AccountRow]:
    """Return every account with its state, ordered by name (two queries in all)."""
    organisers = list(
        db.session.scalars(sa.select(Organiser).order_by(Organiser.name, Organiser.id))
    )
    newest = (
        sa.select(AccountToken)
        .where(AccountToken.purpose == AccountTokenPurpose.INVITE)
        .order_by(AccountToken.organiser_id, AccountToken.created_at, AccountToken.id)
    )
    invitations = {token.organiser_id: token for token in db.session.scalars(newest)}
    now = utcnow()
    rows = []
    for organiser in organisers:
        invitation = invitations.get(organiser.id)
        state = _state(organiser, invitation, now)
        expires = invitation.expires_at if invitation and state == AccountState.INVITED else None
        rows.append(AccountRow(organiser, state, expires))
    return rows


def account_row(organiser: Organiser) -> AccountRow:
    """Return one account's state and open invitation."""
    invitation = links.latest_invitation(organiser)
    state = _state(organiser, invitation, utcnow())
    expires = invitation.expires_at if invitation and state == AccountState.INVITED else None
    return AccountRow(organiser, state, expires)


def recent_log(limit: int = LOG_PAGE_SIZE) -> list[AccountLog]:
    """Return the newest account-log entries first."""
    query = sa.select(AccountLog).order_by(AccountLog.created_at.desc(), AccountLog.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def record(
    actor: Organiser | None,
    account: Organiser,
    action: str,
    client_address: str,
    detail: str = "",
) -> None:
    """Write one change to the account log (the caller commits with the change)."""
    db.session.add(
        AccountLog(
            actor_id=actor.id if actor is not None else None,
            actor_email=actor.email if actor is not None else account.email,
            account_id=account.id,
            account_email=account.email,
            action=action,
            detail=detail[:200],
            client_address=client_address[:64],
        )
    )


def invite(
    admin: Organiser, email: str, name: str, role: OrganiserRole, client_address: str
) -> Organiser:
    """Create an account without a password and mail it an invitation link (flushes)."""
    from eventapp.services.mail import account_mail

    address = email.strip().lower()
    if db.session.scalar(sa.select(Organiser.id).where(Organiser.email == address)) is not None:
        raise DomainError(_("Für diese E-Mail-Adresse gibt es schon ein Konto."), field="email")
    organiser = Organiser(
        email=address, name=name.strip(), role=role, password_hash="", active=True
    )
    try:
        with db.session.begin_nested():
            db.session.add(organiser)
            db.session.flush()
    except IntegrityError as error:  # invited by someone else at the same moment
        raise DomainError(
            _("Für diese E-Mail-Adresse gibt es schon ein Konto."), field="email"
        ) from error
    token = links.issue(organiser, AccountTokenPurpose.INVITE)
    account_mail.invitation(organiser, token, invited_by=admin)
    record(admin, organiser, "invited", client_address, str(role))
    return organiser


def resend_invitation(admin: Organiser, organiser: Organiser, client_address: str) -> None:
    """Mail a fresh invitation link (48 h again); the earlier link stops working."""
    from eventapp.services.mail import account_mail

    if organiser.has_password:
        raise DomainError(_("Dieses Konto hat sein Passwort schon gesetzt."))
    if not organiser.active:
        raise DomainError(_("Dieses Konto ist deaktiviert. Bitte aktivieren Sie es zuerst."))
    token = links.issue(organiser, AccountTokenPurpose.INVITE)
    account_mail.invitation(organiser, token, invited_by=admin)
    record(admin, organiser, "invitation_resent", client_address)


def revoke_invitation(admin: Organiser, organiser: Organiser, client_address: str) -> None:
    """Take an invitation back: the account, never used, is deleted with its links."""
    if organiser.has_password or organiser.last_login_at is not None:
        raise DomainError(
            _("Dieses Konto wird schon benutzt. Deaktivieren Sie es, statt es zu löschen.")
        )
    record(admin, organiser, "invitation_revoked", client_address)
    db.session.flush()
    db.session.execute(
        sa.update(AccountLog)
        .where(AccountLog.account_id == organiser.id)
        .values(account_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(sa.delete(AccountToken).where(AccountToken.organiser_id == organiser.id))
    # An invitation mail still waiting to be sent would only fail: drop it.
    db.session.execute(
        sa.delete(OutboxMail).where(
            OutboxMail.recipient == organiser.email,
            OutboxMail.kind == "account_invitation",
            OutboxMail.status == MailStatus.PENDING,
        )
    )
    db.session.delete(organiser)
    db.session.flush()


def _lock_active_admins() -> list[Organiser]:
    """Lock and reload the active admin accounts in id order (see the module text)."""
    query = (
        sa.select(Organiser)
        .where(Organiser.role == OrganiserRole.ADMIN, Organiser.active)
        .order_by(Organiser.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(query))


def _guard_admin(admin: Organiser, organiser: Organiser, own_message: str) -> None:
    """Refuse a change that removes the admin's own rights or the last active admin."""
    if organiser.id == admin.id:
        raise DomainError(own_message)
    admins = _lock_active_admins()
    if any(a.id == organiser.id for a in admins) and len(admins) == 1:
        raise DomainError(
            _("Das ist das letzte aktive Administrationskonto; es muss bestehen bleiben.")
        )


def change_role(
    admin: Organiser, organiser: Organiser, role: OrganiserRole, client_address: str
) -> bool:
    """Give the account another role (it applies at the account's next click); False if same."""
    if organiser.role == role:
        return False
    if organiser.role == OrganiserRole.ADMIN:
        _guard_admin(
            admin,
            organiser,
            _("Sie können Ihrem eigenen Konto die Administration nicht entziehen."),
        )
    before = organiser.role
    organiser.role = role
    record(admin, organiser, "role_changed", client_address, f"{before} → {role}")
    db.session.flush()
    return True


def deactivate(admin: Organiser, organiser: Organiser, client_address: str) -> None:
    """Lock the account out: open sessions end at their next click, open links stop working."""
    if not organiser.active:
        return
    _guard_admin(admin, organiser, _("Sie können Ihr eigenes Konto nicht deaktivieren."))
    organiser.active = False
    organiser.session_nonce = uuid.uuid4().hex
    links.revoke_open(organiser)
    record(admin, organiser, "deactivated", client_address)
    db.session.flush()


def reactivate(admin: Organiser, organiser: Organiser, client_address: str) -> None:
    """Let the account log in again with its old password (an invited one needs a new link)."""
    if organiser.active:
        return
    organiser.active = True
    record(admin, organiser, "reactivated", client_address)
    db.session.flush()
