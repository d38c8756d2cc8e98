"""Badges: choose registrations, fit their text, lay them out on sheets, mark them printed.

Rendering the sheets fast is services/badge_rendering.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from sqlalchemy.orm import selectinload

from eventapp import labels
from eventapp.collation import german_sort_key
from eventapp.extensions import db
from eventapp.models import Event, ParticipantRole, Registration, RegistrationStatus
from eventapp.services.printing.badge_layouts import BadgeLayout
from eventapp.services.printing.text_fit import PT_PER_MM, FittedText, fit_text

# Gap in mm between the names column and the QR code, and between stacked blocks.
GAP_MM = 1.5
SORTS = ("name", "organisation")


@dataclass(frozen=True)
class Offset:
    """Printer calibration: shift of everything on the page, in mm (right and down positive)."""

    x_mm: float = 0.0
    y_mm: float = 0.0


# Printers print where they should until calibrated.
NO_OFFSET = Offset()


@dataclass(frozen=True)
class Geometry:
    """Where the blocks of one badge go, in mm from the badge's top-left corner."""

    width: float
    height: float
    padding: float
    header_h: float
    text_left: float
    text_top: float
    text_width: float
    text_height: float
    qr_left: float
    qr_top: float
    qr_size: float
    band_left: float
    band_top: float
    band_w: float
    band_h: float


@dataclass(frozen=True)
class Badge:
    """One badge's printed content with sizes and line breaks already chosen."""

    registration_id: int
    checkin_code: str
    qr_png: bytes | None
    role: str
    role_label: str
    header: FittedText
    first_name: FittedText
    last_name: FittedText
    organisation: FittedText
    network: FittedText


@dataclass(frozen=True)
class PlacedBadge:
    """A badge at its position on a page, in mm from the page's top-left corner."""

    badge: Badge
    x: float
    y: float

    @property
    def spot(self) -> str:
        """Return a name for this position (shared by all badges placed there)."""
        return f"at{round(self.x * 100)}x{round(self.y * 100)}".replace("-", "m")


@dataclass(frozen=True)
class Sheet:
    """One printed page of badges (back pages are mirrored)."""

    badges: tuple[PlacedBadge, ...]
    back: bool = False


def geometry(layout: BadgeLayout) -> Geometry:
    """Compute the block positions of a layout's badge design, all inside its safe area.

    The role band is inset by the safe margin like everything else: at the card's edge it
    would print into the next card or off the sheet as soon as the printer is slightly off.
    """
    design = layout.design
    width, height = layout.badge_mm
    safe = layout.safe_margin_mm
    pad = max(design.padding_mm, safe)
    header_h = design.header_pt * 1.3 / PT_PER_MM
    top = pad + header_h + GAP_MM
    band_top = height - safe - design.band_mm
    if design.shape == "card":
        text_width = width - 2 * pad - design.qr_mm - GAP_MM
        text_height = band_top - top - GAP_MM
        qr_left, qr_top = width - pad - design.qr_mm, top
    else:
        text_width = width - 2 * pad
        text_height = band_top - top - design.qr_mm - 2 * GAP_MM
        qr_left = (width - design.qr_mm) / 2
        qr_top = band_top - GAP_MM - design.qr_mm
    return Geometry(
        width, height, pad, header_h, pad, top, text_width, text_height,
        qr_left, qr_top, design.qr_mm, safe, band_top, width - 2 * safe, design.band_mm,
    )  # fmt: skip


def sort_registrations(registrations: Sequence[Registration], sort: str) -> list[Registration]:
    """Order registrations by last name or by organisation (German collation)."""

    def by_name(r: Registration) -> tuple[str, ...]:
        return (german_sort_key(r.last_name), german_sort_key(r.first_name), str(r.id))

    if sort == "organisation":
        return sorted(registrations, key=lambda r: (german_sort_key(r.organisation), *by_name(r)))
    return sorted(registrations, key=by_name)


def select_for_badges(
    event: Event,
    only_new: bool = False,
    role: str | None = None,
    registration_id: int | None = None,
    sort: str = "name",
) -> list[Registration]:
    """Return the confirmed registrations to print, in print order."""
    conditions = [Registration.status == RegistrationStatus.CONFIRMED]
    if only_new:
        conditions.append(Registration.badge_printed_at.is_(None))
    if role:
        conditions.append(Registration.role == ParticipantRole(role))
    if registration_id is not None:
        conditions.append(Registration.id == registration_id)
    return _in_print_order(event, sort, *conditions)


def choose_for_printing(
    event: Event,
    when: datetime,
    *,
    only_new: bool,
    mark: bool,
    role: str | None = None,
    registration_id: int | None = None,
    sort: str = "name",
) -> tuple[list[Registration], list[int]]:
    """Return the registrations to print and the ids a batch of new badges claimed for itself.

    A batch of new badges that will be marked printed claims them before it renders (see
    claim_unprinted), so a batch started at the same moment gets others; the caller commits
    the claim, and gives it back if printing fails. Other selections claim nothing.
    """
    if not (mark and only_new and registration_id is None):
        return select_for_badges(event, only_new, role, registration_id, sort), []
    ids = claim_unprinted(event, when, role)
    return (_in_print_order(event, sort, Registration.id.in_(ids)) if ids else []), ids


