"""Check the system libraries and fonts PDF output needs and say plainly what is missing."""

from __future__ import annotations

import sys
from ctypes.util import find_library
from pathlib import Path

INSTALL_HINT = (
    "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 "
    "fonts-dejavu-core fonts-noto-core fonts-noto-cjk"
)


def missing_pdf_parts() -> list[str]:
    """Return what is missing for PDF output (empty when all is there)."""
    missing = []
    try:
        import weasyprint  # noqa: F401
    except OSError as error:
        missing.append(f"Pango for WeasyPrint ({error})")
    from eventapp.services.printing.text_fit import FONT_DIR, FONT_FILES

    for name in FONT_FILES.values():
        if not (FONT_DIR / name).exists():
            missing.append(f"font {FONT_DIR / name} (package fonts-dejavu-core)")
    if find_library("harfbuzz-subset") is None:
        missing.append("HarfBuzz subsetter, for fast font embedding (libharfbuzz-subset0)")
    noto = Path("/usr/share/fonts/opentype/noto")
    if not noto.exists() and not Path("/usr/share/fonts/truetype/noto").exists():
        missing.append("Noto fonts for names in Arabic, Hebrew, Chinese … (fonts-noto-core)")
    return missing


def main() -> int:
    """Print a clear notice when PDF output cannot work; the web app still starts."""
    missing = missing_pdf_parts()
    if missing:
        lines = "\n".join(f"  Missing: {item}" for item in missing)
        print(
            "eventapp: PDF output (badges, programme, lists) needs parts from the system.\n"
            f"{lines}\n"
            f"  On Debian/Ubuntu install them with:\n    {INSTALL_HINT}\n"
            "  The web app starts anyway; PDF downloads answer with a notice until then.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
