"""What the tests need from the operating system, and the Debian package that brings each part.

A test that needs a part declares it (`@pytest.mark.system(CJK_FONT)`, or `require(...)` in a
fixture or helper). Where the part is missing the test is skipped with the install line; with
EVENTAPP_REQUIRE_SYSTEM=1 (set by CI) it fails instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

CHROMIUM_PATH = Path("/usr/bin/chromium")
FONT_FOLDERS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


@dataclass(frozen=True)
class SystemPart:
    """Something from the operating system that some tests need."""

    what: str
    package: str  # the Debian package(s) to install, as apt-get takes them
    present: Callable[[], bool]


def system_required() -> bool:
    """Tell whether a missing part fails the run (CI) instead of skipping its tests."""
    return "1" in {
        os.environ.get("EVENTAPP_REQUIRE_SYSTEM"),
        os.environ.get("EVENTAPP_REQUIRE_BROWSER"),  # the earlier name, browser tests only
    }


def missing_message(missing: list[SystemPart]) -> str:
    """Say what is missing and the one apt-get line that installs it."""
    packages = " ".join(dict.fromkeys(part.package for part in missing))
    what = "; ".join(part.what for part in missing)
    return f"needs {what} (on Debian/Ubuntu: sudo apt-get install {packages})"


def require(*parts: SystemPart) -> None:
    """Skip the running test when a part is missing, or fail it under EVENTAPP_REQUIRE_SYSTEM=1."""
    missing = [part for part in parts if not part.present()]
    if not missing:
        return
    message = missing_message(missing)
    if system_required():
        pytest.fail(f"{message}; EVENTAPP_REQUIRE_SYSTEM=1 makes this required", pytrace=False)
    pytest.skip(message)


@cache
def has_font(family: str, file_prefix: str) -> bool:
    """Tell whether fontconfig (what Pango draws with) knows the family; files if no fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        found = subprocess.run(
            [fc_list, f":family={family}", "family"], capture_output=True, text=True, check=False
        )
        return bool(found.stdout.strip())
    return any(any(folder.rglob(f"{file_prefix}*")) for folder in FONT_FOLDERS if folder.exists())


@cache
def has_pango() -> bool:
    """Tell whether WeasyPrint finds Pango."""
    try:
        import weasyprint  # noqa: F401
    except OSError:
        return False
    return True


def has_dejavu() -> bool:
    """Tell whether the DejaVu files that badge text is measured with are installed."""
    from eventapp.services.printing.text_fit import FONT_DIR, FONT_FILES

    return all((FONT_DIR / name).exists() for name in FONT_FILES.values())


PANGO = SystemPart("Pango for WeasyPrint", "libpango-1.0-0 libpangoft2-1.0-0", has_pango)
DEJAVU = SystemPart("the DejaVu fonts", "fonts-dejavu-core", has_dejavu)
CJK_FONT = SystemPart(
    "a font for Chinese names (Noto Sans CJK)",
    "fonts-noto-cjk",
    lambda: has_font("Noto Sans CJK SC", "NotoSansCJK"),
)
ARABIC_HEBREW_FONTS = SystemPart(
    "fonts for Arabic and Hebrew names (Noto Sans Arabic, Noto Sans Hebrew)",
    "fonts-noto-core",
    lambda: (
        has_font("Noto Sans Arabic", "NotoSansArabic")
        and has_font("Noto Sans Hebrew", "NotoSansHebrew")
    ),
)
POPPLER = SystemPart(
    "poppler's pdftotext and pdftoppm, to read PDFs back",
    "poppler-utils",
    lambda: shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None,
)
CHROMIUM = SystemPart(
    f"Debian's chromium ({CHROMIUM_PATH}) for browser tests",
    "chromium",
    lambda: CHROMIUM_PATH.exists() and shutil.which("chromium") is not None,
)
# Rendering any PDF: WeasyPrint on Pango, badge text measured with DejaVu.
PDF_OUTPUT = (PANGO, DEJAVU)
