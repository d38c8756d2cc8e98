"""Badge sheets as data: page size, badge size, grid, margins, gaps and the badge design.

Adding a new label sheet is one entry in LAYOUTS; margins default to centring the grid on the
page, which is how micro-perforated card sheets are cut. Every printed mark of a badge stays
inside its safe area (the card less `safe_margin_mm` on each side), so a printer that is off
by a few millimetres neither bleeds into the next card nor loses a mark at the sheet's edge,
where printers leave `unprintable_mm` blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class TextFit:
    """Largest and smallest font size (pt) of one badge line and how many lines it may wrap to."""

    max_pt: float
    min_pt: float
    max_lines: int


@dataclass(frozen=True)
class BadgeDesign:
    """Proportions of one badge: padding, QR size, role band and the text lines' font sizes."""

    # "card" puts the QR code beside the names, "tall" puts it below them.
    shape: str
    padding_mm: float
    qr_mm: float
    band_mm: float
    header_pt: float
    band_pt: float
    first_name: TextFit
    last_name: TextFit
    organisation: TextFit
    network: TextFit


CARD = BadgeDesign(
    shape="card",
    padding_mm=3.5,
    qr_mm=17.0,
    band_mm=8.0,
    header_pt=6.5,
    band_pt=9.0,
    first_name=TextFit(20, 11, 2),
    last_name=TextFit(13, 8, 2),
    organisation=TextFit(8, 6.5, 2),
    network=TextFit(7, 6, 2),
)

TALL = BadgeDesign(
    shape="tall",
    padding_mm=7.0,
    qr_mm=30.0,
    band_mm=16.0,
    header_pt=10,
    band_pt=16,
    first_name=TextFit(38, 18, 2),
    last_name=TextFit(24, 13, 2),
    organisation=TextFit(14, 10, 3),
    network=TextFit(11, 9, 2),
)


@dataclass(frozen=True)
class BadgeLayout:
    """A sheet of badges: page and badge size in mm, columns × rows, margins and gaps."""

    name: str
    label: str
    page_mm: tuple[float, float]
    badge_mm: tuple[float, float]
    columns: int = 1
    rows: int = 1
    gap_mm: tuple[float, float] = (0.0, 0.0)
    # Left and top margin; None centres the grid on the page.
    margin_mm: tuple[float, float] | None = None
    design: BadgeDesign = field(default=CARD)
    # Each sheet is followed by a back page, mirrored left-right for long-edge duplex printing.
    duplex: bool = False
    # Nothing is printed closer than this to a card's edge (printer offset, cutting tolerance).
    safe_margin_mm: float = 3.0
    # Margin at the sheet's edges that the printer the layout is meant for cannot print.
    unprintable_mm: float = 5.0

    @property
    def per_page(self) -> int:
        """Return how many badges fit on one sheet."""
        return self.columns * self.rows

    @property
    def margins(self) -> tuple[float, float]:
        """Return the left and top margin in mm (centred when not given)."""
        if self.margin_mm is not None:
            return self.margin_mm
        width = self.columns * self.badge_mm[0] + (self.columns - 1) * self.gap_mm[0]
        height = self.rows * self.badge_mm[1] + (self.rows - 1) * self.gap_mm[1]
        return ((self.page_mm[0] - width) / 2, (self.page_mm[1] - height) / 2)

    def cell(self, slot: int) -> tuple[int, int]:
        """Return (column, row) of the slot-th badge on a sheet, left to right, top to bottom."""
        return slot % self.columns, slot // self.columns

    def origin(self, column: int, row: int) -> tuple[float, float]:
        """Return the top-left corner in mm of the badge in that column and row."""
        left, top = self.margins
        return (
            left + column * (self.badge_mm[0] + self.gap_mm[0]),
            top + row * (self.badge_mm[1] + self.gap_mm[1]),
        )

    def safe_area(self, column: int, row: int) -> tuple[float, float, float, float]:
        """Return the box (left, top, right, bottom) in mm a badge's marks must stay inside."""
        x, y = self.origin(column, row)
        w, h = self.badge_mm
        m = self.safe_margin_mm
        return (x + m, y + m, x + w - m, y + h - m)

    def back_column(self, column: int) -> int:
        """Return the column on the back page that lies behind a front column."""
        return self.columns - 1 - column


A4 = (210.0, 297.0)
A6 = (105.0, 148.0)
ID1 = (85.6, 54.0)

LAYOUTS: dict[str, BadgeLayout] = {
    layout.name: layout
    for layout in (
        # Cards touch each other at the perforation: 3 mm keeps an offset out of the neighbour.
        BadgeLayout(
            "a4-10",
            _l("A4-Bogen mit 10 Karten 90 × 54 mm (2 × 5, mikroperforiert)"),
            A4,
            (90.0, 54.0),
            columns=2,
            rows=5,
        ),
        # Four A6 fill the A4 sheet: the outer card edges are the sheet's, which office printers
        # leave blank for 4–5 mm.
        BadgeLayout(
            "a4-4",
            _l("A4-Bogen mit 4 Schildern A6 (2 × 2)"),
            A4,
            A6,
            2,
            2,
            design=TALL,
            safe_margin_mm=6.0,
        ),
        BadgeLayout(
            "a6",
            _l("Einzelnes Schild A6 (Schildrucker)"),
            A6,
            A6,
            design=TALL,
            safe_margin_mm=4.0,
            unprintable_mm=3.0,
        ),
        BadgeLayout(
            "id1",
            _l("Einzelne Karte 85,6 × 54 mm (ID-1, Kartendrucker)"),
            ID1,
            ID1,
            safe_margin_mm=2.5,
            unprintable_mm=1.0,
        ),
        BadgeLayout(
            "a6-duplex",
            _l("A4-Bogen mit 4 Schildern A6, beidseitig (Duplex, lange Kante)"),
            A4,
            A6,
            2,
            2,
            design=TALL,
            duplex=True,
            safe_margin_mm=6.0,
        ),
    )
}

# Layouts for one badge at a time at the badge desk.
SINGLE_LAYOUTS = ("a6", "id1")


def layout_named(name: str) -> BadgeLayout:
    """Return the layout with this name (KeyError when unknown)."""
    return LAYOUTS[name]
