"""Every German string of the code and templates has its English translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "eventapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("eventapp/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]


def source_messages() -> set[str]:
    """Return the msgids the code and templates use (as `make translations` extracts them)."""
    keywords = dict(DEFAULT_KEYWORDS) | {"_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_an_english_translation() -> None:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and m.string and (isinstance(m.string, str) or all(m.string)) and not m.fuzzy
    }
    missing = sorted(source_messages() - translated)
    assert missing == [], f"run `make translations` and translate: {missing[:10]}"
