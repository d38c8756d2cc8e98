"""Badge sheets to PDF, fast: HTML chunks rendered by WeasyPrint in a pool, merged with pikepdf.

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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from flask_babel import gettext as _

from eventapp.models import Event, ParticipantRole, Registration
from eventapp.services import DomainError
from eventapp.services.printing.badge_layouts import BadgeLayout
from eventapp.services.printing.badges import (
    NO_OFFSET,
    Badge,
    Geometry,
    Offset,
    PagePlan,
    PlacedBadge,
    Sheet,
    badge_header,
    fit_header,
    geometry,
    page_plans,
    place,
    prepare_badge,
)
from eventapp.services.printing.checkin_qr import checkin_qr_png
from eventapp.services.printing.documents import html_to_pdf, local_fetcher, render_html, stylesheet
from eventapp.services.printing.text_fit import FittedText, size_class

# At most about this many badges go into one rendered chunk (memory per rendering process).
CHUNK_BADGES = 500


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
                ("b", (x + geo.band_left, y + geo.band_top)),
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
    offset: Offset = NO_OFFSET,
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
