"""Planning an event: save its settings, rooms and the people on its programme."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from eventapp.extensions import db
from eventapp.models import Activity, ActivityPerson, Event, Person, Room
from eventapp.services import DomainError
from eventapp.services.registration.registrations import change_event_capacity
from eventapp.timezones import from_local, is_valid_zone, utcnow

# First path segments the site itself uses; an event slug must not take them.
RESERVED_SLUGS = frozenset(
    {"organisation", "sprache", "static", "api", "admin", "css", "favicon.ico"}
)


class ValuesRefused(DomainError):
    """Typed values break rules; carries (field, message) pairs for the form."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors[0][1], errors[0][0])
        self.errors = errors


# --- Events --------------------------------------------------------------------------------


@dataclass
class EventValues:
    """What an organiser typed for an event; times are wall-clock in the event's zone."""

    title: str
    slug: str
    starts_on: date
    ends_on: date | None = None
    timezone: str = "Europe/Berlin"
    subtitle: str = ""
    description: str = ""
    venue: str = ""
    address: str = ""
    organiser_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    capacity: int | None = None
    per_network_limit: int | None = None
    published: bool = False

    @property
    def clean_slug(self) -> str:
        """Return the slug as it is stored: trimmed and lower-case."""
        return self.slug.strip().lower()

    @property
    def last_day(self) -> date:
        """Return the event's last day; a one-day event ends on its first."""
        return self.ends_on or self.starts_on


def save_event(event: Event | None, values: EventValues) -> Event:
    """Create or update an event after checking its slug, zone, days and window."""
    errors = event_value_errors(event, values)
    if errors:
        raise ValuesRefused(errors)
    if event is None:
        event = Event(slug=values.clean_slug)
        db.session.add(event)
    _apply_event(event, values)
    if event.id is None:
        event.capacity = values.capacity
    elif values.capacity != event.capacity:
        try:
            change_event_capacity(event, values.capacity)
        except DomainError as refused:
            raise ValuesRefused([("capacity", refused.message)]) from refused
    event.programme_changed_at = utcnow()
    db.session.flush()
    return event


def event_value_errors(event: Event | None, values: EventValues) -> list[tuple[str, str]]:
    """Return (field, message) for every typed value an event cannot take."""
    errors = _slug_errors(event, values.clean_slug)
    if not is_valid_zone(values.timezone):
        errors.append(("timezone", _("Diese Zeitzone ist unbekannt (Beispiel: Europe/Berlin).")))
    if values.last_day < values.starts_on:
        errors.append(("ends_on", _("Der letzte Tag darf nicht vor dem ersten liegen.")))
    opens, closes = values.registration_opens_at, values.registration_closes_at
    if opens and closes and closes <= opens:
        errors.append(
            ("registration_closes_at", _("Das Anmeldeende muss nach dem Anmeldebeginn liegen."))
        )
    for name in ("capacity", "per_network_limit"):
        number = getattr(values, name)
        if number is not None and number < 0:
            errors.append((name, _("Die Zahl darf nicht negativ sein.")))
    return errors


def _slug_errors(event: Event | None, slug: str) -> list[tuple[str, str]]:
    """Refuse a slug the site uses itself, one with odd characters, or one another event has."""
    if slug in RESERVED_SLUGS or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        return [("slug", _("Dieser Kurzname ist nicht möglich; bitte wählen Sie einen anderen."))]
    taken = db.session.scalar(sa.select(Event.id).where(Event.slug == slug))
    if taken is not None and (event is None or taken != event.id):
        return [("slug", _("Dieser Kurzname ist schon vergeben."))]
    return []


def _apply_event(event: Event, values: EventValues) -> None:
    """Write the checked values (all but the capacity) onto the event."""
    zone_name = values.timezone
    opens, closes = values.registration_opens_at, values.registration_closes_at
    event.slug = values.clean_slug
    event.title = values.title.strip()
    event.subtitle = values.subtitle.strip()
    event.description = values.description.strip()
    event.starts_on, event.ends_on, event.timezone = values.starts_on, values.last_day, zone_name
    event.venue, event.address = values.venue.strip(), values.address.strip()
    event.organiser_name = values.organiser_name.strip()
    event.contact_email = values.contact_email.strip()
    event.contact_phone = values.contact_phone.strip()
    event.registration_opens_at = (
        from_local(opens.date(), opens.time(), zone_name) if opens else None
    )
    event.registration_closes_at = (
        from_local(closes.date(), closes.time(), zone_name) if closes else None
    )
    event.per_network_limit = values.per_network_limit
    event.published = values.published


# --- Rooms ---------------------------------------------------------------------------------


def save_room(
    event: Event, room: Room | None, name: str, capacity: int, notes: str = "", position: int = 0
) -> Room:
    """Create or update a room of the event; names are unique within the event."""
    errors: list[tuple[str, str]] = []
    name = name.strip()
    clash = db.session.scalar(
        sa.select(Room.id).where(Room.event_id == event.id, Room.name == name)
    )
    if clash is not None and (room is None or clash != room.id):
        errors.append(("name", _("Diesen Raum gibt es bei dieser Veranstaltung schon.")))
    if capacity < 0:
        errors.append(("capacity", _("Die Zahl darf nicht negativ sein.")))
    if errors:
        raise ValuesRefused(errors)
    if room is None:
        room = Room(event=event)
        db.session.add(room)
    elif room.name != name:
        # LOCATION of every activity in the room changes: calendar clients must take it.
        db.session.execute(
            sa.update(Activity)
            .where(Activity.room_id == room.id)
            .values(revision=Activity.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
    room.name, room.capacity, room.notes, room.position = name, capacity, notes.strip(), position
    event.programme_changed_at = utcnow()
    db.session.flush()
    return room


def delete_room(room: Room) -> None:
    """Remove a room that no activity uses."""
    in_use = db.session.scalar(sa.select(sa.func.count()).where(Activity.room_id == room.id))
    if in_use:
        raise DomainError(
            _(
                "Der Raum wird von %(count)s Programmpunkten genutzt; "
                "bitte verlegen Sie sie zuerst.",
                count=in_use,
            )
        )
    db.session.delete(room)
    db.session.flush()


def save_person(
    person: Person, name: str, title: str, organisation: str, email: str, bio: str
) -> Person:
    """Update a speaker's or moderator's details; names stay unique."""
    name = " ".join(name.split())
    clash = db.session.scalar(sa.select(Person.id).where(Person.name == name))
    if clash is not None and clash != person.id:
        raise ValuesRefused([("name", _("Eine Person mit diesem Namen gibt es schon."))])
    shown_changed = (person.name, person.title) != (name, title.strip())
    person.name, person.title, person.organisation = name, title.strip(), organisation.strip()
    person.email, person.bio = email.strip(), bio.strip()
    if shown_changed:
        # Programmes, feeds and PDFs print the name: their caches must see the change.
        db.session.execute(
            sa.update(Event)
            .where(
                Event.id.in_(
                    sa.select(Activity.event_id)
                    .join(ActivityPerson, ActivityPerson.activity_id == Activity.id)
                    .where(ActivityPerson.person_id == person.id)
                )
            )
            .values(programme_changed_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
    db.session.flush()
    return person
