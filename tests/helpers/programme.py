"""A published test programme, edits through the planner, and its calendar read back."""

from __future__ import annotations

from typing import Any

import icalendar

from eventapp.extensions import db
from eventapp.models import Activity, ActivityKind, ActivityPerson, Person, PersonRole
from eventapp.services.programme.checks import ActivityValues, update_activity
from eventapp.timezones import to_local
from tests.factories import make_activity, make_event, make_room

# The test client asks for this host, so feeds and pages served to it link there.
BASE = "http://localhost"


def build_programme() -> dict[str, Any]:
    """Create a published event with a plenary, a workshop with a speaker, a break and more."""
    event = make_event()
    hall = make_room(event, "Großer Saal", 300)
    room = make_room(event, "Raum 2", 20)
    opening = make_activity(event, "Eröffnung", "09:00", "10:00", hall, ActivityKind.PLENARY)
    workshop = make_activity(
        event, "Fachkräfte sichern", "10:30", "12:00", room, description="Praxis & Austausch"
    )
    speaker = Person(name="Beate Beispiel", title="Dr.", organisation="IHK")
    db.session.add(ActivityPerson(activity=workshop, person=speaker, role=PersonRole.SPEAKER))
    lunch = make_activity(event, "Mittagspause", "12:00", "13:00", None, ActivityKind.BREAK)
    other = make_activity(event, "Anderer Workshop", "10:30", "12:00", hall)
    hidden = make_activity(event, "Entwurf", "14:00", "15:00", hall, published=False)
    db.session.commit()
    return {
        "event": event,
        "opening": opening,
        "workshop": workshop,
        "lunch": lunch,
        "other": other,
        "hidden": hidden,
    }


def edit(activity: Activity, **changes: Any) -> None:
    """Change an activity through the planner's update, as the organiser's form does."""
    starts = to_local(activity.starts_at, activity.event.timezone)
    ends = to_local(activity.ends_at, activity.event.timezone)
    values = ActivityValues(
        title=activity.title,
        kind=activity.kind,
        day=starts.date(),
        starts=starts.time(),
        ends=ends.time(),
        room_id=activity.room_id,
        capacity=activity.capacity,
        requires_enrolment=activity.requires_enrolment,
        speakers=[p.name for p in activity.speakers],
        moderators=[p.name for p in activity.moderators],
        description=activity.description,
        language=activity.language,
        published=activity.published,
        cancelled=activity.cancelled,
    )
    for name, value in changes.items():
        setattr(values, name, value)
    update_activity(activity, values)
    db.session.commit()


def parse(body: bytes) -> icalendar.Calendar:
    """Parse with icalendar."""
    return icalendar.Calendar.from_ical(body)


def vevents(body: bytes) -> dict[str, icalendar.Event]:
    """Return the VEVENTs by SUMMARY."""
    return {str(e["SUMMARY"]): e for e in parse(body).walk("VEVENT")}
