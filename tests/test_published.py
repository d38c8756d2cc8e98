"""What the public sees: one definition of an event's published (and enrollable) activities."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from eventapp.extensions import db
from eventapp.models import ActivityKind
from eventapp.services.programme import published
from tests.factories import make_activity, make_event, make_room

PACKAGE = Path(published.__file__).resolve().parents[2]
# Where "published" may be read from an activity: its definition, and the model itself.
DEFINED_IN = {Path(published.__file__).resolve(), PACKAGE / "models.py"}


def test_published_activities_are_selected_in_one_place_only() -> None:
    elsewhere = [
        f"{path.relative_to(PACKAGE).as_posix()}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.resolve() not in DEFINED_IN and "migrations" not in path.parts
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"\bActivity\.published\b", line)
    ]
    assert elsewhere == [], "build on published_activities_query or enrollable_activities_query"


def test_enrollable_activities_are_the_published_open_ones_with_enrolment(ctx: Flask) -> None:
    event = make_event()
    room = make_room(event, "Raum 1", 30)
    offered = make_activity(event, "Offen", "10:00", "11:00", room, capacity=10)
    make_activity(event, "Entwurf", "10:00", "11:00", room, capacity=10, published=False)
    make_activity(event, "Abgesagt", "11:00", "12:00", room, capacity=10, cancelled=True)
    make_activity(event, "Plenum", "09:00", "10:00", room, ActivityKind.PLENARY)
    other = make_event("anderer-tag")
    make_activity(other, "Anderswo", "10:00", "11:00", make_room(other, "Raum", 30), capacity=5)
    assert list(db.session.scalars(published.enrollable_activities_query(event))) == [offered]
    shown = {a.title for a in published.published_activities(event)}
    assert shown == {"Offen", "Abgesagt", "Plenum"}
