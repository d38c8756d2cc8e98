"""Timetable rules: conflicts between activities, and the day grids organisers plan on."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _

from eventapp.models import Activity, Event, PersonRole, Room
from eventapp.timezones import format_local, local_day_bounds, to_local

MINUTES_PER_ROW = 5


class ConflictKind(enum.StrEnum):
    """Which planning rule an activity breaks."""

    ENDS_BEFORE_START = "ends_before_start"
    OUTSIDE_EVENT_DAYS = "outside_event_days"
    ABOVE_ROOM_CAPACITY = "above_room_capacity"
    ROOM_OVERLAP = "room_overlap"
    PERSON_OVERLAP = "person_overlap"
    # Checks of typed values before an activity exists.
    ROOM_OF_OTHER_EVENT = "room_of_other_event"
    NEGATIVE_CAPACITY = "negative_capacity"
    MISSING_CAPACITY = "missing_capacity"
    NONEXISTENT_TIME = "nonexistent_time"
    BELOW_SEATS_TAKEN = "below_seats_taken"
    # Participants who would hold two activities at the same time (participant_clashes.py).
    PARTICIPANT_OVERLAP = "participant_overlap"


# Overlaps may be saved deliberately (a room split by a partition); everything else may not.
OVERLAP_KINDS = frozenset({ConflictKind.ROOM_OVERLAP, ConflictKind.PERSON_OVERLAP})


@dataclass(frozen=True)
class Slot:
    """What the rules need to know about one activity, saved or still being typed."""

    activity_id: int | None
    title: str
    starts_at: datetime
    ends_at: datetime
    room_id: int | None = None
    room_name: str = ""
    room_capacity: int | None = None
    capacity: int | None = None
    # (person key, display name, role); the key is the person's id, or the typed name if new.
    people: tuple[tuple[int | str, str, str], ...] = ()
    cancelled: bool = False
    overlap_confirmed: bool = False


@dataclass(frozen=True)
class Conflict:
    """One broken rule: its kind, the activities involved, the form field and a message."""

    kind: ConflictKind
    activity_ids: tuple[int | None, ...]
    field: str
    message: str
    # Set for overlaps that an organiser confirmed as deliberate.
    confirmed: bool = False
    person_name: str = ""

    @property
    def is_overlap(self) -> bool:
        """Tell whether an organiser may save this conflict by confirming it."""
        return self.kind in OVERLAP_KINDS

    @property
    def is_participant_clash(self) -> bool:
        """Tell whether participants would hold two activities at once (saved with a choice)."""
        return self.kind == ConflictKind.PARTICIPANT_OVERLAP


def slot_of(activity: Activity) -> Slot:
    """Describe a stored activity for the conflict rules."""
    room = activity.room
    return Slot(
        activity_id=activity.id,
        title=activity.title,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        room_id=activity.room_id,
        room_name=room.name if room else "",
        room_capacity=room.capacity if room else None,
        capacity=activity.capacity,
        people=tuple(
            (link.person_id, link.person.display_name, str(link.role)) for link in activity.people
        ),
        cancelled=activity.cancelled,
        overlap_confirmed=activity.overlap_confirmed,
    )


def _span(slot: Slot, zone_name: str) -> str:
    return (
        f"{format_local(slot.starts_at, zone_name, '%H:%M')}–"
        f"{format_local(slot.ends_at, zone_name, '%H:%M')}"
    )


def own_conflicts(slot: Slot, first_day: date, last_day: date, zone_name: str) -> list[Conflict]:
    """Return the rules one activity breaks on its own: times, event days, room seats."""
    found: list[Conflict] = []
    ids = (slot.activity_id,)
    if slot.ends_at <= slot.starts_at:
        found.append(
            Conflict(
                ConflictKind.ENDS_BEFORE_START,
                ids,
                "ends_at",
                _("Das Ende muss nach dem Beginn liegen."),
            )
        )
    opens, _unused = local_day_bounds(first_day, zone_name)
    _unused, closes = local_day_bounds(last_day, zone_name)
    if slot.starts_at < opens or slot.starts_at >= closes:
        found.append(
            Conflict(
                ConflictKind.OUTSIDE_EVENT_DAYS,
                ids,
                "starts_at",
                _("Der Beginn liegt außerhalb der Veranstaltungstage."),
            )
        )
    elif slot.ends_at > closes:
        found.append(
            Conflict(
                ConflictKind.OUTSIDE_EVENT_DAYS,
                ids,
                "ends_at",
                _("Das Ende liegt außerhalb der Veranstaltungstage."),
            )
        )
    if (
        slot.capacity is not None
        and slot.room_capacity is not None
        and slot.capacity > slot.room_capacity
    ):
        found.append(
            Conflict(
                ConflictKind.ABOVE_ROOM_CAPACITY,
                ids,
                "capacity",
                _(
                    "%(capacity)s Plätze sind mehr, als der Raum „%(room)s“ hat "
                    "(%(room_capacity)s).",
                    capacity=slot.capacity,
                    room=slot.room_name,
                    room_capacity=slot.room_capacity,
                ),
            )
        )
    return found


def pair_conflicts(slot: Slot, other: Slot, zone_name: str) -> list[Conflict]:
    """Return the overlaps between two activities (room, people), told from slot's side."""
    if slot.cancelled or other.cancelled:
        return []
    if not (slot.starts_at < other.ends_at and other.starts_at < slot.ends_at):
        return []
    found: list[Conflict] = []
    ids = (slot.activity_id, other.activity_id)
    confirmed = slot.overlap_confirmed or other.overlap_confirmed
    # An activity without a room (a break for everyone) does not take any room.
    if slot.room_id is not None and slot.room_id == other.room_id:
        found.append(
            Conflict(
                ConflictKind.ROOM_OVERLAP,
                ids,
                "room",
                _(
                    "Raum „%(room)s“ ist zur selben Zeit belegt: „%(other)s“ (%(span)s).",
                    room=slot.room_name,
                    other=other.title,
                    span=_span(other, zone_name),
                ),
                confirmed=confirmed,
            )
        )
    theirs = {key for key, _name, _role in other.people}
    for key, name, _role in slot.people:
        if key in theirs:
            found.append(
                Conflict(
                    ConflictKind.PERSON_OVERLAP,
                    ids,
                    "people",
                    _(
                        "%(person)s ist zur selben Zeit in „%(other)s“ eingeplant "
                        "(%(span)s%(room)s).",
                        person=name,
                        other=other.title,
                        span=_span(other, zone_name),
                        room=f", {other.room_name}" if other.room_name else "",
                    ),
                    confirmed=confirmed,
                    person_name=name,
                )
            )
    return found


