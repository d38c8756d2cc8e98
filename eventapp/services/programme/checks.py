"""The programme: create and change activities under the timetable rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityKind,
    ActivityPerson,
    EnrolmentStatus,
    Event,
    Person,
    PersonRole,
    Room,
)
from eventapp.services import DomainError
from eventapp.services.calendar import ical
from eventapp.services.mail import change_notices
from eventapp.services.programme.participant_clashes import (
    ClashChoice,
    clash_conflicts,
    settle_participant_clashes,
)
from eventapp.services.programme.scheduling import (
    Conflict,
    ConflictKind,
    Slot,
    find_conflicts,
    slot_of,
)
from eventapp.services.registration.registrations import change_capacity
from eventapp.timezones import from_local, to_local, utcnow


class ActivityRefused(DomainError):
    """An activity could not be saved; carries every conflict so the form shows them by field."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(conflicts[0].message, conflicts[0].field)
        self.conflicts = conflicts

    @property
    def needs_confirmation(self) -> bool:
        """Tell whether only overlaps stand in the way, so confirming them would save."""
        return all(c.is_overlap or c.is_participant_clash for c in self.conflicts)


# --- Activities ----------------------------------------------------------------------------


@dataclass
class ActivityValues:
    """What an organiser typed for an activity; day and times are in the event's zone."""

    title: str
    kind: ActivityKind
    day: date
    starts: time
    ends: time
    room_id: int | None = None
    # None: take the room's seat count.
    capacity: int | None = None
    # None: by kind (workshops and exchange circles need enrolment).
    requires_enrolment: bool | None = None
    speakers: list[str] = field(default_factory=list)
    moderators: list[str] = field(default_factory=list)
    description: str = ""
    language: str = "de"
    published: bool = True
    cancelled: bool = False
    overlap_confirmed: bool = False
    # How to save anyway when participants would hold two activities at once (None: refuse).
    participant_clash_choice: ClashChoice | None = None

    @property
    def needs_enrolment(self) -> bool:
        """Tell whether participants enrol: as typed, else as the kind has it."""
        if self.requires_enrolment is not None:
            return self.requires_enrolment
        return self.kind.needs_enrolment

    def people_by_role(self) -> tuple[tuple[PersonRole, list[str]], ...]:
        """Return the typed names per role, speakers first."""
        return ((PersonRole.SPEAKER, self.speakers), (PersonRole.MODERATOR, self.moderators))


def known_values(activity: Activity) -> dict[str, object]:
    """Return what participants know of an activity: title, times, room and cancellation."""
    return {
        "title": activity.title,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "room_id": activity.room_id,
        "cancelled": activity.cancelled,
    }


def split_names(text: str) -> list[str]:
    """Turn one-name-per-line text into a clean list without repeats."""
    names: list[str] = []
    for line in text.replace(";", "\n").splitlines():
        name = " ".join(line.split())
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def _known_people(names: list[str]) -> dict[str, Person]:
    """Map typed names (lower-cased) to existing people, by name or by title and name."""
    if not names:
        return {}
    wanted = {n.lower() for n in names}
    found: dict[str, Person] = {}
    for person in db.session.scalars(sa.select(Person)):
        for key in (person.name.lower(), person.display_name.lower()):
            if key in wanted:
                found[key] = person
    return found


def _local_instant(day: date, wall: time, zone_name: str) -> tuple[datetime, bool]:
    """Return the UTC instant of a wall-clock time and whether that time exists that day."""
    moment = from_local(day, wall, zone_name)
    back = to_local(moment, zone_name)
    return moment, (back.date(), back.time().replace(second=0)) == (day, wall.replace(second=0))


def _event_slots(event: Event, exclude_id: int | None) -> list[Slot]:
    activities = db.session.scalars(
        sa.select(Activity)
        .where(Activity.event_id == event.id)
        .options(
            selectinload(Activity.room),
            selectinload(Activity.people).selectinload(ActivityPerson.person),
        )
    ).all()
    return [slot_of(a) for a in activities if a.id != exclude_id]


@dataclass
class CheckedActivity:
    """Typed values resolved against the event: what would be saved and the rules broken."""

    room: Room | None
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    # Existing people among the typed names, by lower-cased name (new ones are added on save).
    known_people: dict[str, Person]
    conflicts: list[Conflict]

    @property
    def has_overlaps(self) -> bool:
        """Tell whether the values overlap another activity (confirmed or not)."""
        return any(c.is_overlap for c in self.conflicts)


