"""The export log: every list, spreadsheet and print file an organiser takes away."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import Event, ExportKind, ExportLog, Organiser

# Entries the admin page shows, newest first.
PAGE_SIZE = 200


def record_export(
    organiser: Organiser,
    kind: ExportKind,
    client_address: str,
    event: Event | None = None,
    row_count: int | None = None,
    detail: str = "",
) -> ExportLog:
    """Write down that the organiser exported this (the caller commits with the export)."""
    entry = ExportLog(
        organiser=organiser,
        organiser_email=organiser.email,
        event=event,
        client_address=client_address[:64],
        kind=str(kind),
        row_count=row_count,
        detail=detail[:500],
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def recent_exports(limit: int = PAGE_SIZE) -> list[ExportLog]:
    """Return the newest entries first, with their events loaded."""
    query = (
        sa.select(ExportLog)
        .options(selectinload(ExportLog.event))
        .order_by(ExportLog.created_at.desc(), ExportLog.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
