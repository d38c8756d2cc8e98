"""Helpers shared by several test modules: test data, programme edits, system requirements."""


def inline_parts(page: str) -> list[str]:
    """Return the style attributes and inline scripts of a page (a strict CSP refuses both)."""
    import re

    styles = re.findall(r"\sstyle=", page)
    scripts = [s for s in re.findall(r"<script\b[^>]*>", page) if " src=" not in s]
    return styles + scripts
