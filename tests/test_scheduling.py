"""Timetable rules: conflicts, saving activities, and the day grid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from flask import Flask

from eventapp.extensions import db
from eventapp.models import ActivityKind, PersonRole
from eventapp.services.programme.checks import (
    ActivityRefused,
    ActivityValues,
    check_activity,
    create_activity,
    update_activity,
)
from eventapp.services.programme.scheduling import (
    ConflictKind,
    Slot,
    day_grids,
    event_conflicts,
    find_conflicts,
)
from tests.factories import at, make_activity, make_event, make_room

DAY = date(2026, 6, 10)


def values(
    title: str = "Workshop A", start: str = "10:00", end: str = "11:00", **fields: object
) -> ActivityValues:
    """Build activity values on the test day."""
    base = {
        "title": title,
        "kind": ActivityKind.WORKSHOP,
        "day": DAY,
        "starts": time.fromisoformat(start),
        "ends": time.fromisoformat(end),
    }
    base.update(fields)
    return ActivityValues(**base)  # type: ignore[arg-type]


def kinds(error: ActivityRefused) -> set[ConflictKind]:
    return {c.kind for c in error.conflicts}


def slot(ident: int, start: int, end: int, **fields: object) -> Slot:
    """A slot on 10 June 2026 from hour start to hour end (UTC)."""
    return Slot(
        activity_id=ident,
        title=f"A{ident}",
        starts_at=datetime(2026, 6, 10, start, tzinfo=UTC),
        ends_at=datetime(2026, 6, 10, end, tzinfo=UTC),
        **fields,  # type: ignore[arg-type]
    )


def test_find_conflicts_room_overlap_names_both_activities(ctx: Flask) -> None:
    found = find_conflicts(
        [slot(1, 8, 10, room_id=5, room_name="Saal"), slot(2, 9, 11, room_id=5, room_name="Saal")],
        DAY,
        DAY,
        "Europe/Berlin",
    )
    assert [c.kind for c in found] == [ConflictKind.ROOM_OVERLAP]
    assert found[0].activity_ids == (1, 2)
    assert found[0].field == "room"
    assert "A2" in found[0].message


def test_find_conflicts_touching_activities_do_not_overlap(ctx: Flask) -> None:
    found = find_conflicts(
        [slot(1, 8, 9, room_id=5), slot(2, 9, 10, room_id=5)], DAY, DAY, "Europe/Berlin"
    )
    assert found == []


def test_find_conflicts_break_without_room_spans_rooms_without_conflict(ctx: Flask) -> None:
    found = find_conflicts(
        [slot(1, 8, 10), slot(2, 8, 10, room_id=5), slot(3, 9, 10, room_id=6)],
        DAY,
        DAY,
        "Europe/Berlin",
    )
    assert found == []


def test_find_conflicts_speaker_in_two_rooms_at_once(ctx: Flask) -> None:
    person = ((7, "Dr. Anna Roth", "speaker"),)
    found = find_conflicts(
        [
            slot(1, 8, 10, room_id=5, people=person),
            slot(2, 9, 11, room_id=6, people=((7, "Dr. Anna Roth", "moderator"),)),
        ],
        DAY,
        DAY,
        "Europe/Berlin",
    )
    assert [c.kind for c in found] == [ConflictKind.PERSON_OVERLAP]
    assert found[0].field == "people"
    assert "Dr. Anna Roth" in found[0].message


def test_find_conflicts_cancelled_activity_frees_its_room(ctx: Flask) -> None:
    found = find_conflicts(
        [slot(1, 8, 10, room_id=5), slot(2, 9, 11, room_id=5, cancelled=True)],
        DAY,
        DAY,
        "Europe/Berlin",
    )
    assert found == []


def test_find_conflicts_capacity_above_room(ctx: Flask) -> None:
    found = find_conflicts(
        [slot(1, 8, 10, room_id=5, room_name="Saal", room_capacity=30, capacity=31)],
        DAY,
        DAY,
        "Europe/Berlin",
    )
    assert [(c.kind, c.field) for c in found] == [(ConflictKind.ABOVE_ROOM_CAPACITY, "capacity")]


def test_find_conflicts_outside_event_day(ctx: Flask) -> None:
    late = Slot(
        1, "Spät", datetime(2026, 6, 10, 21, tzinfo=UTC), datetime(2026, 6, 10, 22, 30, tzinfo=UTC)
    )
    found = find_conflicts([late], DAY, DAY, "Europe/Berlin")
    # 22:30 UTC is 00:30 local on 11 June: the end lies after the day.
    assert [(c.kind, c.field) for c in found] == [(ConflictKind.OUTSIDE_EVENT_DAYS, "ends_at")]


def test_find_conflicts_end_before_start(ctx: Flask) -> None:
    found = find_conflicts([slot(1, 10, 9)], DAY, DAY, "Europe/Berlin")
    assert ConflictKind.ENDS_BEFORE_START in {c.kind for c in found}


def test_create_activity_stores_times_in_utc(ctx: Flask) -> None:
    event = make_event(day=DAY)
    room = make_room(event, "Raum 1", 40)
    activity = create_activity(event, values(room_id=room.id, speakers=["Dr. Anna Roth"]))
    assert activity.starts_at == datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    assert activity.capacity == 40
    assert activity.requires_enrolment is True
    assert [p.name for p in activity.speakers] == ["Dr. Anna Roth"]


def test_create_activity_on_dst_day_is_inside_the_day(ctx: Flask) -> None:
    event = make_event(day=date(2026, 10, 25))
    activity = create_activity(
        event,
        ActivityValues(
            title="Nachtschicht",
            kind=ActivityKind.NETWORKING,
            day=date(2026, 10, 25),
            starts=time(1, 30),
            ends=time(3, 30),
        ),
    )
    db.session.commit()
    db.session.expire_all()
    # 01:30 is still summer time (+02:00), 03:30 already winter time (+01:00): three hours.
    assert activity.starts_at == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    assert activity.ends_at == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    assert activity.duration_minutes == 180
    assert event_conflicts(event, [activity]) == []


def test_create_activity_refuses_end_before_start(ctx: Flask) -> None:
    event = make_event(day=DAY)
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values(start="11:00", end="10:00", capacity=10))
    assert kinds(refused.value) == {ConflictKind.ENDS_BEFORE_START}
    assert refused.value.conflicts[0].field == "ends_at"


def test_create_activity_refuses_day_outside_event(ctx: Flask) -> None:
    event = make_event(day=DAY)
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values(day=date(2026, 6, 11), capacity=10))
    assert kinds(refused.value) == {ConflictKind.OUTSIDE_EVENT_DAYS}


def test_create_activity_refuses_capacity_above_room(ctx: Flask) -> None:
    event = make_event(day=DAY)
    room = make_room(event, "Klein", 20)
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values(room_id=room.id, capacity=25))
    assert kinds(refused.value) == {ConflictKind.ABOVE_ROOM_CAPACITY}


def test_create_activity_refuses_room_of_another_event(ctx: Flask) -> None:
    event = make_event(day=DAY)
    other = make_event("anderer-tag", day=DAY)
    foreign = make_room(other, "Fremder Raum", 50)
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values(room_id=foreign.id, capacity=10))
    assert kinds(refused.value) == {ConflictKind.ROOM_OF_OTHER_EVENT}


def test_create_activity_refuses_negative_or_missing_capacity(ctx: Flask) -> None:
    event = make_event(day=DAY)
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values(capacity=-1))
    assert kinds(refused.value) == {ConflictKind.NEGATIVE_CAPACITY}
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values())
    assert kinds(refused.value) == {ConflictKind.MISSING_CAPACITY}


def test_create_activity_room_overlap_needs_confirmation(ctx: Flask) -> None:
    event = make_event(day=DAY)
    room = make_room(event, "Saal", 100)
    make_activity(event, "Erster", "10:00", "11:00", room=room)
    with pytest.raises(ActivityRefused) as refused:
        create_activity(event, values("Zweiter", "10:30", "11:30", room_id=room.id))
    assert refused.value.needs_confirmation
    assert kinds(refused.value) == {ConflictKind.ROOM_OVERLAP}
    saved = create_activity(
        event, values("Zweiter", "10:30", "11:30", room_id=room.id, overlap_confirmed=True)
    )
    assert saved.overlap_confirmed is True
    db.session.flush()
    conflicts = event_conflicts(event, event.activities)
    assert [c.confirmed for c in conflicts] == [True]


def test_create_activity_speaker_in_two_rooms_needs_confirmation(ctx: Flask) -> None:
    event = make_event(day=DAY)
    first, second = make_room(event, "Raum 1", 40), make_room(event, "Raum 2", 40)
    create_activity(event, values("Eins", room_id=first.id, speakers=["Jan Mertens"]))
    with pytest.raises(ActivityRefused) as refused:
        create_activity(
            event, values("Zwei", "10:30", "11:30", room_id=second.id, moderators=["jan mertens"])
        )
    assert kinds(refused.value) == {ConflictKind.PERSON_OVERLAP}
    assert refused.value.conflicts[0].person_name == "Jan Mertens"


def test_create_activity_break_without_room_ignores_rooms(ctx: Flask) -> None:
    event = make_event(day=DAY)
    room = make_room(event, "Saal", 100)
    make_activity(event, "Workshop", "10:00", "11:00", room=room)
    pause = create_activity(event, values("Pause", kind=ActivityKind.BREAK))
    assert pause.room is None and pause.capacity is None and not pause.requires_enrolment


def test_update_activity_bumps_revision_only_for_what_participants_know(ctx: Flask) -> None:
    event = make_event(day=DAY)
    room = make_room(event, "Saal", 100)
    activity = create_activity(event, values(room_id=room.id))
    db.session.commit()
    assert activity.revision == 0
    update_activity(activity, values(room_id=room.id, description="Neu beschrieben"))
    assert activity.revision == 0
    update_activity(activity, values(start="10:15", end="11:15", room_id=room.id))
    assert activity.revision == 1
    assert activity.starts_at == at(event, "10:15")


def test_update_activity_keeps_people_and_reorders(ctx: Flask) -> None:
    event = make_event(day=DAY)
    activity = create_activity(event, values(capacity=10, speakers=["A B", "C D"]))
    db.session.commit()
    update_activity(activity, values(capacity=10, speakers=["C D", "A B"], moderators=["A B"]))
    db.session.commit()
    assert [p.name for p in activity.speakers] == ["C D", "A B"]
    assert [p.name for p in activity.moderators] == ["A B"]
    assert {link.role for link in activity.people} == {PersonRole.SPEAKER, PersonRole.MODERATOR}


def test_update_activity_capacity_change_goes_through_registrations(ctx: Flask) -> None:
    event = make_event(day=DAY)
    room = make_room(event, "Saal", 100)
    activity = create_activity(event, values(room_id=room.id, capacity=10))
    db.session.commit()
    activity.seats_taken = 5
    db.session.commit()
    with pytest.raises(ActivityRefused) as refused:
        update_activity(activity, values(room_id=room.id, capacity=4))
    assert refused.value.conflicts[0].field == "capacity"
    db.session.rollback()
    update_activity(activity, values(room_id=room.id, capacity=20))
    assert activity.capacity == 20


def test_day_grids_places_blocks_by_room_and_time(ctx: Flask) -> None:
    event = make_event(day=DAY)
    first, second = (
        make_room(event, "Raum 1", 40, position=0),
        make_room(event, "Raum 2", 40, position=1),
    )
    a = make_activity(event, "A", "09:00", "10:00", room=first)
    b = make_activity(event, "B", "09:30", "10:30", room=second)
    pause = make_activity(event, "Pause", "10:30", "11:00", kind=ActivityKind.BREAK)
    c = make_activity(event, "C", "09:15", "09:45", room=first, overlap_confirmed=True)
    items = [a, b, pause, c]
    grids = day_grids(event, [first, second], items, event_conflicts(event, items))
    assert len(grids) == 1
    blocks = {block.activity.title: block for block in grids[0].blocks}
    assert (blocks["A"].row, blocks["A"].rows, blocks["A"].column) == (0, 12, 0)
    assert (blocks["B"].row, blocks["B"].column) == (6, 1)
    assert blocks["Pause"].spans_all_rooms
    assert {blocks["A"].lane, blocks["C"].lane} == {0, 1} and blocks["C"].lanes == 2
    assert blocks["C"].conflicts and not blocks["C"].has_open_conflict
    assert grids[0].time_marks[0] == (0, "09:00")


def test_day_grids_one_grid_per_day(ctx: Flask) -> None:
    event = make_event(day=DAY, ends_on=date(2026, 6, 11))
    make_activity(event, "Tag 1", "09:00", "10:00", capacity=5)
    grids = day_grids(event, [], event.activities, [])
    assert [g.day for g in grids] == [date(2026, 6, 10), date(2026, 6, 11)]


def test_check_activity_resolves_values_and_lists_every_broken_rule(ctx: Flask) -> None:
    event = make_event()
    other = make_room(make_event("anderer-tag"), "Fremder Saal", 40)
    hall = make_room(event, "Saal", 80)
    checked = check_activity(event, None, values(room_id=hall.id, capacity=None))
    assert checked.room is hall and checked.capacity == 80 and checked.conflicts == []
    assert (checked.starts_at, checked.ends_at) == (at(event, "10:00"), at(event, "11:00"))
    refused = check_activity(event, None, values(room_id=other.id, capacity=-1))
    assert refused.room is None
    assert [(c.kind, c.field) for c in refused.conflicts] == [
        (ConflictKind.ROOM_OF_OTHER_EVENT, "room"),
        (ConflictKind.NEGATIVE_CAPACITY, "capacity"),
    ]
