"""Choose font sizes for badge lines: measure with the TTF WeasyPrint uses, shrink, then wrap.

CSS has no shrink-to-fit, so the size and the line breaks are decided here and the template
prints them as they are. Glyphs missing from DejaVu (CJK, Arabic …) are counted as a full em,
which is at least as wide as the Noto fallback draws them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont

from eventapp.services.printing.badge_layouts import TextFit

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
# Measuring size: widths are computed at 100 pt and scaled.
UNIT = 100
# Leave this share of the width free, for differences between Pillow's and Pango's shaping.
SAFETY = 0.94
PT_PER_MM = 72 / 25.4
LINE_HEIGHT = 1.15


@dataclass(frozen=True)
class FittedText:
    """A text set at one size, broken into lines that each fit the width."""

    size_pt: float
    lines: tuple[str, ...]

    @property
    def size_class(self) -> str:
        """Return the CSS class that sets this font size (e.g. fs105 for 10.5 pt)."""
        return size_class(self.size_pt)

    @property
    def direction(self) -> str:
        """Return "rtl" when the text starts in a right-to-left script, else "ltr"."""
        for ch in "".join(self.lines):
            kind = unicodedata.bidirectional(ch)
            if kind in {"R", "AL"}:
                return "rtl"
            if kind == "L":
                return "ltr"
        return "ltr"

    @property
    def height_mm(self) -> float:
        """Return the height the lines take at the CSS line-height."""
        return len(self.lines) * self.size_pt * LINE_HEIGHT / PT_PER_MM


def size_class(size_pt: float) -> str:
    """Return the CSS class name for a font size."""
    return f"fs{round(size_pt * 10)}"


@cache
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[bold]), UNIT)


@cache
def _covered(bold: bool) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_DIR / FONT_FILES[bold]), lazy=True) as font:
        return frozenset(font.getBestCmap())


@lru_cache(maxsize=65536)
def text_width_em(text: str, bold: bool) -> float:
    """Return the advance width of a text in em (multiply by the font size)."""
    covered = _covered(bold)
    drawable = "".join(ch for ch in text if ord(ch) in covered)
    missing = len(text) - len(drawable)
    return _font(bold).getlength(drawable) / UNIT + missing * 1.0


def _split_long_word(word: str, size_pt: float, width_pt: float, bold: bool) -> list[str]:
    """Break a word wider than the line into pieces, after hyphens first, else anywhere."""
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and text_width_em(current + ch, bold) * size_pt > width_pt:
            cut = current.rfind("-") + 1
            if 0 < cut < len(current):
                pieces.append(current[:cut])
                current = current[cut:] + ch
            else:
                pieces.append(current)
                current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, size_pt: float, width_pt: float, bold: bool) -> list[str]:
    """Break a text into lines no wider than width_pt at the given size."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        for piece in _split_long_word(word, size_pt, width_pt, bold):
            candidate = f"{current} {piece}" if current else piece
            if text_width_em(candidate, bold) * size_pt <= width_pt:
                current = candidate
            else:
                if current:
                    lines.append(current)
                current = piece
    if current:
        lines.append(current)
    return lines


def fit_text(
    text: str, width_mm: float, fit: TextFit, bold: bool, scale: float = 1.0
) -> FittedText:
    """Set a text as large as fits on one line, else at the minimum size wrapped onto lines."""
    text = " ".join(text.split())
    if not text:
        return FittedText(fit.min_pt * scale, ())
    width_pt = width_mm * PT_PER_MM * SAFETY
    width_em = text_width_em(text, bold)
    size = fit.max_pt * scale
    minimum = fit.min_pt * scale
    while size >= minimum:
        if width_em * size <= width_pt:
            return FittedText(size, (text,))
        size -= 0.5
    # Below the minimum only as far as needed to keep within max_lines, and never below 70 %.
    size = minimum
    lines = wrap(text, size, width_pt, bold)
    while len(lines) > fit.max_lines and size > minimum * 0.7:
        size -= 0.5
        lines = wrap(text, size, width_pt, bold)
    return FittedText(size, tuple(lines))