def find_conflicts(
    slots: Sequence[Slot],
    first_day: date,
    last_day: date,
    zone_name: str,
    only: Slot | None = None,
) -> list[Conflict]:
    """Return every broken rule among the activities, or only those involving `only`."""
    if only is not None:
        found = own_conflicts(only, first_day, last_day, zone_name)
        for other in slots:
            if other.activity_id is None or other.activity_id != only.activity_id:
                found.extend(pair_conflicts(only, other, zone_name))
        return found
    found = []
    ordered = sorted(slots, key=lambda s: (s.starts_at, s.ends_at))
    for index, slot in enumerate(ordered):
        found.extend(own_conflicts(slot, first_day, last_day, zone_name))
        for other in ordered[index + 1 :]:
            if other.starts_at >= slot.ends_at:
                break
            found.extend(pair_conflicts(slot, other, zone_name))
    return found


def event_conflicts(event: Event, activities: Iterable[Activity]) -> list[Conflict]:
    """Return the broken rules of an event's activities (rooms and people loaded)."""
    slots = [slot_of(a) for a in activities]
    return find_conflicts(slots, event.starts_on, event.ends_on, event.timezone)


# --- The organisers' timetable grid --------------------------------------------------------


@dataclass
class GridBlock:
    """One activity placed on a day grid."""

    activity: Activity
    row: int
    rows: int
    # 0-based room column; None spans all rooms (a break for everyone).
    column: int | None
    lane: int = 0
    lanes: int = 1
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def spans_all_rooms(self) -> bool:
        """Tell whether the block runs across every room column."""
        return self.column is None

    @property
    def has_open_conflict(self) -> bool:
        """Tell whether a conflict on this block is not confirmed as deliberate."""
        return any(not c.confirmed for c in self.conflicts)


@dataclass
class DayGrid:
    """One day of the timetable: rooms as columns, 5-minute rows running down."""

    day: date
    rooms: list[Room]
    rows: int
    # (row, "09:00") for each half hour.
    time_marks: list[tuple[int, str]]
    blocks: list[GridBlock]


