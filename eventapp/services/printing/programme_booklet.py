"""The programme booklet: an accessible (tagged, PDF/UA-1) A4 PDF in German or English.

Data is grouped by day in the event's time zone here; the template only loops and formats.
The public PDF is cached on disk, keyed on the programme's last change and the language.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _

from eventapp.models import Activity, ActivityKind, Event, Room
from eventapp.services.printing.documents import render_pdf
from eventapp.services.programme.published import published_activities
from eventapp.timezones import to_local

# Rooms beyond this many put the day at a glance on a landscape page.
PORTRAIT_ROOMS = 4


@dataclass
class GlanceRow:
    """One start time of the day with what begins then in each room.

    Activities without a room (arrival, breaks, plenary-wide items) are `spanning`: their row
    runs across all rooms instead of filling a column of their own.
    """

    starts: datetime
    cells: list[list[Activity]]
    spanning: list[Activity] = field(default_factory=list)


@dataclass
class ProgrammeDay:
    """One day of the programme: its activities and the rooms × time grid."""

    day: date
    activities: list[Activity]
    rooms: list[Room] = field(default_factory=list)
    rows: list[GlanceRow] = field(default_factory=list)

    @property
    def landscape(self) -> bool:
        """Tell whether the grid needs a landscape page."""
        return len(self.rooms) > PORTRAIT_ROOMS


def programme_days(event: Event, activities: list[Activity]) -> list[ProgrammeDay]:
    """Group activities by local day and build each day's rooms × time grid."""
    by_day: dict[date, list[Activity]] = defaultdict(list)
    for activity in activities:
        by_day[to_local(activity.starts_at, event.timezone).date()].append(activity)
    room_order = {room.id: (room.position, room.name) for room in event.rooms}
    days = []
    for day in sorted(by_day):
        items = by_day[day]
        rooms = sorted(
            {a.room for a in items if a.room is not None}, key=lambda r: room_order[r.id]
        )
        rows = []
        for starts in sorted({a.starts_at for a in items}):
            spanning = [a for a in items if a.starts_at == starts and a.room is None]
            if spanning:
                rows.append(GlanceRow(starts, [], spanning))
            cells = [
                [a for a in items if a.starts_at == starts and a.room == room] for room in rooms
            ]
            if any(cells):
                rows.append(GlanceRow(starts, cells))
        days.append(ProgrammeDay(day, items, rooms, rows))
    return days


@dataclass(frozen=True)
class Cover:
    """What the booklet's cover says besides the event's own fields: hours and the award."""

    starts: datetime | None
    ends: datetime | None
    awards: list[Activity]


def cover(activities: list[Activity]) -> Cover:
    """Return the day's first start, last end and the award ceremonies for the cover."""
    held = [a for a in activities if not a.cancelled]
    return Cover(
        min((a.starts_at for a in held), default=None),
        max((a.ends_at for a in held), default=None),
        [a for a in held if a.kind == ActivityKind.AWARD_CEREMONY],
    )


def render_programme(event: Event, language: str = "de") -> bytes:
    """Render the programme booklet as a tagged PDF in the given language."""
    activities = published_activities(event)
    with force_locale(language):
        title = _("Programm – %(event)s", event=event.title)
    return render_pdf(
        "documents/programme.html",
        language,
        stylesheets=("programme.css",),
        pdf_variant="pdf/ua-1",
        event=event,
        title=title,
        days=programme_days(event, activities),
        cover=cover(activities),
        rooms=list(event.rooms),
        zone=event.timezone,
    )


def cached_programme(event: Event, language: str, folder: Path) -> Path:
    """Return the programme PDF from the disk cache, rendering it when the programme changed."""
    stamp = event.programme_changed_at.strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"programme-{event.id}-{language}-{stamp}.pdf"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    pdf = render_programme(event, language)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pdf)
    partial.replace(path)  # atomic: a concurrent worker never reads half a file
    for old in folder.glob(f"programme-{event.id}-{language}-*.pdf"):
        if old != path:
            old.unlink(missing_ok=True)
    return path
