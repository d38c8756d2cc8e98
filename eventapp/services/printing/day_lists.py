"""Lists for the day: sign-in sheets per activity and door signs per room."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityPerson,
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
    Room,
)
from eventapp.services import DomainError
from eventapp.services.checkin.attendance import admission_times
from eventapp.services.printing.badges import german_sort_key, network_text
from eventapp.services.printing.documents import render_pdf
from eventapp.services.programme.published import published_activities_query
from eventapp.timezones import to_local


@dataclass(frozen=True)
class SignInRow:
    """One line of a sign-in sheet."""

    number: int
    name: str
    organisation: str
    network: str
    # When the person was let in at the workshop's door (sheets "with check-ins" only).
    attended_at: datetime | None = None


@dataclass(frozen=True)
class SignInSheet:
    """The confirmed participants of one activity and, separately, its waiting list.

    With check-ins, each row says whether and when the person was let in at the door.
    """

    activity: Activity
    confirmed: list[SignInRow]
    waiting: list[SignInRow]
    with_checkins: bool = False

    @property
    def present(self) -> int:
        """Count the confirmed people let in at the door."""
        return sum(1 for row in self.confirmed if row.attended_at is not None)


@dataclass(frozen=True)
class DoorSign:
    """One room on one day with its activities."""

    room: Room
    day: date
    activities: list[Activity]


def _rows(
    registrations: list[Registration], attended: dict[int, datetime] | None = None
) -> list[SignInRow]:
    attended = attended or {}
    return [
        SignInRow(i, f"{r.last_name}, {' '.join(p for p in (r.title, r.first_name) if p)}",
                  r.organisation, network_text(r), attended.get(r.id))
        for i, r in enumerate(registrations, start=1)
    ]  # fmt: skip


def sign_in_sheets(
    event: Event, activity_id: int | None = None, with_checkins: bool = False
) -> list[SignInSheet]:
    """Return a sheet for each activity with enrolment (or the one asked for).

    With check-ins, each confirmed person's row carries the time they were let in at the
    workshop's door (empty for those not let in).
    """
    query = (
        published_activities_query(event)
        .where(~Activity.cancelled)
        .options(
            selectinload(Activity.room),
            selectinload(Activity.enrolments)
            .selectinload(Enrolment.registration)
            .selectinload(Registration.network),
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    if activity_id is not None:
        query = query.where(Activity.id == activity_id)
    else:
        query = query.where(Activity.requires_enrolment)
    activities = db.session.scalars(query).all()
    attended = admission_times([a.id for a in activities]) if with_checkins else {}
    sheets = []
    for activity in activities:
        live = [
            e for e in activity.enrolments if e.registration.status != RegistrationStatus.CANCELLED
        ]
        confirmed = sorted(
            (e.registration for e in live if e.status == EnrolmentStatus.CONFIRMED),
            key=lambda r: (german_sort_key(r.last_name), german_sort_key(r.first_name)),
        )
        waiting = [
            e.registration
            for e in sorted(live, key=lambda e: (e.queued_at, e.id))
            if e.status == EnrolmentStatus.WAITLISTED
        ]
        sheets.append(
            SignInSheet(
                activity,
                _rows(confirmed, attended.get(activity.id)),
                _rows(waiting),
                with_checkins,
            )
        )
    return sheets


def page_of_pages_css(text: str) -> str:
    """Turn "Seite %(page)s von %(pages)s" into a CSS content value with the page counters."""
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted.replace("%(page)s", '" counter(page) "').replace(
        "%(pages)s", '" counter(pages) "'
    )


def render_sign_in_sheets(
    event: Event,
    language: str = "de",
    activity_id: int | None = None,
    with_checkins: bool = False,
    printed_at: datetime | None = None,
) -> bytes:
    """Render the sign-in sheets (Teilnehmerlisten) as one PDF.

    With check-ins, a column shows who was let in at the workshop's door and when, and the
    heading counts those present as of printed_at.

    Each activity's list is rendered on its own, so its pages count "Seite n von m" within
    that list; title, time and room repeat at the top of every page (a CSS running element),
    so a loose page can always be put back.
    """
    import pikepdf

    sheets = sign_in_sheets(event, activity_id, with_checkins)
    with force_locale(language):
        if not sheets:
            raise DomainError(_("Es gibt keine Programmpunkte mit Anmeldung."))
        title = _("Teilnehmerlisten – %(event)s", event=event.title)
        page_of_pages = page_of_pages_css(_("Seite %(page)s von %(pages)s"))
    writer = pikepdf.new()
    parts = []
    for sheet in sheets:
        pdf = render_pdf(
            "documents/sign_in_sheets.html",
            language,
            stylesheets=("lists.css",),
            event=event,
            title=title,
            sheets=[sheet],
            zone=event.timezone,
            page_of_pages=page_of_pages,
            printed_at=printed_at,
        )
        part = pikepdf.open(io.BytesIO(pdf))
        parts.append(part)
        writer.pages.extend(part.pages)
    writer.docinfo["/Title"] = title
    out = io.BytesIO()
    writer.save(out)
    return out.getvalue()


def door_signs(event: Event) -> list[DoorSign]:
    """Return one sign per room and day with that room's published activities."""
    activities = db.session.scalars(
        published_activities_query(event)
        .where(Activity.room_id.is_not(None))
        .options(selectinload(Activity.people).selectinload(ActivityPerson.person))
        .order_by(Activity.starts_at, Activity.id)
    ).all()
    signs = []
    for room in event.rooms:
        mine = [a for a in activities if a.room_id == room.id]
        days = sorted({to_local(a.starts_at, event.timezone).date() for a in mine}) or [
            event.starts_on
        ]
        for day in days:
            today = [a for a in mine if to_local(a.starts_at, event.timezone).date() == day]
            signs.append(DoorSign(room, day, today))
    return signs


def render_door_signs(event: Event, language: str = "de") -> bytes:
    """Render door signs: one A4 landscape page per room and day."""
    signs = door_signs(event)
    with force_locale(language):
        if not signs:
            raise DomainError(_("Die Veranstaltung hat noch keine Räume."))
        title = _("Türschilder – %(event)s", event=event.title)
    return render_pdf(
        "documents/door_signs.html",
        language,
        stylesheets=("lists.css",),
        event=event,
        title=title,
        signs=signs,
        zone=event.timezone,
    )
