"""Badges: choose registrations, lay badges out on sheets, render them fast, mark them printed.

Speed comes from four things: the QR code is a small PNG encoded once per registration
(services/checkin_qr.py); the rendering processes start, and import WeasyPrint, while the
badges are still being loaded; sheets are rendered in chunks of a few hundred badges in those
processes and merged with pikepdf (qpdf), so memory stays flat however many badges there are;
each process sets up fonts once and keeps the garbage collector out of the way while it renders.
Each badge is three absolutely placed blocks without a wrapper box; the event line, the same on
every badge, is drawn once per kind of page and laid under the badges.
"""

from __future__ import annotations

import gc
import io
import math
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp import labels
from eventapp.extensions import db
from eventapp.models import Event, ParticipantRole, Registration, RegistrationStatus
from eventapp.services import DomainError
from eventapp.services.badge_layouts import BadgeLayout
from eventapp.services.checkin_qr import checkin_qr_png
from eventapp.services.documents import html_to_pdf, local_fetcher, render_html, stylesheet
from eventapp.services.text_fit import PT_PER_MM, FittedText, fit_text, size_class

# At most about this many badges go into one rendered chunk (memory per rendering process).
CHUNK_BADGES = 500
# Gap in mm between the names column and the QR code, and between stacked blocks.
GAP_MM = 1.5
SORTS = ("name", "organisation")


@dataclass(frozen=True)
class Offset:
    """Printer calibration: shift of everything on the page, in mm (right and down positive)."""

    x_mm: float = 0.0
    y_mm: float = 0.0


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
    """Compute the block positions of a layout's badge design."""
    design = layout.design
    width, height = layout.badge_mm
    pad = design.padding_mm
    header_h = design.header_pt * 1.3 / PT_PER_MM
    top = pad + header_h + GAP_MM
    if design.shape == "card":
        text_width = width - 2 * pad - design.qr_mm - GAP_MM
        text_height = height - design.band_mm - top - GAP_MM
        qr_left, qr_top = width - pad - design.qr_mm, top
    else:
        text_width = width - 2 * pad
        text_height = height - design.band_mm - top - design.qr_mm - 2 * GAP_MM
        qr_left = (width - design.qr_mm) / 2
        qr_top = height - design.band_mm - GAP_MM - design.qr_mm
    return Geometry(
        width, height, pad, header_h, pad, top, text_width, text_height,
        qr_left, qr_top, design.qr_mm, design.band_mm,
    )  # fmt: skip


