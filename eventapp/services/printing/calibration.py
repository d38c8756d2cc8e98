"""Printer calibration: per-event, per-layout x/y offsets and the test page that finds them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from eventapp.extensions import db
from eventapp.models import Event, PrinterCalibration
from eventapp.services import DomainError
from eventapp.services.printing.badge_layouts import LAYOUTS, BadgeLayout
from eventapp.services.printing.badges import Offset
from eventapp.services.printing.documents import render_pdf

# Larger shifts mean the wrong paper or layout, not a printer to correct.
MAX_OFFSET_MM = 20.0


def offset_for(event: Event, layout: str) -> Offset:
    """Return the stored offset for the event's layout (zero when never calibrated)."""
    row = db.session.scalar(
        sa.select(PrinterCalibration).where(
            PrinterCalibration.event_id == event.id, PrinterCalibration.layout == layout
        )
    )
    return Offset(row.x_mm, row.y_mm) if row else Offset()


def offsets_for(event: Event) -> dict[str, Offset]:
    """Return the offsets of every layout for the event."""
    rows = db.session.scalars(
        sa.select(PrinterCalibration).where(PrinterCalibration.event_id == event.id)
    ).all()
    stored = {row.layout: Offset(row.x_mm, row.y_mm) for row in rows}
    return {name: stored.get(name, Offset()) for name in LAYOUTS}


def set_offset(event: Event, layout: str, x_mm: float, y_mm: float) -> PrinterCalibration:
    """Store a layout's offset for the event after checking it is plausible."""
    if layout not in LAYOUTS:
        raise DomainError(_("Dieses Format gibt es nicht."), field="layout")
    for value, name in ((x_mm, "x_mm"), (y_mm, "y_mm")):
        if abs(value) > MAX_OFFSET_MM:
            raise DomainError(
                _("Verschiebungen über %(max)s mm deuten auf falsches Papier hin.", max=20),
                field=name,
            )
    row = db.session.scalar(
        sa.select(PrinterCalibration).where(
            PrinterCalibration.event_id == event.id, PrinterCalibration.layout == layout
        )
    )
    if row is None:
        row = PrinterCalibration(event_id=event.id, layout=layout)
        db.session.add(row)
    row.x_mm, row.y_mm = round(x_mm, 1), round(y_mm, 1)
    db.session.flush()
    return row


def corners(layout: BadgeLayout, offset: Offset) -> list[tuple[float, float]]:
    """Return every badge corner on the sheet in mm, shifted by the offset."""
    points: set[tuple[float, float]] = set()
    for slot in range(layout.per_page):
        x, y = layout.origin(*layout.cell(slot))
        w, h = layout.badge_mm
        for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
            points.add((round(px + offset.x_mm, 2), round(py + offset.y_mm, 2)))
    return sorted(points)


def render_test_page(layout: BadgeLayout, offset: Offset, language: str) -> bytes:
    """Render a calibration page: badge outlines, crosshairs at every corner, mm rulers."""
    boxes = []
    for slot in range(layout.per_page):
        x, y = layout.origin(*layout.cell(slot))
        boxes.append((x + offset.x_mm, y + offset.y_mm))
    return render_pdf(
        "documents/calibration.html",
        language,
        layout=layout,
        offset=offset,
        boxes=boxes,
        corners=corners(layout, offset),
        ruler_x=range(0, int(layout.page_mm[0]) + 1),
        ruler_y=range(0, int(layout.page_mm[1]) + 1),
    )
