"""Moving an activity on the timetable: another room or start, same length, the form's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _

from eventapp.models import Activity
from eventapp.services import DomainError
from eventapp.services.programme.checks import ActivityValues, update_activity
from eventapp.services.programme.participant_clashes import ClashChoice
from eventapp.timezones import to_local


@dataclass(frozen=True)
class Move:
    """Where an organiser put an activity: room (None: all rooms), day and start, wall clock."""

    room_id: int | None
    day: date
    starts: time
    # Save overlaps deliberately, as the form's "bewusst speichern" box does.
    overlap_confirmed: bool = False
    participant_clash_choice: ClashChoice | None = None


def values_of(activity: Activity) -> ActivityValues:
    """Return the activity's stored values as the edit form would show and send them back."""
    zone_name = activity.event.timezone
    starts = to_local(activity.starts_at, zone_name)
    ends = to_local(activity.ends_at, zone_name)
    return ActivityValues(
        title=activity.title,
        kind=activity.kind,
        day=starts.date(),
        starts=starts.time().replace(tzinfo=None),
        ends=ends.time().replace(tzinfo=None),
        room_id=activity.room_id,
        capacity=activity.capacity,
        requires_enrolment=activity.requires_enrolment,
        speakers=[p.display_name for p in activity.speakers],
        moderators=[p.display_name for p in activity.moderators],
        description=activity.description or "",
        language=activity.language,
        published=activity.published,
        cancelled=activity.cancelled,
        overlap_confirmed=activity.overlap_confirmed,
    )


def move_activity(activity: Activity, move: Move) -> Activity:
    """Put the activity in another room or at another start, keeping its length.

    The change goes through the form's own update, so the same conflicts refuse it and the same
    change notices, revision and feed entries follow.
    """
    values = values_of(activity)
    zone_name = activity.event.timezone
    length = to_local(activity.ends_at, zone_name).replace(tzinfo=None) - to_local(
        activity.starts_at, zone_name
    ).replace(tzinfo=None)
    new_start = datetime.combine(move.day, move.starts)
    new_end = new_start + length
    if new_end.date() != move.day:
        raise DomainError(
            _(
                "So spät beginnend würde der Programmpunkt über Mitternacht hinaus dauern. "
                "Bitte wählen Sie einen früheren Beginn."
            ),
            "starts",
        )
    values.day = move.day
    values.starts = move.starts
    values.ends = new_end.time()
    values.room_id = move.room_id
    values.overlap_confirmed = move.overlap_confirmed
    values.participant_clash_choice = move.participant_clash_choice
    return update_activity(activity, values)
