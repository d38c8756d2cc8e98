"""Registration lists for organisers: search and filter, activity lines, exports (CSV, XLSX)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp import labels
from eventapp.extensions import db
from eventapp.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    Network,
    Registration,
    RegistrationStatus,
    WorkshopAttendance,
)
from eventapp.plain_text import printable
from eventapp.services.checkin.attendance import admission_times, workshops_with_doors
from eventapp.timezones import format_local

# Characters that make spreadsheet programs treat a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RegistrationFilter:
    """What the organiser searches for; empty values do not filter."""

    text: str = ""
    network_id: int | None = None
    state: str = ""
    role: str = ""
    activity_id: int | None = None
    status: str = ""

    @property
    def active_count(self) -> int:
        """Count the filters that narrow the list."""
        values = (self.text, self.network_id, self.state, self.role, self.activity_id, self.status)
        return sum(1 for value in values if value not in ("", None))


def filter_conditions(event: Event, wanted: RegistrationFilter) -> list[sa.ColumnElement[bool]]:
    """Return the SQL conditions that pick the event's registrations matching the filter."""
    conditions: list[sa.ColumnElement[bool]] = [Registration.event_id == event.id]
    if wanted.text:
        pattern = f"%{wanted.text.lower()}%"
        conditions.append(
            sa.or_(
                sa.func.lower(Registration.first_name + " " + Registration.last_name).like(pattern),
                sa.func.lower(Registration.organisation).like(pattern),
                sa.func.lower(Registration.email).like(pattern),
            )
        )
    if wanted.network_id is not None:
        conditions.append(Registration.network_id == wanted.network_id)
    if wanted.state:
        conditions.append(Registration.state == wanted.state)
    if wanted.role:
        conditions.append(Registration.role == wanted.role)
    if wanted.status:
        conditions.append(Registration.status == wanted.status)
    if wanted.activity_id is not None:
        conditions.append(
            Registration.enrolments.any(
                sa.and_(
                    Enrolment.activity_id == wanted.activity_id,
                    Enrolment.status != EnrolmentStatus.CANCELLED,
                )
            )
        )
    return conditions


def search(
    event: Event, wanted: RegistrationFilter, limit: int | None = None
) -> list[Registration]:
    """Return the event's registrations matching the filter, by last and first name."""
    query = (
        sa.select(Registration)
        .where(*filter_conditions(event, wanted))
        .options(
            selectinload(Registration.network),
            selectinload(Registration.enrolments).selectinload(Enrolment.activity),
        )
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def activity_overview(event: Event) -> list[dict[str, Any]]:
    """Return each choosable activity with its seats, confirmed and waiting counts."""
    counts = {
        (activity_id, str(status)): number
        for activity_id, status, number in db.session.execute(
            sa.select(Enrolment.activity_id, Enrolment.status, sa.func.count())
            .join(Activity, Activity.id == Enrolment.activity_id)
            .where(Activity.event_id == event.id)
            .group_by(Enrolment.activity_id, Enrolment.status)
        )
    }
    activities = db.session.scalars(
        sa.select(Activity)
        .where(Activity.event_id == event.id, Activity.requires_enrolment.is_(True))
        .options(selectinload(Activity.room))
        .order_by(Activity.starts_at, Activity.id)
    ).all()
    return [
        {
            "activity": a,
            "confirmed": counts.get((a.id, "confirmed"), 0),
            "waitlisted": counts.get((a.id, "waitlisted"), 0),
        }
        for a in activities
    ]


def activity_lines(activity: Activity) -> tuple[list[Enrolment], list[Enrolment]]:
    """Return the confirmed list and the waiting list (in order) of one activity."""
    rows = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.activity_id == activity.id, Enrolment.status != EnrolmentStatus.CANCELLED)
        .options(selectinload(Enrolment.registration).selectinload(Registration.network))
        .order_by(Enrolment.queued_at, Enrolment.id)
    ).all()
    confirmed = [e for e in rows if e.status == EnrolmentStatus.CONFIRMED]
    waiting = [e for e in rows if e.status == EnrolmentStatus.WAITLISTED]
    confirmed.sort(key=lambda e: (e.registration.last_name, e.registration.first_name))
    return confirmed, waiting


