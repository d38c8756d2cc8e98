"""The print pipeline: data prepared in Python → HTML template → WeasyPrint → PDF bytes.

WeasyPrint only ever reads local files from static/ and data: URIs; every other URL is refused,
so a document can never make an HTTP request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import force_locale

from eventapp import ROOT

STATIC = ROOT / "static"
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
    return local_fetcher().fetch(url, headers)


GeneratedImage = Callable[[str], bytes]


def local_fetcher(generated_png: GeneratedImage | None = None) -> Any:
    """Return a WeasyPrint URL fetcher that reads data: URIs and files below static/ only.

    With `generated_png`, a URL `png:NAME` is served as the PNG that function makes of NAME
    (QR codes are drawn in the rendering process, not shipped inside the HTML).
    """
    return _local_fetcher_class()(generated_png)


@cache
def _local_fetcher_class() -> type:
    """Define the fetcher class on first use, so importing this module does not load WeasyPrint.

    WeasyPrint takes about a third of a second to import: every `eventapp` command and app
    process that prints nothing is spared it, and badge rendering processes import it while
    the main process is still loading the badges.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        def __init__(self, generated_png: GeneratedImage | None) -> None:
            super().__init__()
            self.generated_png = generated_png

        def fetch(self, url: str, headers: Any = None) -> Any:
            """Return the resource, or raise LocalAssetError for anything not local."""
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("png:") and self.generated_png is not None:
                image = self.generated_png(url[4:])
                return URLFetcherResponse(url, image, {"Content-Type": "image/png"})
            path = _static_path(url)
            if path is None:
                raise LocalAssetError(f"refused {url!r}: documents may only use local static files")
            mime = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}.get(
                path.suffix, "application/octet-stream"
            )
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

    return LocalFetcher


def base_url() -> str:
    """Return the base URL relative links in documents resolve against (the static folder)."""
    return STATIC.as_uri() + "/"


_NONZERO = re.compile(r"[1-9]").search
_DIGITS = re.compile(r"\d").sub


class LazyPatterns:
    """Hyphenation patterns kept as their raw lines and parsed on first lookup."""

    def __init__(self, raw: dict[str, str]) -> None:
        self._raw = raw
        self._parsed: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        """Return (start, values) of the pattern for these letters, parsing it once."""
        if key in self._parsed:
            return self._parsed[key]
        line = self._raw.get(key)
        if line is None:
            return default
        import pyphen

        # Same steps as pyphen.HyphDict.__init__, for one pattern.
        pattern = pyphen.parse_hex(lambda match: chr(int(match.group(1), 16)), line)
        factory: Any = int
        if "/" in pattern and "=" in pattern:
            pattern, alternative = pattern.split("/", 1)
            factory = pyphen.AlternativeParser(pattern, alternative)
        values = [factory(i or "0") for i, _ in pyphen.parse(pattern)]
        start, end = 0, len(values)
        while not values[start]:
            start += 1
        while not values[end - 1]:
            end -= 1
        self._parsed[key] = parsed = (start, tuple(values[start:end]))
        return parsed


def _lazy_hyph_dict_class() -> type:
    import pyphen

    class LazyHyphDict(pyphen.HyphDict):
        """A pyphen dictionary that indexes its file on first use and parses patterns lazily.

        Parsing all 66,000 German patterns up front takes about a second per process; a booklet
        needs a few hundred of them.
        """

        def __init__(self, path: Path) -> None:
            self.path = path
            self.cache = {}

        @cached_property
        def patterns(self) -> LazyPatterns:  # type: ignore[override]
            """Index the raw pattern lines by their letters, skipping all-zero patterns."""
            import pyphen

            with self.path.open("rb") as fd:
                encoding = fd.readline().decode().strip()
            if encoding.lower() == "microsoft-cp1251":
                encoding = "cp1251"
            raw: dict[str, str] = {}
            for line in self.path.read_text(encoding).split("\n")[1:]:
                line = line.strip()
                if not line or line.startswith(pyphen.ignored):
                    continue
                pattern = line
                if "^^" in pattern:
                    pattern = pyphen.parse_hex(lambda m: chr(int(m.group(1), 16)), pattern)
                if "/" in pattern and "=" in pattern:
                    pattern = pattern.split("/", 1)[0]
                if _NONZERO(pattern):
                    raw[_DIGITS("", pattern)] = line
            return LazyPatterns(raw)

        @cached_property
        def maxlen(self) -> int:  # type: ignore[override]
            """Return the length of the longest pattern."""
            return max(len(key) for key in self.patterns._raw)

    return LazyHyphDict


@cache
def use_lazy_hyphenation() -> None:
    """Make WeasyPrint's hyphenation (pyphen) load each dictionary lazily; once per process."""
    import pyphen

    if not (hasattr(pyphen, "hdcache") and hasattr(pyphen, "HyphDict")):
        return  # another pyphen release: WeasyPrint loads dictionaries the usual way
    lazy = _lazy_hyph_dict_class()
    for path in set(pyphen.LANGUAGES.values()):
        pyphen.hdcache.setdefault(path, lazy(path))


@cache
def stylesheet(name: str) -> Any:
    """Return a parsed print stylesheet from static/css/print/, parsed once per process."""
    from weasyprint import CSS

    return CSS(filename=str(PRINT_CSS / name), url_fetcher=local_fetcher())


def html_to_pdf(
    html: str,
    stylesheets: tuple[str, ...] = (),
    pdf_variant: str | None = None,
    url_fetcher: Any = None,
    **options: Any,
) -> bytes:
    """Render an HTML string with print stylesheets to PDF bytes."""
    from weasyprint import HTML

    use_lazy_hyphenation()
    document = HTML(string=html, base_url=base_url(), url_fetcher=url_fetcher or local_fetcher())
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
