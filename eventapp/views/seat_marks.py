"""Free-seat texts of the registration form, filled into its kept copy on each visit.

The form is kept per programme version (see page_cache); the seats change with every
registration, so the kept copy holds marks where they stand and each visit reads the counters
with the form's version (one light query) and writes the texts the template would have written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import escape
from sqlalchemy import orm

from eventapp.extensions import db
from eventapp.languages import visitor_language
from eventapp.models import Activity, Event, Network
from eventapp.prebuilt import PrebuiltRead
from eventapp.services.programme.published import (
    STAMP_COLUMNS,
    EventStamp,
    enrollable,
    event_stamp,
    event_stamp_query,
)

MARK = re.compile(r"\x00seats:(\d+)\x00")
FULL = re.compile(r"\x00full:1\x00(.*?)\x00full:0\x00", re.DOTALL)


def seat_mark(name: int | str, opening: bool | None = None) -> str:
    """Return the mark that stands for an activity's seat text (or opens/closes the full box).

    Marks are a NUL, ASCII letters and digits: autoescaping leaves them as they are.
    """
    if opening is None:
        return f"\x00seats:{int(name)}\x00"
    return f"\x00full:{int(opening)}\x00"


Seats = list[tuple[int, int | None, int]]  # (activity id, capacity, seats taken), by id

_OFFERED = orm.aliased(Activity)  # apart from the activities the stamp query counts
# The seat counters of the activities the form offers, as one text "id:capacity:taken,…"
# (capacity empty when unlimited), so the whole form's version fits in one row.
_OFFERED_SEATS = (
    sa.select(
        sa.func.aggregate_strings(
            sa.cast(_OFFERED.id, sa.String)
            + ":"
            + sa.func.coalesce(sa.cast(_OFFERED.capacity, sa.String), "")
            + ":"
            + sa.cast(_OFFERED.seats_taken, sa.String),
            ",",
        )
    )
    .where(_OFFERED.event_id == Event.id, *enrollable(_OFFERED))
    .correlate(Event)
    .scalar_subquery()
)
# Built once: the event's stamp, the offered seats and the network list's stamp (networks are
# only ever added: their count and highest id), by slug, in one statement.
_FORM_VERSION = PrebuiltRead(
    event_stamp_query().add_columns(
        _OFFERED_SEATS,
        sa.select(sa.func.count(Network.id)).scalar_subquery(),
        sa.select(sa.func.max(Network.id)).scalar_subquery(),
    )
)


@dataclass(frozen=True)
class FormVersion:
    """What the registration form of a published event shows, read in one query by slug."""

    stamp: EventStamp
    seats: Seats
    networks: tuple[int, int | None]


def form_version(slug: str) -> FormVersion | None:
    """Return the form's version for the published event with this slug (None: none)."""
    row = _FORM_VERSION.first(db.engine, slug=slug)
    if row is None:
        return None
    offered, network_count, last_network = row[STAMP_COLUMNS:]
    return FormVersion(event_stamp(row), _seats(offered), (network_count, last_network))


def _seats(text: str | None) -> Seats:
    seats = []
    for entry in (text or "").split(","):
        if entry:
            activity_id, capacity, taken = entry.split(":")
            seats.append((int(activity_id), int(capacity) if capacity else None, int(taken)))
    return sorted(seats)


def seats_text(capacity: int | None, taken: int) -> str:
    """Write an activity's free seats as _choices.html does."""
    left = None if capacity is None else max(capacity - taken, 0)
    return _seats_text(visitor_language(), left)


@functools.lru_cache(maxsize=256)
def _seats_text(language: str, left: int | None) -> str:
    """Write the text for this many free seats (None: no limit) in the visitor's language."""
    if left is None:
        return str(escape(_("ohne Platzbegrenzung")))
    if left == 0:
        return f"<strong>{escape(_('ausgebucht – Warteliste'))}</strong>"
    return str(escape(ngettext("noch %(num)d Platz frei", "noch %(num)d Plätze frei", left)))


def fill_seats(body: str, event_is_full: bool, seats: Seats) -> str:
    """Put the current seat texts and the full-event box (when full) into a marked page."""
    texts = {
        str(activity_id): seats_text(capacity, taken) for activity_id, capacity, taken in seats
    }
    body = MARK.sub(lambda match: texts.get(match.group(1), ""), body)
    return FULL.sub(lambda match: match.group(1) if event_is_full else "", body)