def _assign_lanes(blocks: list[GridBlock]) -> None:
    """Put overlapping blocks of one room side by side."""
    ordered = sorted(blocks, key=lambda b: (b.row, -b.rows))
    cluster: list[GridBlock] = []
    cluster_end = -1
    lane_ends: list[int] = []
    for block in [*ordered, None]:
        if block is None or block.row >= cluster_end:
            for member in cluster:
                member.lanes = max(len(lane_ends), 1)
            if block is None:
                break
            cluster, lane_ends, cluster_end = [], [], -1
        for lane, end in enumerate(lane_ends):
            if end <= block.row:
                block.lane = lane
                lane_ends[lane] = block.row + block.rows
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.row + block.rows)
        cluster.append(block)
        cluster_end = max(cluster_end, block.row + block.rows)


def day_grids(
    event: Event,
    rooms: Sequence[Room],
    activities: Sequence[Activity],
    conflicts: Sequence[Conflict],
) -> list[DayGrid]:
    """Lay the activities out as one grid per event day (in the event's zone)."""
    by_activity: dict[int | None, list[Conflict]] = {}
    for conflict in conflicts:
        for activity_id in conflict.activity_ids:
            by_activity.setdefault(activity_id, []).append(conflict)
    columns = {room.id: index for index, room in enumerate(rooms)}
    days: dict[date, list[Activity]] = {day: [] for day in event.days}
    for activity in activities:
        local_day = to_local(activity.starts_at, event.timezone).date()
        days.setdefault(local_day, []).append(activity)
    grids = []
    for day in sorted(days):
        items = days[day]
        day_start, day_end = local_day_bounds(day, event.timezone)
        if items:
            first = min(a.starts_at for a in items)
            last = max(min(a.ends_at, day_end) for a in items)
        else:
            first, last = day_start + timedelta(hours=9), day_start + timedelta(hours=17)
        first_local = to_local(first, event.timezone)
        top = first - timedelta(minutes=first_local.minute, seconds=first_local.second)
        last_local = to_local(last, event.timezone)
        bottom = (
            last if last_local.minute == 0 else last + timedelta(minutes=60 - last_local.minute)
        )
        rows = max(int((bottom - top).total_seconds() // 60) // MINUTES_PER_ROW, 1)
        marks = [
            (
                minute // MINUTES_PER_ROW,
                format_local(top + timedelta(minutes=minute), event.timezone, "%H:%M"),
            )
            for minute in range(0, rows * MINUTES_PER_ROW, 30)
        ]
        blocks = []
        for activity in items:
            end = min(activity.ends_at, bottom)
            row = int((activity.starts_at - top).total_seconds() // 60) // MINUTES_PER_ROW
            span = max(
                -(-int((end - activity.starts_at).total_seconds() // 60) // MINUTES_PER_ROW), 1
            )
            blocks.append(
                GridBlock(
                    activity=activity,
                    row=row,
                    rows=span,
                    column=columns.get(activity.room_id) if activity.room_id else None,
                    conflicts=by_activity.get(activity.id, []),
                )
            )
        for room_id, column in columns.items():
            _assign_lanes([b for b in blocks if b.column == column and room_id is not None])
        grids.append(DayGrid(day, list(rooms), rows, marks, blocks))
    return grids


def people_of(activity: Activity, role: PersonRole) -> list[str]:
    """Return the display names of an activity's people in one role."""
    return [link.person.display_name for link in activity.people if link.role == role]


# --- The public programme ------------------------------------------------------------------


@dataclass
class TimeSlot:
    """Activities that begin at the same moment."""

    starts_at: datetime
    activities: list[Activity]


@dataclass
class ProgrammeDay:
    """One event day of the public programme, in time slots."""

    day: date
    slots: list[TimeSlot]


def programme_days(event: Event, activities: Sequence[Activity]) -> list[ProgrammeDay]:
    """Group activities by local day and start time, rooms in column order within a slot."""
    days: dict[date, dict[datetime, list[Activity]]] = {}
    for activity in sorted(
        activities,
        key=lambda a: (a.starts_at, a.room is None, a.room.position if a.room else 0, a.id),
    ):
        local_day = to_local(activity.starts_at, event.timezone).date()
        days.setdefault(local_day, {}).setdefault(activity.starts_at, []).append(activity)
    return [
        ProgrammeDay(day, [TimeSlot(start, items) for start, items in slots.items()])
        for day, slots in sorted(days.items())
    ]
