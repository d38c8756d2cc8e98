"""The text of a campaign (Rundmail): its placeholders, checked and filled in as plain text.

The organiser's text is never read as a template: each {name} is looked up in a fixed table
and replaced in one pass, so braces, Jinja syntax or HTML in the text stay exactly as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from eventapp.services import DomainError

# {word}: a placeholder; any other brace stays text.
PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")


@dataclass(frozen=True)
class Placeholder:
    """One placeholder: its name, what it stands for, and whether a subject may hold it."""

    name: str
    meaning: LazyString
    in_subject: bool = True


PLACEHOLDERS = (
    Placeholder(
        "anrede",
        _l(
            "die Anrede mit Titel, z. B. „Sehr geehrte Frau Dr. Wolf“, ohne Angabe „Guten Tag "
            "Alex Wolf“ (ohne Komma: schreiben Sie „{anrede},“)"
        ),
    ),
    Placeholder("vorname", _l("der Vorname")),
    Placeholder("name", _l("der Nachname")),
    Placeholder(
        "verwaltungslink",
        _l(
            "der persönliche Link zur Anmeldung; beim Versand bekommt jede Person einen weiteren "
            "Link, frühere Links und abonnierte Kalender bleiben gültig"
        ),
        in_subject=False,
    ),
    Placeholder(
        "workshops",
        _l("die gewählten Workshops und Erfahrungsaustauschkreise mit Zeit und Stand"),
        in_subject=False,
    ),
)
NAMES = {p.name for p in PLACEHOLDERS}
SUBJECT_NAMES = {p.name for p in PLACEHOLDERS if p.in_subject}


def used(text: str) -> set[str]:
    """Return the placeholder names a text holds."""
    return {match.group(1) for match in PLACEHOLDER.finditer(text)}


def check(subject: str, body: str) -> dict[str, str]:
    """Return a German message per field ("subject", "body") naming its unknown placeholders."""
    errors: dict[str, str] = {}
    unknown_subject = sorted(used(subject) - NAMES)
    body_only = sorted((used(subject) & NAMES) - SUBJECT_NAMES)
    if unknown_subject:
        errors["subject"] = unknown_message(unknown_subject)
    elif body_only:
        errors["subject"] = _(
            "Diese Platzhalter gehen nur im Text, nicht im Betreff: %(names)s",
            names=", ".join(f"{{{n}}}" for n in body_only),
        )
    unknown_body = sorted(used(body) - NAMES)
    if unknown_body:
        errors["body"] = unknown_message(unknown_body)
    return errors


def unknown_message(names: list[str]) -> str:
    """Return the message naming placeholders that do not exist."""
    return _(
        "Unbekannte Platzhalter: %(names)s. Möglich sind: %(known)s.",
        names=", ".join(f"{{{n}}}" for n in names),
        known=", ".join(f"{{{p.name}}}" for p in PLACEHOLDERS),
    )


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each known placeholder with its value in one pass (values are not read again)."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def ensure_valid(subject: str, body: str) -> None:
    """Raise a DomainError (on the first field at fault) when a placeholder is unknown."""
    errors = check(subject, body)
    for field, message in errors.items():
        raise DomainError(message, field=field)