def _value_error(kind: ConflictKind, own_id: int | None, field: str, message: str) -> Conflict:
    """Return a broken rule of the typed values themselves, shown next to one field."""
    return Conflict(kind, (own_id,), field, message)


def _resolve_room(
    event: Event, values: ActivityValues, own_id: int | None
) -> tuple[Room | None, list[Conflict]]:
    """Return the chosen room if it belongs to the event, else no room and the error."""
    if values.room_id is None:
        return None, []
    room = db.session.get(Room, values.room_id)
    if room is not None and room.event_id == event.id:
        return room, []
    message = _(
        "Dieser Raum gehört nicht zu dieser Veranstaltung. Bitte wählen Sie einen aus der Liste."
    )
    return None, [_value_error(ConflictKind.ROOM_OF_OTHER_EVENT, own_id, "room", message)]


def _resolve_times(
    event: Event, values: ActivityValues, own_id: int | None
) -> tuple[datetime, datetime, list[Conflict]]:
    """Return start and end as UTC instants, with an error for a time the clock change skips."""
    starts_at, starts_exist = _local_instant(values.day, values.starts, event.timezone)
    ends_at, ends_exist = _local_instant(values.day, values.ends, event.timezone)
    message = _("Diese Uhrzeit gibt es an diesem Tag wegen der Zeitumstellung nicht.")
    errors = [
        _value_error(ConflictKind.NONEXISTENT_TIME, own_id, name, message)
        for name, exists in (("starts_at", starts_exist), ("ends_at", ends_exist))
        if not exists
    ]
    return starts_at, ends_at, errors


def _resolve_capacity(
    values: ActivityValues, room: Room | None, own_id: int | None
) -> tuple[int | None, list[Conflict]]:
    """Return the seat count (typed, else the room's) and an error if it cannot be used."""
    capacity = values.capacity if values.capacity is not None else (room.capacity if room else None)
    if capacity is not None and capacity < 0:
        message = _("Die Platzzahl darf nicht negativ sein.")
        return capacity, [_value_error(ConflictKind.NEGATIVE_CAPACITY, own_id, "capacity", message)]
    if capacity is None and values.needs_enrolment:
        message = _("Bitte geben Sie eine Platzzahl an (oder wählen Sie einen Raum).")
        return capacity, [_value_error(ConflictKind.MISSING_CAPACITY, own_id, "capacity", message)]
    return capacity, []


def _people_of(
    values: ActivityValues, known: dict[str, Person]
) -> tuple[tuple[int | str, str, str], ...]:
    """Describe the typed speakers and moderators for the overlap rules."""
    return tuple(
        (
            known[name.lower()].id if name.lower() in known else name.lower(),
            known[name.lower()].display_name if name.lower() in known else name,
            str(role),
        )
        for role, names in values.people_by_role()
        for name in names
    )


def check_activity(
    event: Event, activity: Activity | None, values: ActivityValues
) -> CheckedActivity:
    """Resolve room, instants, seats and people and collect every rule the values break."""
    own_id = activity.id if activity else None
    room, errors = _resolve_room(event, values, own_id)
    starts_at, ends_at, time_errors = _resolve_times(event, values, own_id)
    capacity, capacity_errors = _resolve_capacity(values, room, own_id)
    known = _known_people(values.speakers + values.moderators)
    candidate = Slot(
        activity_id=own_id,
        title=values.title,
        starts_at=starts_at,
        ends_at=ends_at,
        room_id=room.id if room else None,
        room_name=room.name if room else "",
        room_capacity=room.capacity if room else None,
        capacity=capacity if capacity is None or capacity >= 0 else None,
        people=_people_of(values, known),
        cancelled=values.cancelled,
        # Only another activity's earlier confirmation counts as already settled.
        overlap_confirmed=False,
    )
    conflicts = find_conflicts(
        _event_slots(event, own_id), event.starts_on, event.ends_on, event.timezone, only=candidate
    )
    # Overlaps that another activity already confirmed stay saved without asking again.
    settled = [c for c in conflicts if not (c.is_overlap and c.confirmed)]
    clashes = clash_conflicts(activity, starts_at, ends_at, values.cancelled)
    return CheckedActivity(
        room,
        starts_at,
        ends_at,
        capacity,
        known,
        errors + time_errors + capacity_errors + settled + clashes,
    )


