"""Which columns each import understands: German headings first, English aliases beside them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from eventapp.services.imports.reading import UnreadableFile


@dataclass(frozen=True)
class Column:
    """One column an import reads: its field, its heading and the other headings it accepts."""

    name: str
    heading: LazyString
    aliases: tuple[str, ...] = ()
    required: bool = False


def heading_key(text: str) -> str:
    """Reduce a heading to letters and digits, lower-cased: "E-Mail-Adresse" → "emailadresse"."""
    return re.sub(r"[\W_]+", "", text.casefold())


PARTICIPANT_COLUMNS = (
    Column("last_name", _l("Nachname"), ("Name", "Familienname", "last name", "surname"), True),
    Column("first_name", _l("Vorname"), ("first name", "given name"), True),
    Column("email", _l("E-Mail"), ("E-Mail-Adresse", "Email", "Mail", "e-mail address"), True),
    Column("title", _l("Titel"), ("Akademischer Titel", "title")),
    Column("salutation", _l("Anrede"), ("salutation",)),
    Column("organisation", _l("Organisation"), ("Institution", "Dienststelle", "organization")),
    Column("network", _l("Netzwerk"), ("Fachkräftenetzwerk", "network")),
    Column("state", _l("Bundesland"), ("Land", "state")),
    Column("role", _l("Rolle"), ("role",)),
    Column("workshops", _l("Workshops"), ("Workshop", "Angebote", "Programmpunkte", "activities")),
    Column("waitlist", _l("Warteliste"), ("waiting list",)),
    Column("accessibility_needs", _l("Barrierefreiheit"), ("accessibility",)),
    Column("dietary_wishes", _l("Verpflegung"), ("Ernährung", "diet")),
    Column("photo_consent", _l("Fotos erlaubt"), ("Fotos", "photo consent")),
    Column("language", _l("Sprache"), ("language",)),
    Column("organiser_notes", _l("Interne Notiz"), ("Notiz", "notes")),
    # Written by the export, derived on import: read and left alone.
    Column("status", _l("Status"), ("status",)),
    Column("registered_at", _l("Angemeldet am"), ("registered at",)),
)

PEOPLE_COLUMNS = (
    Column("name", _l("Name"), ("Vollständiger Name", "full name")),
    Column("first_name", _l("Vorname"), ("first name",)),
    Column("last_name", _l("Nachname"), ("last name", "surname")),
    Column("title", _l("Titel"), ("Titel oder Amt", "Amt", "title")),
    Column("organisation", _l("Organisation"), ("Institution", "organization")),
    Column("email", _l("E-Mail"), ("E-Mail-Adresse", "Email", "Mail", "e-mail address")),
    Column("bio", _l("Kurzbiografie"), ("Biografie", "Bio", "Beschreibung", "biography")),
)

PROGRAMME_COLUMNS = (
    Column("id", _l("ID"), ("Nr", "Nummer", "number")),
    Column("title", _l("Titel"), ("title",), True),
    Column("kind", _l("Art"), ("Typ", "kind", "type")),
    Column("room", _l("Raum"), ("room",)),
    Column("day", _l("Datum"), ("Tag", "date", "day")),
    Column("starts", _l("Beginn"), ("Start", "Von", "starts", "start time"), True),
    Column("ends", _l("Ende"), ("Bis", "ends", "end", "end time"), True),
    Column("capacity", _l("Kapazität"), ("Plätze", "capacity", "seats")),
    Column("requires_enrolment", _l("Anmeldung"), ("Teilnahme nur mit Anmeldung", "enrolment")),
    Column(
        "speakers",
        _l("Referent*innen"),
        ("Referentinnen und Referenten", "Referenten", "Referent", "Speaker", "speakers"),
    ),
    Column("moderators", _l("Moderation"), ("Moderator*innen", "moderators")),
    Column("description", _l("Beschreibung"), ("description",)),
    Column("language", _l("Sprache"), ("language",)),
    Column("published", _l("Veröffentlicht"), ("published",)),
    Column("cancelled", _l("Abgesagt"), ("cancelled",)),
    Column("overlap_confirmed", _l("Überschneidung bewusst"), ("overlap confirmed",)),
)


@dataclass
class ColumnMap:
    """Where each known column sits in the file, and the file's own heading for messages."""

    columns: tuple[Column, ...]
    index: dict[str, int]
    headings: dict[str, str]
    ignored: list[str]

    def has(self, name: str) -> bool:
        """Tell whether the file has this column."""
        return name in self.index

    def value(self, cells: list[str], name: str) -> str:
        """Return a row's cell of a column ("" when the file lacks it or the row is short)."""
        position = self.index.get(name)
        if position is None or position >= len(cells):
            return ""
        return cells[position]

    def heading(self, name: str) -> str:
        """Return the column's heading as the file spells it (else the German heading)."""
        if name in self.headings:
            return self.headings[name]
        return next(str(c.heading) for c in self.columns if c.name == name)


def map_columns(columns: tuple[Column, ...], header: list[str]) -> ColumnMap:
    """Find each known column in the header row; refuse missing, repeated or no known columns."""
    lookup: dict[str, Column] = {}
    for column in columns:
        for text in (str(column.heading), column.heading._args[0], *column.aliases):
            lookup.setdefault(heading_key(text), column)
    index: dict[str, int] = {}
    headings: dict[str, str] = {}
    ignored: list[str] = []
    for position, text in enumerate(header):
        column = lookup.get(heading_key(text))
        if column is None:
            if text.strip():
                ignored.append(text.strip())
            continue
        if column.name in index:
            raise UnreadableFile(
                _(
                    "Die Spalte „%(heading)s“ kommt zweimal vor (auch als „%(other)s“). Bitte "
                    "lassen Sie eine davon weg.",
                    heading=headings[column.name],
                    other=text.strip(),
                )
            )
        index[column.name] = position
        headings[column.name] = text.strip()
    missing = [str(c.heading) for c in columns if c.required and c.name not in index]
    if missing:
        raise UnreadableFile(
            _(
                "Der Datei fehlen Spalten: %(missing)s. Die erste Zeile muss die Überschriften "
                "enthalten.",
                missing=", ".join(f"„{m}“" for m in missing),
            )
        )
    return ColumnMap(columns, index, headings, ignored[:20])
