"""Printer calibration: per-event, per-layout x/y offsets and the test page that finds them.

The test page only prints where the layout's printer can print (inside its unprintable margin
nothing shows), and carries its own instructions: a loose page on the desk explains itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import format_decimal
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


# A cross is drawn where a card corner lies at least this far inside the printable area (arms
# and circle); a corner nearer the sheet's edge gets a cross this far inside the card instead.
CROSS_ARM_MM = 4.0
MARK_INSET_MM = 14.0


@dataclass(frozen=True)
class Cross:
    """A calibration cross in mm from the sheet's top-left; inset crosses lie inside a card."""

    x: float
    y: float
    inset: bool = False


@dataclass(frozen=True)
class CalibrationSheet:
    """What a calibration page shows: outlines, crosses, rulers and the instructions' box."""

    boxes: list[tuple[float, float]]
    crosses: list[Cross]
    printable: tuple[float, float, float, float]
    text_box: tuple[float, float, float, float]
    text_pt: float
    ruler_x: list[int]
    ruler_y: list[int]


def corners(layout: BadgeLayout, offset: Offset) -> list[tuple[float, float]]:
    """Return every badge corner on the sheet in mm, shifted by the offset."""
    points: set[tuple[float, float]] = set()
    for slot in range(layout.per_page):
        x, y = layout.origin(*layout.cell(slot))
        w, h = layout.badge_mm
        for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
            points.add((round(px + offset.x_mm, 2), round(py + offset.y_mm, 2)))
    return sorted(points)


def _printable(layout: BadgeLayout) -> tuple[float, float, float, float]:
    margin = layout.unprintable_mm
    return (margin, margin, layout.page_mm[0] - margin, layout.page_mm[1] - margin)


def _text_box(layout: BadgeLayout) -> tuple[float, float, float, float]:
    """Return where the instructions go: clear of the rulers and of the crosses kept."""
    left, top, right, bottom = _printable(layout)
    width, height = layout.page_mm
    if layout.per_page == 1:
        # One card: between the columns of crosses, below the top ruler.
        side = MARK_INSET_MM + CROSS_ARM_MM + 4
        return (side, top + 10, width - side, bottom - 2)
    box_height = 76.0
    return (left + 20, (height - box_height) / 2, right - 20, (height + box_height) / 2)


def _crosses(layout: BadgeLayout, offset: Offset, avoid: tuple[float, ...]) -> list[Cross]:
    """Return a cross on every printable card corner, else one inside the card near it."""
    left, top, right, bottom = _printable(layout)
    reach = CROSS_ARM_MM + 1
    found: dict[tuple[float, float], Cross] = {}
    for slot in range(layout.per_page):
        x, y = layout.origin(*layout.cell(slot))
        w, h = layout.badge_mm
        for px, py, dx, dy in ((x, y, 1, 1), (x + w, y, -1, 1), (x, y + h, 1, -1),
                               (x + w, y + h, -1, -1)):  # fmt: skip
            cx, cy = px + offset.x_mm, py + offset.y_mm
            printable = left + reach <= cx <= right - reach and top + reach <= cy <= bottom - reach
            cross = (
                Cross(round(cx, 2), round(cy, 2))
                if printable
                else Cross(
                    round(cx + dx * MARK_INSET_MM, 2), round(cy + dy * MARK_INSET_MM, 2), True
                )
            )
            a0, b0, a1, b1 = avoid
            if a0 - reach < cross.x < a1 + reach and b0 - reach < cross.y < b1 + reach:
                continue
            found[(cross.x, cross.y)] = cross
    return sorted(found.values(), key=lambda c: (c.y, c.x))


def calibration_sheet(layout: BadgeLayout, offset: Offset) -> CalibrationSheet:
    """Lay out a calibration page so that every mark lies where the printer can print it."""
    left, top, right, bottom = _printable(layout)
    box = _text_box(layout)
    boxes = []
    for slot in range(layout.per_page):
        x, y = layout.origin(*layout.cell(slot))
        boxes.append((x + offset.x_mm, y + offset.y_mm))
    width = layout.page_mm[0]
    return CalibrationSheet(
        boxes=boxes,
        crosses=_crosses(layout, offset, box),
        printable=(left, top, right, bottom),
        text_box=box,
        text_pt=8.5 if width >= 200 else (6.5 if width >= 100 else 4.2),
        ruler_x=list(range(math.ceil(left), math.floor(right) + 1)),
        ruler_y=list(range(math.ceil(top), math.floor(bottom) + 1)),
    )


def instructions(layout: BadgeLayout) -> list[str]:
    """Return the steps printed on the test page: how to lay it on the stock, how to read it."""
    inset = format_decimal(MARK_INSET_MM)
    if layout.per_page == 1:
        steps = [
            _(
                "In Originalgröße (100 %, nicht „an Seite anpassen“) auf ein Schild oder eine "
                "Karte aus diesem Drucker drucken."
            ),
            _(
                "Jedes Kreuz soll %(mm)s mm von den beiden nächsten Kanten entfernt sein: von der "
                "linken und von der oberen Kante bis zur Kreuzmitte messen.",
                mm=inset,
            ),
        ]
    else:
        steps = [
            _(
                "Wie die Namensschilder drucken (gleicher Drucker, gleiches Fach, Originalgröße "
                "100 %, nicht „an Seite anpassen“), aber auf normales Papier."
            ),
            _(
                "Einen leeren Bogen der Kartenvorlage bündig auf den Ausdruck legen (alle vier "
                "Kanten übereinander) und beide gegen das Licht halten, etwa an ein Fenster. "
                "Gestrichelte Linien und Kreuze ohne Maß sollen genau auf den Kanten und Ecken "
                "der Karten liegen; Kreuze mit Maß liegen %(mm)s mm von beiden Kanten ihrer "
                "Karte entfernt.",
                mm=inset,
            ),
            _(
                "Ablesen, wie viele Millimeter der Druck waagerecht und senkrecht danebenliegt. "
                "Die Lineale am Rand zeigen den Abstand zur Blattkante in mm."
            ),
        ]
    return [
        *steps,
        _(
            "Zu weit rechts oder unten: den Wert „rechts“ bzw. „unten“ um die Abweichung "
            "verringern; zu weit links oder oben: erhöhen (1,5 mm zu weit rechts bei 0 → −1,5)."
        ),
        _(
            "Unter „Drucker kalibrieren“ speichern und die Testseite erneut drucken, bis alles "
            "passt. Die Werte gelten für alle Schilder dieses Formats."
        ),
    ]


def render_test_page(layout: BadgeLayout, offset: Offset, language: str) -> bytes:
    """Render a calibration page: badge outlines, crosses, mm rulers and how to read them."""
    from flask_babel import force_locale

    with force_locale(language):
        steps = instructions(layout)
        shift = _(
            "Eingestellt: rechts %(x)s mm, unten %(y)s mm",
            x=format_decimal(offset.x_mm),
            y=format_decimal(offset.y_mm),
        )
    return render_pdf(
        "documents/calibration.html",
        language,
        layout=layout,
        offset=offset,
        page=calibration_sheet(layout, offset),
        steps=steps,
        shift=shift,
        inset=MARK_INSET_MM,
        arm=CROSS_ARM_MM,
    )
