"""Import the programme: the activity form's checks and the timetable rules (rooms, people,
times), matched by number or by title and start."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from eventapp.extensions import db
from eventapp.forms import ActivityForm
from eventapp.models import Activity, ActivityKind, ActivityPerson, Event, Room
from eventapp.request_numbers import whole_number
from eventapp.services.imports.columns import PROGRAMME_COLUMNS, ColumnMap, heading_key
from eventapp.services.imports.rows import (
    LANGUAGES,
    ImportOptions,
    Outcome,
    RowRefused,
    RowResult,
    cell_message,
    label_lookup,
    language_error,
    yes_no,
    yes_no_error,
)
from eventapp.services.programme.checks import (
    ActivityRefused,
    ActivityValues,
    create_activity,
    split_names,
    update_activity,
)
from eventapp.timezones import from_local, to_local

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")
# Columns that show the timetable rules' complaints, by the rule's field.
CONFLICT_COLUMNS = {
    "room": "room", "starts_at": "starts", "ends_at": "ends", "capacity": "capacity",
    "people": "speakers", "title": "title",
}  # fmt: skip
FLAGS = ("published", "cancelled", "overlap_confirmed")


def split_moment(text: str) -> tuple[date | None, str]:
    """Split "2026-06-11 09:30" or "11.06.2026 09:30" into day and "09:30"; else (None, text)."""
    parts = text.replace("T", " ").split()
    if len(parts) == 2:
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(parts[0], pattern).date(), parts[1]  # noqa: DTZ007
            except ValueError:
                continue
    return None, text.strip()


def parse_day(text: str) -> date | None:
    """Read a day as YYYY-MM-DD or TT.MM.JJJJ (None when it is neither)."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 (a calendar day)
        except ValueError:
            continue
    return None