def _refuse_if_needed(checked: CheckedActivity, values: ActivityValues) -> None:
    """Refuse broken rules; overlaps and participant clashes only while not settled."""
    hard = [c for c in checked.conflicts if not (c.is_overlap or c.is_participant_clash)]
    overlaps = [c for c in checked.conflicts if c.is_overlap]
    clashes = [c for c in checked.conflicts if c.is_participant_clash]
    unsettled = clashes and values.participant_clash_choice is None
    if hard or (overlaps and not values.overlap_confirmed) or unsettled:
        raise ActivityRefused(hard + overlaps + clashes)


def _set_people(activity: Activity, values: ActivityValues, known: dict[str, Person]) -> None:
    """Link the typed speakers and moderators, creating people not known yet."""
    wanted: list[tuple[Person, PersonRole, int]] = []
    for role, names in values.people_by_role():
        for position, name in enumerate(names):
            person = known.get(name.lower())
            if person is None:
                person = Person(name=name)
                db.session.add(person)
                known[name.lower()] = person
            wanted.append((person, role, position))
    db.session.flush()
    keep = {(p.id, r): pos for p, r, pos in wanted}
    for link in list(activity.people):
        if (link.person_id, link.role) in keep:
            link.position = keep.pop((link.person_id, link.role))
        else:
            activity.people.remove(link)
    for person, role, position in wanted:
        if (person.id, role) in keep:
            activity.people.append(ActivityPerson(person=person, role=role, position=position))


def _apply(activity: Activity, values: ActivityValues, checked: CheckedActivity) -> None:
    """Write the checked values onto the activity."""
    activity.title = values.title.strip()
    activity.kind = values.kind
    activity.room = checked.room
    activity.starts_at, activity.ends_at = checked.starts_at, checked.ends_at
    activity.requires_enrolment = values.needs_enrolment
    activity.description = values.description.strip()
    activity.language = values.language
    activity.published = values.published
    activity.cancelled = values.cancelled
    activity.overlap_confirmed = values.overlap_confirmed
    _set_people(activity, values, checked.known_people)


def create_activity(event: Event, values: ActivityValues) -> Activity:
    """Add an activity to the programme, refusing it while it breaks a rule."""
    checked = check_activity(event, None, values)
    _refuse_if_needed(checked, values)
    activity = Activity(event=event, capacity=checked.capacity)
    db.session.add(activity)
    _apply(activity, values, checked)
    activity.overlap_confirmed = values.overlap_confirmed and checked.has_overlaps
    event.programme_changed_at = utcnow()
    db.session.flush()
    _store_feed_entries(activity)
    return activity


def update_activity(activity: Activity, values: ActivityValues) -> Activity:
    """Change an activity, refusing it while it breaks a rule; bump its revision if needed."""
    event = activity.event
    checked = check_activity(event, activity, values)
    _refuse_if_needed(checked, values)
    before = known_values(activity)
    if checked.capacity != activity.capacity:
        try:
            change_capacity(activity, checked.capacity)
        except DomainError as error:
            refusal = Conflict(
                ConflictKind.BELOW_SEATS_TAKEN, (activity.id,), "capacity", error.message
            )
            raise ActivityRefused([refusal]) from error
        activity.capacity = checked.capacity
    _apply(activity, values, checked)
    change_notices.record_change(activity, before)  # flushes too, so room_id is current below
    settle_participant_clashes(activity, before, values.participant_clash_choice)
    activity.overlap_confirmed = values.overlap_confirmed and checked.has_overlaps
    # Here `before` holds what participants knew and `activity` what they will see now.
    if known_values(activity) != before:
        activity.revision = (activity.revision or 0) + 1
    event.programme_changed_at = utcnow()
    db.session.flush()
    _store_feed_entries(activity)
    return activity


def _store_feed_entries(activity: Activity) -> None:
    """Store a published activity's VEVENTs with the save, so no feed request has to build them."""
    if activity.published:
        ical.store_vevents(activity, current_app.config["LANGUAGES"])


def delete_activity(activity: Activity) -> None:
    """Remove an activity nobody has a place in; otherwise it should be cancelled instead."""
    taken = sum(1 for e in activity.enrolments if e.status != EnrolmentStatus.CANCELLED)
    if taken:
        raise DomainError(
            _(
                "Für diesen Programmpunkt gibt es %(count)s Anmeldungen. Bitte sagen Sie ihn ab, "
                "statt ihn zu löschen.",
                count=taken,
            )
        )
    activity.event.programme_changed_at = utcnow()
    db.session.delete(activity)
    db.session.flush()
