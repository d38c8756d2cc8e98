"""Every German string of the code and templates has its English translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask, session
from wtforms import IntegerField, StringField
from wtforms.validators import Length

from eventapp.forms import Form

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


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "Feld kann nicht länger als 3 Zeichen sein."),
        ("en", "Field cannot be longer than 3 characters."),
    ],
)
def test_messages_wtforms_writes_itself_speak_the_visitors_language(
    app: Flask, lang: str, expected: str
) -> None:
    class Probe(Form):
        name = StringField("Name", validators=[Length(max=3)])
        size = IntegerField("Anzahl")

    with app.test_request_context("/", method="POST", data={"name": "abcdef", "size": "x"}):
        session["lang"] = lang
        form = Probe(meta={"csrf": False})
        assert not form.validate()
        assert form.name.errors == [expected]
        assert form.size.errors[0] in ("Keine gültige, ganze Zahl.", "Not a valid integer value.")
        assert (form.size.errors[0] == "Keine gültige, ganze Zahl.") == (lang == "de")