def _in_print_order(event: Event, sort: str, *conditions: Any) -> list[Registration]:
    """Load the event's registrations that meet the conditions, sorted for printing."""
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id, *conditions)
        .options(selectinload(Registration.network))
    )
    return sort_registrations(db.session.scalars(query).all(), sort)


def network_text(registration: Registration) -> str:
    """Return the network (with its region) or else the federal state for the badge.

    The region is left out when the network's name already says it ("Fachkräfteinitiative
    Rhein-Neckar", region "Rhein-Neckar").
    """
    network = registration.network
    if network is None:
        return registration.state
    region = network.region.strip()
    if not region or region.casefold() in network.name.casefold():
        return network.name
    return f"{network.name} · {region}"


def fit_header(header: str, layout: BadgeLayout, geo: Geometry) -> FittedText:
    """Set the event line (the same on every badge) on one line across the badge."""
    design = layout.design
    fitted = fit_text(
        header,
        geo.width - 2 * geo.padding,
        type(design.first_name)(design.header_pt, design.header_pt * 0.75, 1),
        False,
    )
    return FittedText(fitted.size_pt, fitted.lines[:1] or ("",))


def prepare_badge(
    registration: Registration, layout: BadgeLayout, header: FittedText, geo: Geometry
) -> Badge:
    """Choose font sizes and line breaks so every line fits inside the badge."""
    design = layout.design
    last = " ".join(p for p in (registration.title, registration.last_name) if p)
    scale = 1.0
    for _attempt in range(8):
        fields = (
            fit_text(registration.first_name, geo.text_width, design.first_name, True, scale),
            fit_text(last, geo.text_width, design.last_name, True, scale),
            fit_text(registration.organisation, geo.text_width, design.organisation, False, scale),
            fit_text(network_text(registration), geo.text_width, design.network, False, scale),
        )
        if sum(f.height_mm for f in fields) + GAP_MM <= geo.text_height:
            break
        scale *= 0.88
    role = ParticipantRole(registration.role)
    return Badge(
        registration.id,
        registration.checkin_code,
        registration.checkin_qr_png,
        role.value,
        str(labels.PARTICIPANT_ROLE_LABELS[role]).upper(),
        header,
        *fields,
    )


def badge_header(event: Event) -> str:
    """Return the event line printed on every badge: name and localised date."""
    if event.ends_on != event.starts_on:
        days = f"{format_date(event.starts_on, 'short')} – {format_date(event.ends_on, 'long')}"
    else:
        days = format_date(event.starts_on, "long")
    return f"{event.title} · {days}"


# One printed page: whether it is a back page, and the badge corners on it in mm.
PagePlan = tuple[bool, tuple[tuple[float, float], ...]]


def page_plans(count: int, layout: BadgeLayout, offset: Offset = Offset()) -> Iterator[PagePlan]:
    """Lay count badges out page by page; duplex layouts get a mirrored back after each front."""
    for start in range(0, count, layout.per_page):
        front, back = [], []
        for slot in range(min(layout.per_page, count - start)):
            column, row = layout.cell(slot)
            x, y = layout.origin(column, row)
            front.append((x + offset.x_mm, y + offset.y_mm))
            bx, by = layout.origin(layout.back_column(column), row)
            back.append((bx + offset.x_mm, by + offset.y_mm))
        yield False, tuple(front)
        if layout.duplex:
            yield True, tuple(back)


def place(
    badges: Sequence[Badge], layout: BadgeLayout, offset: Offset = Offset()
) -> Iterator[Sheet]:
    """Put the badges on their pages (a mirrored back after each front for duplex layouts)."""
    sides = 2 if layout.duplex else 1
    for index, (back, corners) in enumerate(page_plans(len(badges), layout, offset)):
        start = index // sides * layout.per_page
        on_page = badges[start : start + layout.per_page]
        placed = (PlacedBadge(b, x, y) for b, (x, y) in zip(on_page, corners, strict=True))
        yield Sheet(tuple(placed), back)


def claim_unprinted(event: Event, when: datetime, role: str | None = None) -> list[int]:
    """Mark the confirmed registrations without a printed badge as printed; return their ids.

    One conditional UPDATE: of several batches of new badges started at the same moment, each
    registration goes to exactly one. A batch that then fails gives its claim back.
    """
    table = Registration.__table__
    query = (
        table.update()
        .where(
            table.c.event_id == event.id,
            table.c.status == RegistrationStatus.CONFIRMED,
            table.c.badge_printed_at.is_(None),
        )
        .values(badge_printed_at=when)
        .returning(table.c.id)
    )
    if role:
        query = query.where(table.c.role == ParticipantRole(role))
    return sorted(db.session.scalars(query))


def mark_printed(registrations: Sequence[Registration], when: datetime) -> list[int]:
    """Record that these badges were printed; return the ids for undoing it later."""
    for registration in registrations:
        registration.badge_printed_at = when
    db.session.flush()
    return [r.id for r in registrations]


def unmark_printed(event: Event, registration_ids: Sequence[int]) -> int:
    """Undo a printed mark for these registrations of the event; return how many changed."""
    if not registration_ids:
        return 0
    result = db.session.execute(
        sa.update(Registration)
        .where(Registration.event_id == event.id, Registration.id.in_(list(registration_ids)))
        .where(Registration.badge_printed_at.is_not(None))
        .values(badge_printed_at=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return int(result.rowcount or 0)
