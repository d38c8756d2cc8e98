"""Two workshops whose people clash once A is moved onto B's time (participants' clashes)."""

from __future__ import annotations

from datetime import time
from typing import Any

import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import Activity, Registration
from eventapp.services.registration import registrations as service
from tests.factories import make_activity, make_event, make_room
from tests.helpers.participants import person
from tests.helpers.programme import edit


def build(app: Flask) -> dict[str, Any]:
    """Workshop A (10:00, 2 seats) and B (11:30, 1 seat); four people hold places.

    p0: A confirmed, B confirmed · p1: A confirmed, B waiting · p2: A waiting · p3: A and B waiting
    """
    with app.app_context():
        event = make_event()
        room_a, room_b = make_room(event, "Raum A", 30), make_room(event, "Raum B", 30)
        a = make_activity(event, "Workshop A", "10:00", "11:00", room_a, capacity=2)
        b = make_activity(event, "Workshop B", "11:30", "12:30", room_b, capacity=1)
        tokens = {}
        for i, choice in enumerate(([a.id, b.id], [a.id, b.id], [a.id], [a.id, b.id])):
            result = service.register(event, person(i), choice)
            tokens[f"p{i}"] = result.manage_token
        db.session.commit()
        ids = {"event": event.id, "slug": event.slug, "a": a.id, "b": b.id, "tokens": tokens}
        for i in range(4):
            ids[f"p{i}"] = db.session.scalar(
                sa.select(Registration.id).where(Registration.last_name == f"Nachname{i}")
            )
        return ids


def move_a_onto_b(ids: dict[str, Any], **changes: Any) -> None:
    """Move workshop A to B's time through the planner (raises ActivityRefused on clashes)."""
    activity = db.session.get(Activity, ids["a"])
    edit(activity, starts=time(11, 30), ends=time(12, 30), **changes)


def manage_url(ids: dict[str, Any], who: str) -> str:
    """Return the path of a person's private manage page (who: "p0" … "p3")."""
    return f"/{ids['slug']}/verwalten/{ids['tokens'][who]}"