def german_sort_key(text: str) -> str:
    """Return a key that sorts German names as a phone book does (ä with a, ß as ss)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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
    query = (
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .options(selectinload(Registration.network))
    )
    if only_new:
        query = query.where(Registration.badge_printed_at.is_(None))
    if role:
        query = query.where(Registration.role == ParticipantRole(role))
    if registration_id is not None:
        query = query.where(Registration.id == registration_id)
    return sort_registrations(db.session.scalars(query).all(), sort)


def network_text(registration: Registration) -> str:
    """Return the network (with its region) or else the federal state for the badge."""
    network = registration.network
    if network is not None:
        return f"{network.name} · {network.region}" if network.region else network.name
    return registration.state


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


# Per pool process: one font configuration reused by every chunk that process renders.
_worker: dict[str, Any] = {}


def start_worker() -> None:
    """Prepare a rendering process: freeze the inherited heap, set up fonts and stylesheet once.

    Freezing keeps the cyclic garbage collector from scanning everything the process inherited
    from its parent (the app, the loaded registrations) again and again during rendering.
    """
    from weasyprint.text.fonts import FontConfiguration

    gc.freeze()
    _worker["fonts"] = FontConfiguration()
    stylesheet("badges.css")


@dataclass(frozen=True)
class Chunk:
    """One chunk of badge sheets to render: its HTML and the stored QR code images it shows."""

    html: str
    qr_pngs: dict[str, bytes]

    def qr_png(self, code: str) -> bytes:
        """Return the stored QR code image of a check-in code, or encode it now."""
        return self.qr_pngs.get(code) or checkin_qr_png(code)


def render_chunk(chunk: Chunk) -> bytes:
    """Render one chunk of badge sheets to PDF bytes (in a pool process or in this one)."""
    fetcher = local_fetcher(chunk.qr_png)
    if not _worker:
        return html_to_pdf(chunk.html, ("badges.css",), url_fetcher=fetcher)
    # A chunk's boxes are garbage as a whole once its PDF is written: collect once at the end
    # instead of many times while WeasyPrint builds them.
    gc.disable()
    try:
        return html_to_pdf(
            chunk.html, ("badges.css",), url_fetcher=fetcher, font_config=_worker["fonts"]
        )
    finally:
        gc.enable()
        gc.collect()


def chunk_html(
    sheets: Sequence[Sheet],
    layout: BadgeLayout,
    geo: Geometry,
    language: str,
    title: str,
    parts: str = "all",
) -> str:
    """Render the HTML of some badge sheets: "all" of each badge, its "people" or its "event".

    Positions (per badge corner on the sheet) and font sizes become classes in one style block:
    WeasyPrint parses an inline style attribute per element, which costs about a third of the
    rendering time.
    """
    corners = {p.spot: (p.x, p.y) for sheet in sheets for p in sheet.badges}
    spot_ids = {name: index for index, name in enumerate(corners)}
    spots = [
        {
            "id": spot_ids[name],
            "parts": (
                ("e", (x + geo.padding, y + geo.padding)),
                ("t", (x + geo.text_left, y + geo.text_top)),
                ("q", (x + geo.qr_left, y + geo.qr_top)),
                ("b", (x, y + geo.height - geo.band_h)),
            ),
        }
        for name, (x, y) in corners.items()
    ]
    sizes = {
        text.size_pt
        for sheet in sheets
        for p in sheet.badges
        for text in (p.badge.header, p.badge.first_name, p.badge.last_name,
                     p.badge.organisation, p.badge.network)
    }  # fmt: skip
    return render_html(
        "documents/badges.html", language, sheets=sheets, layout=layout, geo=geo, title=title,
        spots=spots, spot_ids=spot_ids, sizes=sorted((size_class(size), size) for size in sizes),
        parts=parts,
    )  # fmt: skip


@contextmanager
def rendering_pool(processes: int = 2) -> Iterator[Executor | None]:
    """Start the badge rendering processes now, so they set up while the badges are loaded.

    Yields None for a single process (rendering then happens in this process). Processes are
    forked from here: the garbage collector is kept from scanning the inherited heap (the app,
    the loaded rows) again and again, here while merging and in the forked processes.
    """
    if processes <= 1:
        yield None
        return
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            processes, mp_context=get_context("fork"), initializer=start_worker
        ) as pool:
            pool.submit(int)  # forks all processes at once (fork start method)
            yield pool
    finally:
        gc.unfreeze()


def chunk_size(count: int, layout: BadgeLayout, processes: int, largest: int) -> int:
    """Return how many badges go into one rendered chunk: whole sheets, at most about
    `largest`, and a multiple of `processes` chunks in all, so every process gets equal work.

    A small batch stays one chunk: starting processes for it would cost more than it saves.
    """
    if count <= largest // 5:
        processes = 1
    rounds = math.ceil(count / (processes * largest))
    badges = math.ceil(count / (processes * rounds))
    return max(1, math.ceil(badges / layout.per_page)) * layout.per_page


def render_badges(
    event: Event,
    registrations: Sequence[Registration],
    layout: BadgeLayout,
    offset: Offset = Offset(),
    language: str = "de",
    processes: int = 2,
    progress: Callable[[int], None] | None = None,
    chunk_badges: int = CHUNK_BADGES,
    pool: Executor | None = None,
) -> bytes:
    """Render badges for the registrations onto the layout's sheets and return one PDF.

    Chunks are rendered in `pool` when given (see rendering_pool), else in a pool of
    `processes` started here when there is more than one chunk, else in this process.
    """
    import pikepdf
    from flask_babel import force_locale

    if not registrations:
        raise DomainError(_("Keine Namensschilder zu drucken: die Auswahl ist leer."))
    geo = geometry(layout)
    with force_locale(language):
        header = fit_header(badge_header(event), layout, geo)
        title = _("Namensschilder – %(event)s", event=event.title)
    per_chunk = chunk_size(len(registrations), layout, max(1, processes), chunk_badges)
    groups = [registrations[i : i + per_chunk] for i in range(0, len(registrations), per_chunk)]
    counts = [len(group) for group in groups]
    # The event line is the same on every badge: drawn once per kind of page (a full sheet,
    # the last one, a back page) and laid under each page's badges, as print shops lay
    # variable data over a fixed form.
    plans = list(page_plans(len(registrations), layout, offset))
    layers = list(dict.fromkeys(plans))
    layer_chunks = [
        Chunk(event_layer_html(p, header, layout, geo, language, title), {}) for p in layers
    ]

    def html_chunks() -> Iterator[Chunk]:
        # Prepared chunk by chunk, so the first chunk renders while the others are prepared.
        for group in groups:
            with force_locale(language):
                chunk = [prepare_badge(r, layout, header, geo) for r in group]
            sheets = list(place(chunk, layout, offset))
            html = chunk_html(sheets, layout, geo, language, title, parts="people")
            yield Chunk(html, {b.checkin_code: b.qr_png for b in chunk if b.qr_png})

    writer = pikepdf.new()
    sources: list[pikepdf.Pdf] = []

    def render_all(runner: Executor | None) -> list[bytes]:
        if runner is None:
            layer_pdfs = [render_chunk(c) for c in layer_chunks]
            _merge(writer, sources, map(render_chunk, html_chunks()), counts, progress)
            return layer_pdfs
        layer_futures = [runner.submit(render_chunk, c) for c in layer_chunks]
        _merge(writer, sources, runner.map(render_chunk, html_chunks()), counts, progress)
        return [future.result() for future in layer_futures]

    if pool is None and processes > 1 and len(groups) > 1:
        with rendering_pool(min(processes, len(groups))) as own_pool:
            layer_pdfs = render_all(own_pool)
    else:
        layer_pdfs = render_all(pool)
    _underlay(writer, sources, plans, dict(zip(layers, layer_pdfs, strict=True)))
    writer.docinfo["/Title"] = title
    out = io.BytesIO()
    writer.save(out)
    return out.getvalue()


def event_layer_html(
    plan: PagePlan,
    header: FittedText,
    layout: BadgeLayout,
    geo: Geometry,
    language: str,
    title: str,
) -> str:
    """Render the HTML of one page's event lines, one at each badge on that page."""
    back, corners = plan
    blank = FittedText(header.size_pt, ())
    stand_in = Badge(0, "", None, ParticipantRole.PARTICIPANT.value, "", header, *[blank] * 4)
    sheet = Sheet(tuple(PlacedBadge(stand_in, x, y) for x, y in corners), back)
    return chunk_html([sheet], layout, geo, language, title, parts="event")


