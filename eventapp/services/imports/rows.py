"""Run an import row by row: each row's result (new, update, unchanged, error) for the preview.

The caller owns the transaction: a preview rolls everything back, a confirmation commits only
when no row failed. Each row runs in a savepoint, so a refused row leaves nothing behind and
the rows after it see the database as the import would leave it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import DataError, IntegrityError

from eventapp.extensions import db
from eventapp.models import Event, ImportKind
from eventapp.services import DomainError
from eventapp.services.imports.columns import Column, ColumnMap, heading_key, map_columns
from eventapp.services.imports.reading import Table, read_table


class Outcome(enum.StrEnum):
    """What the import does (or would do) with one row."""

    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


OUTCOME_LABELS = {
    Outcome.NEW: _l("neu"),
    Outcome.UPDATE: _l("Änderung"),
    Outcome.UNCHANGED: _l("unverändert"),
    Outcome.ERROR: _l("Fehler"),
}


class RowRefused(Exception):
    """A row cannot be imported; the messages name the column and say why, in German."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class RowResult:
    """One row's result: what it is about, what happens with it, and why."""

    number: int
    label: str
    outcome: Outcome
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def outcome_label(self) -> str:
        """Return the outcome in the reader's language."""
        return str(OUTCOME_LABELS[self.outcome])


@dataclass
class ImportOptions:
    """Choices made with an upload."""

    # Send new participants their confirmation (with the manage link) through the outbox.
    send_mail: bool = False
    # Version of the privacy notice the people in the file agreed to (recorded by the organiser).
    consent_version: str = ""


@dataclass
class ImportReport:
    """Every row's result and what was detected about the file."""

    kind: ImportKind
    encoding: str
    delimiter: str
    ignored_columns: list[str]
    rows: list[RowResult] = field(default_factory=list)

    @property
    def errors(self) -> list[RowResult]:
        """Return the rows that cannot be imported."""
        return [r for r in self.rows if r.outcome == Outcome.ERROR]

    @property
    def ok(self) -> bool:
        """Tell whether every row can be imported (and there is at least one)."""
        return bool(self.rows) and not self.errors

    def count(self, outcome: str) -> int:
        """Count the rows with one outcome."""
        return sum(1 for r in self.rows if r.outcome == outcome)

    def to_dict(self) -> dict:
        """Return the report as JSON-ready data (kept with the upload for its page)."""
        return {
            "kind": self.kind.value,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "ignored_columns": list(self.ignored_columns),
            "rows": [
                [
                    r.number,
                    str(r.label),
                    r.outcome.value,
                    [str(n) for n in r.notes],
                    [str(e) for e in r.errors],
                ]
                for r in self.rows
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        """Return the report stored by to_dict."""
        return cls(
            ImportKind(data["kind"]),
            str(data.get("encoding", "")),
            str(data.get("delimiter", "")),
            list(data.get("ignored_columns", [])),
            [
                RowResult(int(number), str(label), Outcome(outcome), list(notes), list(errors))
                for number, label, outcome, notes, errors in data.get("rows", [])
            ],
        )


class RowImporter(Protocol):
    """What each kind of import provides: its columns and how one row is imported."""

    columns: tuple[Column, ...]

    def label(self, columns: ColumnMap, cells: list[str]) -> str: ...

    def import_row(self, columns: ColumnMap, cells: list[str], number: int) -> RowResult: ...

    def field_heading(self, columns: ColumnMap, name: str | None) -> str: ...


def run_import(
    event: Event,
    kind: ImportKind,
    content: bytes,
    filename: str,
    options: ImportOptions,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read the file and import every row into the open transaction; the caller commits or not.

    Raises UnreadableFile when the file as a whole cannot be read.
    """
    from eventapp.services.imports import participants, people, programme

    makers: dict[ImportKind, Callable[[Event, ImportOptions], RowImporter]] = {
        ImportKind.PARTICIPANTS: participants.ParticipantImporter,
        ImportKind.PEOPLE: people.PeopleImporter,
        ImportKind.PROGRAMME: programme.ProgrammeImporter,
    }
    table: Table = read_table(content, filename)
    importer = makers[kind](event, options)
    columns = map_columns(importer.columns, table.header)
    report = ImportReport(kind, table.encoding, table.delimiter, columns.ignored)
    for done, (number, cells) in enumerate(table.rows, start=1):
        report.rows.append(_one_row(importer, columns, cells, number))
        if progress is not None:
            progress(done, len(table.rows))
    if not report.rows:
        report.rows.append(
            RowResult(
                2, "", Outcome.ERROR, errors=[_("Unter den Überschriften steht keine Zeile.")]
            )
        )
    return report


def _one_row(importer: RowImporter, columns: ColumnMap, cells: list[str], number: int) -> RowResult:
    """Import one row in a savepoint; turn every refusal into the row's error."""
    label = importer.label(columns, cells)
    try:
        with db.session.begin_nested():
            return importer.import_row(columns, cells, number)
    except RowRefused as refused:
        return RowResult(number, label, Outcome.ERROR, errors=refused.messages)
    except DomainError as error:
        heading = importer.field_heading(columns, error.field)
        message = cell_message(heading, error.message) if heading else error.message
        return RowResult(number, label, Outcome.ERROR, errors=[message])
    except (IntegrityError, DataError):  # a value the database refuses (a race, a range)
        message = _("Die Zeile widerspricht gespeicherten Daten und lässt sich nicht speichern.")
        return RowResult(number, label, Outcome.ERROR, errors=[message])


# --- Values in cells ------------------------------------------------------------------------

YES = frozenset({"ja", "j", "yes", "y", "x", "1", "wahr", "true"})
NO = frozenset({"nein", "n", "no", "0", "falsch", "false", ""})


def yes_no(text: str) -> bool | None:
    """Read ja/nein (yes/no, x, 1/0); None when the cell says neither."""
    key = text.strip().casefold()
    if key in YES:
        return True
    if key in NO:
        return False
    return None


def yes_no_error(heading: str) -> str:
    """Return the message for a cell that should say ja or nein."""
    return _("%(column)s: Bitte „ja“ oder „nein“ eintragen.", column=heading)


LANGUAGES = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "englisch": "en",
    "english": "en",
}


def language_error(heading: str, value: str) -> str:
    """Return the message for a language other than German or English."""
    return cell_message(
        heading, _("„%(value)s“: Bitte „de“ (Deutsch) oder „en“ (Englisch) eintragen.", value=value)
    )


def label_lookup(labels: dict[str, LazyString]) -> dict[str, str]:
    """Map each value, its German and its English label (reduced like headings) to the value."""
    found: dict[str, str] = {}
    for value, label in labels.items():
        found.setdefault(heading_key(value), value)
        for language in ("de", "en"):
            with force_locale(language):
                found.setdefault(heading_key(str(label)), value)
    return found


def cell_message(heading: str, message: object) -> str:
    """Return a message naming its column: "E-Mail: Bitte geben Sie …"."""
    return f"{heading}: {message}"
