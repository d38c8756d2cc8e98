"""Uploaded tables with their preview and import, kept in the database so any host shows them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.models import Event, ImportKind, Organiser, PendingImport
from eventapp.services.imports.rows import ImportOptions
from eventapp.timezones import utcnow

# An upload not confirmed within this time is deleted.
KEEP_FOR = timedelta(hours=24)


def store(
    organiser: Organiser,
    event: Event,
    kind: ImportKind,
    filename: str,
    content: bytes,
    options: ImportOptions,
    language: str = "de",
) -> PendingImport:
    """Keep an upload for its preview and import, seen and confirmed by the same organiser."""
    pending = PendingImport(
        organiser_id=organiser.id,
        event_id=event.id,
        kind=kind,
        filename=filename[:200],
        content=content,
        # The language the organiser reads the worker's messages in.
        options={"consent_version": options.consent_version, "lang": language},
        expires_at=utcnow() + KEEP_FOR,
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def find(organiser: Organiser, event: Event, pending_id: int) -> PendingImport | None:
    """Return the organiser's own unexpired upload for this event (None for anyone else's)."""
    return db.session.scalar(
        sa.select(PendingImport).where(
            PendingImport.id == pending_id,
            PendingImport.organiser_id == organiser.id,
            PendingImport.event_id == event.id,
            PendingImport.expires_at > utcnow(),
        )
    )


def options_of(pending: PendingImport, send_mail: bool = False) -> ImportOptions:
    """Return the upload's options with the mail choice made on confirmation."""
    return ImportOptions(
        send_mail=send_mail, consent_version=str(pending.options.get("consent_version", ""))
    )


def discard(pending: PendingImport) -> None:
    """Delete an upload (imported or no longer wanted)."""
    db.session.delete(pending)
    db.session.flush()


def expire() -> int:
    """Delete uploads past their keeping time; return how many."""
    result = db.session.execute(
        sa.delete(PendingImport).where(PendingImport.expires_at <= utcnow())
    )
    return int(result.rowcount or 0)
