"""The activity choice on registration and manage pages: slots, reading choices, status rows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from eventapp.models import EnrolmentStatus, Event, Registration
from eventapp.request_numbers import whole_number
from eventapp.services.registration import registrations as service
from eventapp.services.registration.waitlist import event_waitlist_position, waitlist_position

SLOT_PREFIX = "slot-"


def slot_groups(event: Event, held: Collection[int] = ()) -> list[dict[str, Any]]:
    """Return the event's choosable activities grouped into time slots (one radio group each).

    A slot in which the person already holds several activities (the organisers moved one onto
    another) becomes a group of checkboxes, so that keeping both is possible and saving the
    form unchanged drops neither; `clashes` names the pairs that overlap.
    """
    groups = []
    for slot in service.time_slots(service.enrollable_activities(event)):
        mine = [a for a in slot if a.id in held]
        groups.append(
            {
                "key": f"{SLOT_PREFIX}{slot[0].id}",
                "starts_at": min(a.starts_at for a in slot),
                "ends_at": max(a.ends_at for a in slot),
                "activities": slot,
                "several_held": len(mine) > 1,
                "clashes": [
                    (first, second)
                    for index, first in enumerate(mine)
                    for second in mine[index + 1 :]
                    if service.overlaps(first, second)
                ],
            }
        )
    return groups


def held_activity_ids(registration: Registration | None) -> set[int]:
    """Return the activities the stored registration holds (confirmed or waiting)."""
    if registration is None:
        return set()
    return {e.activity_id for e in registration.enrolments if e.status in service.ACTIVE}


def read_choices(form: MultiDict[str, str]) -> tuple[set[int], list[str]]:
    """Read the chosen activity ids from the slot radio groups; odd values give an error."""
    chosen: set[int] = set()
    errors: list[str] = []
    for key, value in form.items(multi=True):
        if not key.startswith(SLOT_PREFIX) or value == "":
            continue
        number = whole_number(value)
        if number is None:
            errors.append(_("Ihre Auswahl konnte nicht gelesen werden. Bitte wählen Sie erneut."))
            continue
        chosen.add(number)
    return chosen, errors[:1]


def choice_rows(registration: Registration) -> list[dict[str, Any]]:
    """Return the person's active choices with status and place in line, in programme order."""
    active = [e for e in registration.enrolments if e.status != EnrolmentStatus.CANCELLED]
    active.sort(key=lambda e: (e.activity.starts_at, e.activity_id))
    return [
        {"enrolment": e, "activity": e.activity, "position": waitlist_position(e)} for e in active
    ]


def day_position(registration: Registration) -> int | None:
    """Return the place on the event's waiting list, if the person is on it."""
    return event_waitlist_position(registration)
