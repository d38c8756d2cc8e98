"""Free-seat texts of the registration form, filled into its kept copy on each visit.

The form is kept per programme version (see page_cache); the seats change with every
registration, so the kept copy holds marks where they stand and each visit reads the counters
in one light query and writes the texts the template would have written.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import escape

from eventapp.extensions import db
from eventapp.models import Activity
from eventapp.services.programme.published import enrollable_activities_of_event_query

MARK = re.compile(r"\x00seats:(\d+)\x00")
FULL = re.compile(r"\x00full:1\x00(.*?)\x00full:0\x00", re.DOTALL)


def seat_mark(name: int | str, opening: bool | None = None) -> str:
    """Return the mark that stands for an activity's seat text (or opens/closes the full box).

    Marks are a NUL, ASCII letters and digits: autoescaping leaves them as they are.
    """
    if opening is None:
        return f"\x00seats:{int(name)}\x00"
    return f"\x00full:{int(opening)}\x00"


# Built once: the seat counters of the activities the form offers, the event's id at execution.
_SEATS = (
    enrollable_activities_of_event_query()
    .with_only_columns(Activity.id, Activity.capacity, Activity.seats_taken)
    .order_by(Activity.id)
)


def enrollable_seats(event_id: int) -> list[tuple[int, int | None, int]]:
    """Return (id, capacity, seats taken) of the activities the form offers, in id order."""
    rows = db.session.execute(_SEATS, {"event_id": event_id})
    return [(row.id, row.capacity, row.seats_taken) for row in rows]


def seats_text(capacity: int | None, taken: int) -> str:
    """Write an activity's free seats as _choices.html does."""
    if capacity is None:
        return str(escape(_("ohne Platzbegrenzung")))
    left = max(capacity - taken, 0)
    if left == 0:
        return f"<strong>{escape(_('ausgebucht – Warteliste'))}</strong>"
    return str(escape(ngettext("noch %(num)d Platz frei", "noch %(num)d Plätze frei", left)))


def fill_seats(body: str, event_is_full: bool, seats: list[tuple[int, int | None, int]]) -> str:
    """Put the current seat texts and the full-event box (when full) into a marked page."""
    texts = {
        str(activity_id): seats_text(capacity, taken) for activity_id, capacity, taken in seats
    }
    body = MARK.sub(lambda match: texts.get(match.group(1), ""), body)
    return FULL.sub(lambda match: match.group(1) if event_is_full else "", body)
