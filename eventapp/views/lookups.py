"""The events a URL names: an organiser's event by id, a public one by slug, or a 404."""

from __future__ import annotations

from flask import abort

from eventapp.extensions import db
from eventapp.models import Event
from eventapp.services.programme.published import published_event


def event_or_404(event_id: int) -> Event:
    """Return the event with this id (published or not), or answer 404."""
    return db.get_or_404(Event, event_id)


def published_event_or_404(slug: str) -> Event:
    """Return the published event with this slug, or answer 404."""
    event = published_event(slug)
    if event is None:
        abort(404)
    return event
