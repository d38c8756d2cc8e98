"""The print pipeline: data prepared in Python → HTML template → WeasyPrint → PDF bytes.

WeasyPrint only ever reads local files from static/ and data: URIs; every other URL is refused,
so a document can never make an HTTP request.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import force_locale

STATIC = Path(__file__).resolve().parent.parent.parent / "static"
PRINT_CSS = STATIC / "css" / "print"

# Font stack shared by all printed documents: DejaVu for Latin, Greek and Cyrillic, Noto for the
# scripts DejaVu lacks (Arabic, Hebrew, CJK …); fontconfig falls back per glyph.
FONT_STACK = (
    '"DejaVu Sans", "Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew", '
    '"Noto Sans CJK SC", "Noto Sans Devanagari", "Noto Sans Thai", sans-serif'
)


class LocalAssetError(ValueError):
    """A document asked for something other than a local static file."""


def _static_path(url: str) -> Path | None:
    """Return the file a file: URL points to when it lies below static/, else None."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    path = Path(unquote(parts.path)).resolve()
    return path if path.is_relative_to(STATIC) and path.is_file() else None


def local_url_fetcher(url: str, headers: Any = None) -> Any:
    """Serve data: URIs and files below static/; refuse everything else (no HTTP)."""
    return LocalFetcher().fetch(url, headers)


def _fetcher_base() -> type:
    from weasyprint.urls import URLFetcher

    return URLFetcher


class LocalFetcher(_fetcher_base()):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that reads data: URIs and files below static/ only."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Return the resource, or raise LocalAssetError for anything not local."""
        from weasyprint.urls import URLFetcherResponse

        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = _static_path(url)
        if path is None:
            raise LocalAssetError(f"refused {url!r}: documents may only use local static files")
        mime = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}.get(
            path.suffix, "application/octet-stream"
        )
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


def base_url() -> str:
    """Return the base URL relative links in documents resolve against (the static folder)."""
    return STATIC.as_uri() + "/"


@cache
def stylesheet(name: str) -> Any:
    """Return a parsed print stylesheet from static/css/print/, parsed once per process."""
    from weasyprint import CSS

    return CSS(filename=str(PRINT_CSS / name), url_fetcher=LocalFetcher())


def html_to_pdf(
    html: str,
    stylesheets: tuple[str, ...] = (),
    pdf_variant: str | None = None,
    url_fetcher: Any = None,
    **options: Any,
) -> bytes:
    """Render an HTML string with print stylesheets to PDF bytes."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url(), url_fetcher=url_fetcher or LocalFetcher())
    return document.write_pdf(
        stylesheets=[stylesheet(name) for name in stylesheets],
        pdf_variant=pdf_variant,
        uncompressed_pdf=False,
        **options,
    )


def render_html(template: str, language: str, **context: Any) -> str:
    """Render a document template in the given language (needs an app context)."""
    with force_locale(language):
        return render_template(template, font_stack=FONT_STACK, language=language, **context)


def render_pdf(
    template: str,
    language: str,
    stylesheets: tuple[str, ...] = (),
    pdf_variant: str | None = None,
    **context: Any,
) -> bytes:
    """Render a document template in a language straight to PDF bytes."""
    html = render_html(template, language, **context)
    return html_to_pdf(html, stylesheets, pdf_variant=pdf_variant)