def network_usage(event: Event) -> list[tuple[Network, int]]:
    """Return the networks with confirmed registrations and how many, most first."""
    rows = db.session.execute(
        sa.select(Network, sa.func.count(Registration.id))
        .join(Registration, Registration.network_id == Network.id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .group_by(Network.id)
        .order_by(sa.func.count(Registration.id).desc(), Network.name)
    ).all()
    return [(network, int(number)) for network, number in rows]


def safe_cell(value: Any) -> Any:
    """Drop characters a spreadsheet cannot hold; neutralise formulas (prefix an apostrophe)."""
    if isinstance(value, str):
        value = printable(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def attendance_cell(enrolment: Enrolment | None, attended_at: datetime | None, zone: str) -> str:
    """Say whether a person came to a workshop: "ja (10:27)", "nein" (had a seat), or ""."""
    if attended_at is not None:
        return _("ja (%(time)s)", time=format_local(attended_at, zone, "%H:%M"))
    if enrolment is not None and enrolment.status == EnrolmentStatus.CONFIRMED:
        return _("nein")
    return ""


def export_rows(event: Event, registrations: list[Registration]) -> list[list[Any]]:
    """Return a header and one row per registration for CSV and XLSX.

    After the person's details: the entrance check-in time, the workshops they were let in
    at ("Anwesend in"), and one column per workshop ("ja (10:27)", "nein" for a confirmed
    seat not used, empty otherwise), so a spreadsheet filter finds a workshop's no-shows.
    """
    workshops = workshops_with_doors(event)
    came = admission_times(a.id for a in workshops)
    header = [
        _("Nachname"), _("Vorname"), _("Titel"), _("Anrede"), _("Organisation"), _("Netzwerk"),
        _("Bundesland"), _("E-Mail-Adresse"), _("Rolle"), _("Status"), _("Workshops"),
        _("Warteliste"), _("Barrierefreiheit"), _("Verpflegung"), _("Fotos erlaubt"),
        _("Angemeldet am"), _("Sprache"), _("Interne Notiz"), _("Eingecheckt um"),
        _("Anwesend in"),
        *(_("Anwesend: %(title)s", title=a.title) for a in workshops),
    ]  # fmt: skip
    rows: list[list[Any]] = [header]
    for r in registrations:
        active = sorted(
            (e for e in r.enrolments if e.status != EnrolmentStatus.CANCELLED),
            key=lambda e: e.activity.starts_at,
        )
        held = {e.activity_id: e for e in active}
        attended = [(a, came.get(a.id, {}).get(r.id)) for a in workshops]
        rows.append(
            [
                r.last_name,
                r.first_name,
                r.title,
                r.salutation,
                r.organisation,
                r.network.name if r.network else "",
                r.state,
                r.email,
                str(labels.PARTICIPANT_ROLE_LABELS[r.role]),
                str(labels.REGISTRATION_STATUS_LABELS[r.status]),
                "; ".join(e.activity.title for e in active if e.status == "confirmed"),
                "; ".join(e.activity.title for e in active if e.status == "waitlisted"),
                r.accessibility_needs,
                r.dietary_wishes,
                _("ja") if r.photo_consent else _("nein"),
                format_local(r.created_at, event.timezone),
                r.language,
                r.organiser_notes,
                format_local(r.checked_in_at, event.timezone),
                "; ".join(a.title for a, at in attended if at is not None),
                *(attendance_cell(held.get(a.id), at, event.timezone) for a, at in attended),
            ]
        )
    return [[safe_cell(value) for value in row] for row in rows]


def activity_attendance_rows(event: Event, activity: Activity) -> list[list[Any]]:
    """Return a header and one row per person of a workshop: seat, whether and when they came.

    Everyone holding a seat or a place in line, and anyone let in at the door (an enrolment
    cancelled afterwards keeps its row); by last and first name.
    """
    confirmed, waiting = activity_lines(activity)
    came = {
        a.registration_id: a
        for a in db.session.scalars(
            sa.select(WorkshopAttendance)
            .where(WorkshopAttendance.activity_id == activity.id)
            .options(
                selectinload(WorkshopAttendance.registration).selectinload(Registration.network)
            )
        )
    }
    people = {e.registration_id: (e.registration, e) for e in [*confirmed, *waiting]}
    for registration_id, attendance in came.items():
        people.setdefault(registration_id, (attendance.registration, None))
    header = [
        _("Nachname"), _("Vorname"), _("Titel"), _("Organisation"), _("Netzwerk"),
        _("Platz im Workshop"), _("Anwesend"), _("Eingelassen um"), _("Einlass (Platz)"),
    ]  # fmt: skip
    rows: list[list[Any]] = [header]
    seat_labels = {
        EnrolmentStatus.CONFIRMED: _("bestätigt"),
        EnrolmentStatus.WAITLISTED: _("Warteliste"),
    }
    for registration, enrolment in sorted(
        people.values(), key=lambda pair: (pair[0].last_name, pair[0].first_name, pair[0].id)
    ):
        attendance = came.get(registration.id)
        rows.append(
            [
                registration.last_name,
                registration.first_name,
                registration.title,
                registration.organisation,
                registration.network.name if registration.network else "",
                seat_labels.get(enrolment.status, "") if enrolment is not None else "",
                _("ja") if attendance is not None else _("nein"),
                format_local(attendance.scanned_at, event.timezone) if attendance else "",
                attendance.desk if attendance else "",
            ]
        )
    return [[safe_cell(value) for value in row] for row in rows]


def to_csv(rows: list[list[Any]]) -> bytes:
    """Write rows as UTF-8 CSV with a byte-order mark and semicolons (opens right in Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], title: str) -> bytes:
    """Write rows as an XLSX workbook with a bold, frozen header row."""
    from openpyxl import Workbook  # imported here: slow to import, needed only for exports
    from openpyxl.styles import Font

    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = title[:31] or "Anmeldungen"
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