class ProgrammeImporter:
    """Add activities and update known ones (by the ID column, else by title and start)."""

    columns = PROGRAMME_COLUMNS

    def __init__(self, event: Event, options: ImportOptions) -> None:
        self.event = event
        self.kinds = label_lookup({k.value: k.label for k in ActivityKind})
        self.rooms = {
            r.name.casefold(): r
            for r in db.session.scalars(sa.select(Room).where(Room.event_id == event.id))
        }
        self.activities = {
            a.id: a
            for a in db.session.scalars(
                sa.select(Activity)
                .where(Activity.event_id == event.id)
                .options(
                    selectinload(Activity.room),
                    selectinload(Activity.people).selectinload(ActivityPerson.person),
                )
            )
        }
        self.by_title_start = {
            (" ".join(a.title.split()).casefold(), a.starts_at): a for a in self.activities.values()
        }
        self.seen: dict[object, int] = {}

    def label(self, columns: ColumnMap, cells: list[str]) -> str:
        """Name the row's activity: its title and start."""
        title = columns.value(cells, "title")
        start = " ".join(
            v for v in (columns.value(cells, "day"), columns.value(cells, "starts")) if v
        )
        return f"{title} ({start})" if start else title

    def field_heading(self, columns: ColumnMap, name: str | None) -> str:
        """Return the file's heading for a form field or a timetable rule's field."""
        name = CONFLICT_COLUMNS.get(name or "", name or "")
        return columns.heading(name) if name in {c.name for c in self.columns} else ""

    def import_row(self, columns: ColumnMap, cells: list[str], number: int) -> RowResult:
        """Check one row like the activity form, then add or change the activity."""
        label = self.label(columns, cells)
        errors: list[str] = []
        known = self._by_id(columns, cells, errors)
        data = self._form_data(columns, cells, known, errors)
        form = ActivityForm(formdata=data, meta={"csrf": False})
        form.kind.choices = [SelectChoice(k.value, k.value) for k in ActivityKind]
        form.room.choices = [SelectChoice(str(r.id), r.name) for r in self.rooms.values()]
        form.validate()
        for name, field in form._fields.items():
            for message in field.errors:
                heading = {"day": "day", "starts": "starts", "ends": "ends"}.get(name, name)
                if name == "day" and not columns.has("day"):
                    heading = "starts"
                errors.append(cell_message(self.field_heading(columns, heading), message))
        if errors:
            raise RowRefused(errors)
        values = ActivityValues(
            title=form.title.data,
            kind=ActivityKind(form.kind.data),
            day=form.day.data,
            starts=form.starts.data,
            ends=form.ends.data,
            room_id=whole_number(form.room.data) if form.room.data else None,
            capacity=form.capacity.data,
            requires_enrolment={"yes": True, "no": False}.get(form.requires_enrolment.data),
            speakers=split_names(form.speakers.data or ""),
            moderators=split_names(form.moderators.data or ""),
            description=form.description.data or "",
            language=form.language.data,
            published=form.published.data,
            cancelled=form.cancelled.data,
            overlap_confirmed=form.overlap_confirmed.data,
        )
        starts_at = from_local(values.day, values.starts, self.event.timezone)
        key = (" ".join(values.title.split()).casefold(), starts_at)
        if key in self.seen:
            raise RowRefused(
                [
                    cell_message(
                        columns.heading("title"),
                        _(
                            "Dieser Programmpunkt (gleicher Titel und Beginn) steht schon in "
                            "Zeile %(row)s.",
                            row=self.seen[key],
                        ),
                    )
                ]
            )
        self.seen[key] = number
        if known is None:
            known = self.by_title_start.get(key)
        try:
            if known is None:
                activity = create_activity(self.event, values)
                self.activities[activity.id] = activity
                return RowResult(number, label, Outcome.NEW, notes=self._notes(activity))
            changed = self._changes(known, values)
            if not changed:
                return RowResult(number, label, Outcome.UNCHANGED)
            update_activity(known, values)
        except ActivityRefused as refused:
            raise RowRefused(
                [
                    cell_message(self.field_heading(columns, c.field), c.message)
                    if self.field_heading(columns, c.field)
                    else c.message
                    for c in refused.conflicts
                ]
            ) from None
        headings = [columns.heading(name) for name in changed]
        return RowResult(
            number,
            label,
            Outcome.UPDATE,
            notes=[_("geändert: %(columns)s", columns=", ".join(headings)), *self._notes(known)],
        )

    def _by_id(self, columns: ColumnMap, cells: list[str], errors: list[str]) -> Activity | None:
        """Return the activity the ID column names (an error when it names none of this event)."""
        raw = columns.value(cells, "id").strip()
        if not raw:
            return None
        number = whole_number(raw)
        activity = self.activities.get(number) if number is not None else None
        if activity is None:
            errors.append(
                cell_message(
                    columns.heading("id"),
                    _(
                        "Einen Programmpunkt mit der Nummer „%(number)s“ gibt es bei dieser "
                        "Veranstaltung nicht. Lassen Sie das Feld für neue Programmpunkte leer.",
                        number=raw,
                    ),
                )
            )
        return activity

    def _stored(self, activity: Activity) -> dict[str, str]:
        """Return an activity's values as the form would hold them."""
        zone = self.event.timezone
        data = {
            "title": activity.title,
            "kind": activity.kind.value,
            "room": str(activity.room_id) if activity.room_id else "",
            "day": to_local(activity.starts_at, zone).date().isoformat(),
            "starts": to_local(activity.starts_at, zone).strftime("%H:%M"),
            "ends": to_local(activity.ends_at, zone).strftime("%H:%M"),
            "capacity": "" if activity.capacity is None else str(activity.capacity),
            "requires_enrolment": "yes" if activity.requires_enrolment else "no",
            "speakers": "\n".join(p.display_name for p in activity.speakers),
            "moderators": "\n".join(p.display_name for p in activity.moderators),
            "description": activity.description,
            "language": activity.language,
        }
        for flag in FLAGS:
            if getattr(activity, flag):
                data[flag] = "y"
        return data

    def _form_data(
        self, columns: ColumnMap, cells: list[str], known: Activity | None, errors: list[str]
    ) -> MultiDict[str, str]:
        """Return what the activity form would hold: stored values overlaid with the cells."""
        data: dict[str, str] = (
            self._stored(known)
            if known is not None
            else {"requires_enrolment": "auto", "language": "de", "published": "y"}
        )
        for name in ("title", "description", "speakers", "moderators", "capacity"):
            if columns.has(name):
                data[name] = columns.value(cells, name)
        if columns.has("kind"):
            raw = columns.value(cells, "kind")
            kind = self.kinds.get(heading_key(raw))
            if kind is None:
                errors.append(
                    cell_message(
                        columns.heading("kind"),
                        _(
                            "„%(value)s“ ist keine Art von Programmpunkt. Möglich sind: %(kinds)s.",
                            value=raw,
                            kinds=", ".join(str(k.label) for k in ActivityKind),
                        )
                        if raw
                        else _("Bitte geben Sie die Art an (z. B. Plenum oder Workshop)."),
                    )
                )
                data["kind"] = ActivityKind.PLENARY.value  # the row is refused anyway
            else:
                data["kind"] = kind
        elif known is None:
            errors.append(_("Die Datei braucht eine Spalte „Art“ für neue Programmpunkte."))
            data["kind"] = ActivityKind.PLENARY.value  # the row is refused anyway
        if columns.has("room"):
            raw = " ".join(columns.value(cells, "room").split())
            room = self.rooms.get(raw.casefold())
            if raw and room is None:
                errors.append(
                    cell_message(
                        columns.heading("room"),
                        _(
                            "Den Raum „%(room)s“ gibt es bei dieser Veranstaltung nicht. Bitte "
                            "legen Sie ihn zuerst unter „Räume“ an oder prüfen Sie die "
                            "Schreibweise.",
                            room=raw,
                        ),
                    )
                )
            data["room"] = str(room.id) if room else ""
        if columns.has("requires_enrolment"):
            raw = columns.value(cells, "requires_enrolment")
            choice = yes_no(raw) if raw.strip() else None
            if raw.strip() and choice is None:
                errors.append(yes_no_error(columns.heading("requires_enrolment")))
            data["requires_enrolment"] = {True: "yes", False: "no", None: "auto"}[choice]
        if columns.has("language"):
            raw = columns.value(cells, "language")
            data["language"] = LANGUAGES.get(heading_key(raw), "de") if raw.strip() else "de"
            if raw.strip() and heading_key(raw) not in LANGUAGES:
                errors.append(language_error(columns.heading("language"), raw))
        for flag in FLAGS:
            if columns.has(flag):
                raw = columns.value(cells, flag)
                on = yes_no(raw) if raw.strip() or flag != "published" else True
                if on is None:
                    errors.append(yes_no_error(columns.heading(flag)))
                data.pop(flag, None)
                if on:
                    data[flag] = "y"
        self._times(columns, cells, data, errors)
        return MultiDict(data)

    def _times(
        self, columns: ColumnMap, cells: list[str], data: dict[str, str], errors: list[str]
    ) -> date | None:
        """Put day, start and end into the form data from "09:30" cells or full date-times."""
        start_day, start_text = split_moment(columns.value(cells, "starts"))
        end_day, end_text = split_moment(columns.value(cells, "ends"))
        data["starts"], data["ends"] = start_text, end_text
        day_text = columns.value(cells, "day").strip() if columns.has("day") else ""
        day = start_day or (parse_day(day_text) if day_text else None)
        if start_day and day_text and parse_day(day_text) not in (None, start_day):
            errors.append(
                cell_message(
                    columns.heading("day"),
                    _("Der Tag passt nicht zum Datum im Beginn."),
                )
            )
        if day is None and not day_text and "day" not in data:
            if self.event.starts_on == self.event.ends_on:
                day = self.event.starts_on
            else:
                errors.append(
                    cell_message(
                        columns.heading("day"),
                        _(
                            "Die Veranstaltung hat mehrere Tage: Bitte geben Sie den Tag an "
                            "(Spalte „Datum“ oder im Beginn, z. B. 11.06.2026 09:30)."
                        ),
                    )
                )
        if end_day is not None and day is not None and end_day != day:
            errors.append(
                cell_message(
                    columns.heading("ends"),
                    _("Ein Programmpunkt endet am Tag seines Beginns."),
                )
            )
        if day is not None:
            data["day"] = day.isoformat()
        elif day_text:
            data["day"] = day_text  # the form says what is wrong with it
        return day

    def _changes(self, activity: Activity, values: ActivityValues) -> list[str]:
        """Return the columns whose values differ from the stored activity."""
        stored = self._stored(activity)
        typed = {
            "title": values.title.strip(),
            "kind": values.kind.value,
            "room": str(values.room_id) if values.room_id else "",
            "starts": f"{values.day.isoformat()} {values.starts.strftime('%H:%M')}",
            "ends": values.ends.strftime("%H:%M"),
            "capacity": "" if values.capacity is None else str(values.capacity),
            "requires_enrolment": "yes" if values.needs_enrolment else "no",
            "description": values.description.strip(),
            "language": values.language,
        }
        stored["starts"] = f"{stored['day']} {stored['starts']}"
        changed = [name for name, value in typed.items() if stored[name] != value]
        room_seats = activity.room.capacity if activity.room else None
        if values.capacity is None and activity.capacity == room_seats and "capacity" in changed:
            changed.remove("capacity")  # the room's seat count, as the form leaves it
        for flag in FLAGS:
            if getattr(activity, flag) != getattr(values, flag):
                changed.append(flag)
        for role, names in (("speakers", values.speakers), ("moderators", values.moderators)):
            people = activity.speakers if role == "speakers" else activity.moderators
            if [n.casefold() for n in names] != [p.display_name.casefold() for p in people] and [
                n.casefold() for n in names
            ] != [p.name.casefold() for p in people]:
                changed.append(role)
        return changed

    def _notes(self, activity: Activity) -> list[str]:
        """Describe where and when the activity takes place."""
        zone = self.event.timezone
        span = (
            f"{to_local(activity.starts_at, zone).strftime('%d.%m.%Y %H:%M')}–"
            f"{to_local(activity.ends_at, zone).strftime('%H:%M')}"
        )
        room = activity.room.name if activity.room else _("ohne Raum")
        return [f"{span}, {room}"]
