"""Check the system libraries WeasyPrint needs and say plainly what is missing."""

from __future__ import annotations

import sys

INSTALL_HINT = (
    "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
)


def missing_pdf_libraries() -> str | None:
    """Return a description of what is missing for PDF output, or None when all is there."""
    try:
        import weasyprint  # noqa: F401
    except OSError as error:
        return str(error)
    return None


def main() -> int:
    """Print a clear notice when PDF output cannot work; the web app still starts."""
    problem = missing_pdf_libraries()
    if problem:
        print(
            "eventapp: PDF output (badges, programme, lists) needs Pango from the system.\n"
            f"  Missing: {problem}\n"
            f"  On Debian/Ubuntu install it with:\n    {INSTALL_HINT}\n"
            "  The web app starts anyway; PDF downloads answer with a notice until then.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