def _underlay(
    writer: Any, sources: list[Any], plans: Sequence[PagePlan], layers: dict[PagePlan, bytes]
) -> None:
    """Lay each page's event lines (one shared drawing per kind of page) under its badges."""
    import pikepdf

    drawings = {}
    for plan, pdf in layers.items():
        layer = pikepdf.open(io.BytesIO(pdf))
        sources.append(layer)
        drawings[plan] = writer.copy_foreign(layer.pages[0].as_form_xobject())
    for page, plan in zip(writer.pages, plans, strict=True):
        page.add_underlay(drawings[plan])


def _merge(
    writer: Any,
    sources: list[Any],
    results: Iterator[bytes],
    counts: Sequence[int],
    progress: Callable[[int], None] | None,
) -> None:
    import pikepdf

    for count, pdf in zip(counts, results, strict=True):
        chunk = pikepdf.open(io.BytesIO(pdf))
        writer.pages.extend(chunk.pages)
        # qpdf reads a copied page's streams from its source when the result is saved.
        sources.append(chunk)
        if progress is not None:
            progress(count)


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


def claimed(event: Event, ids: Sequence[int], sort: str = "name") -> list[Registration]:
    """Return the claimed registrations of the event in print order."""
    query = (
        sa.select(Registration)
        .where(Registration.event_id == event.id, Registration.id.in_(list(ids)))
        .options(selectinload(Registration.network))
    )
    return sort_registrations(db.session.scalars(query).all(), sort) if ids else []


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
