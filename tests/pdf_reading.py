"""Read generated PDFs back: page sizes, text, word boxes and QR codes (poppler + zxing-cpp)."""

from __future__ import annotations

import html
import io
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.helpers.system import POPPLER, require

MM = 72 / 25.4


@dataclass(frozen=True)
class Word:
    """A word on a page with its box in pt from the top-left corner."""

    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Code:
    """A decoded QR code with its centre in mm from the page's top-left corner."""

    page: int
    text: str
    x_mm: float
    y_mm: float


def reader(pdf: bytes) -> PdfReader:
    """Open PDF bytes with pypdf."""
    return PdfReader(io.BytesIO(pdf))


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """Return each page's width and height in mm, rounded to 0.1 mm."""
    return [
        (round(float(p.mediabox.width) / MM, 1), round(float(p.mediabox.height) / MM, 1))
        for p in reader(pdf).pages
    ]


def squeeze(text: str) -> str:
    """Drop all whitespace, so text broken over lines compares equal to the original."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def page_texts(pdf: bytes) -> list[str]:
    """Return the text of each page (pdftotext, reading order)."""
    require(POPPLER)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
        ).stdout.decode("utf-8")
    return out.split("\f")[: len(reader(pdf).pages)]


def words(pdf: bytes) -> list[Word]:
    """Return every word with its box (pdftotext -bbox)."""
    require(POPPLER)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(
            ["pdftotext", "-bbox", "-enc", "UTF-8", str(path), "-"],
            check=True,
            capture_output=True,
        ).stdout.decode("utf-8")
    found: list[Word] = []
    for number, page in enumerate(out.split("<page ")[1:]):
        for match in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            page,
        ):
            x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
            found.append(Word(number, html.unescape(match.group(5)), x0, y0, x1, y1))
    return found


def page_images(pdf: bytes, dpi: int = 100) -> list[Any]:
    """Render every page to a greyscale image (pdftoppm), as it would come out of a printer."""
    require(POPPLER)
    from PIL import Image

    images = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path), str(Path(folder) / "p")],
            check=True,
        )
        pngs = sorted(Path(folder).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1]))
        for png in pngs:
            with Image.open(png) as image:
                images.append(image.convert("L"))
    return images


def qr_codes(pdf: bytes, dpi: int = 150) -> list[Code]:
    """Render every page and decode all QR codes on it."""
    import zxingcpp

    codes: list[Code] = []
    px_per_mm = dpi / 25.4
    for number, image in enumerate(page_images(pdf, dpi)):
        for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            pos = result.position
            xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
            ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
            codes.append(
                Code(number, result.text, sum(xs) / 4 / px_per_mm, sum(ys) / 4 / px_per_mm)
            )
    return codes


def inked_pixels(image: Any, box_mm: tuple[float, float, float, float], dpi: int) -> int:
    """Count the pixels that are not white inside a box (left, top, right, bottom in mm)."""
    px = dpi / 25.4
    left, top, right, bottom = (round(v * px) for v in box_mm)
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, image.width), min(bottom, image.height)
    if right <= left or bottom <= top:
        return 0
    histogram = image.crop((left, top, right, bottom)).histogram()
    return sum(histogram[:250])
