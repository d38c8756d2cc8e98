"""Import speakers and moderators: the person form's checks, matched by name and e-mail."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from eventapp.extensions import db
from eventapp.forms import PersonForm
from eventapp.models import Event, Person
from eventapp.services.imports.columns import PEOPLE_COLUMNS, ColumnMap
from eventapp.services.imports.rows import (
    ImportOptions,
    Outcome,
    RowRefused,
    RowResult,
    cell_message,
)
from eventapp.services.programme.events import ValuesRefused, save_person

DETAILS = ("name", "title", "organisation", "email", "bio")


class PeopleImporter:
    """Add people and update known ones (same name, or a new name with a known address)."""

    columns = PEOPLE_COLUMNS

    def __init__(self, event: Event, options: ImportOptions) -> None:
        self.by_name: dict[str, Person] = {}
        self.by_email: dict[str, list[Person]] = {}
        for person in db.session.scalars(sa.select(Person)):
            self.by_name[person.name.casefold()] = person
            if person.email:
                self.by_email.setdefault(person.email.casefold(), []).append(person)
        self.seen: dict[str, int] = {}

    def full_name(self, columns: ColumnMap, cells: list[str]) -> str:
        """Return the name: the Name column, else first and last name joined."""
        if columns.has("name"):
            return " ".join(columns.value(cells, "name").split())
        first, last = columns.value(cells, "first_name"), columns.value(cells, "last_name")
        return " ".join(f"{first} {last}".split())

    def label(self, columns: ColumnMap, cells: list[str]) -> str:
        """Name the row's person."""
        return self.full_name(columns, cells)

    def field_heading(self, columns: ColumnMap, name: str | None) -> str:
        """Return the file's heading for a form field."""
        if name == "name" and not columns.has("name"):
            return columns.heading("last_name")
        return columns.heading(name) if name in {c.name for c in self.columns} else ""

    def import_row(self, columns: ColumnMap, cells: list[str], number: int) -> RowResult:
        """Check one row like the person form, then add or update the person."""
        if not (columns.has("name") or columns.has("last_name")):
            raise RowRefused(
                [_("Die Datei braucht eine Spalte „Name“ (oder „Vorname“ und „Nachname“).")]
            )
        name = self.full_name(columns, cells)
        errors: list[str] = []
        key = name.casefold()
        if key and key in self.seen:
            errors.append(
                cell_message(
                    self.field_heading(columns, "name"),
                    _("Diese Person steht schon in Zeile %(row)s.", row=self.seen[key]),
                )
            )
        elif key:
            self.seen[key] = number
        email = columns.value(cells, "email").strip()
        person = self.by_name.get(key)
        if person is None and email:
            same_address = self.by_email.get(email.casefold(), [])
            person = same_address[0] if len(same_address) == 1 else None
        elif (
            person is not None
            and email
            and person.email
            and person.email.casefold() != email.casefold()
        ):
            errors.append(
                cell_message(
                    columns.heading("email"),
                    _(
                        "Unter diesem Namen ist schon eine Person mit der Adresse %(email)s "
                        "gespeichert. Ist es dieselbe Person, tragen Sie diese Adresse ein; "
                        "sonst unterscheiden Sie die Namen.",
                        email=person.email,
                    ),
                )
            )
        values = {d: (getattr(person, d) if person else "") for d in DETAILS}
        values["name"] = name
        for detail in ("title", "organisation", "email", "bio"):
            if columns.has(detail):
                values[detail] = columns.value(cells, detail)
        form = PersonForm(formdata=MultiDict(values), meta={"csrf": False})
        form.validate()
        for field_name, field in form._fields.items():
            for message in field.errors:
                errors.append(cell_message(self.field_heading(columns, field_name), message))
        if errors:
            raise RowRefused(errors)
        details = [form.name.data] + [getattr(form, d).data or "" for d in DETAILS[1:]]
        if person is not None:
            before = [getattr(person, d) for d in DETAILS]
            if [str(v).strip() for v in before] == [" ".join(details[0].split())] + [
                d.strip() for d in details[1:]
            ]:
                return RowResult(number, name, Outcome.UNCHANGED)
        new = person is None
        if person is None:
            person = Person(name=" ".join(details[0].split()))
            db.session.add(person)
        try:
            save_person(person, *details)
        except ValuesRefused as refused:
            raise RowRefused(
                [cell_message(self.field_heading(columns, f), m) for f, m in refused.errors]
            ) from None
        self.by_name[person.name.casefold()] = person
        if new:
            return RowResult(number, name, Outcome.NEW)
        changed = [
            columns.heading(d) if d != "name" else self.field_heading(columns, "name")
            for d, old in zip(DETAILS, before, strict=True)
            if str(old).strip() != str(getattr(person, d)).strip()
        ]
        return RowResult(
            number,
            name,
            Outcome.UPDATE,
            notes=[_("geändert: %(columns)s", columns=", ".join(changed))],
        )
