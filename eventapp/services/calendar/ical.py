"""iCal feeds of the programme, one activity and one person's plan (built with icalendar)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import icalendar
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityKind,
    ActivityPerson,
    Enrolment,
    EnrolmentStatus,
    Event,
    Registration,
    RegistrationStatus,
)
from eventapp.plain_text import printable
from eventapp.services.calendar.store import (
    VEVENT_CACHE,
    StoredVevent,
    load_entries,
    save_entries,
)
from eventapp.services.programme.published import (
    FeedStamp,
    published_activities,
    published_activities_of_events_query,
    published_activities_query,
)
from eventapp.timezones import to_local, utcnow, zone
from eventapp.urls import activity_url, site_url

PRODID = "-//Innovationsbüro Fachkräfte für die Region//eventapp//DE"
# Content type of a calendar attached to a mail: the method must match the calendar's METHOD
# for mail clients to offer the import (the mail part also says charset=utf-8).
MAIL_ATTACHMENT_TYPE = "text/calendar; method=PUBLISH"
# Part of every stored VEVENT's fingerprint: raise it whenever activity_vevent, _location,
# _description or clean_text change what they write, so stored entries are rebuilt.
VEVENT_FORMAT = 2
# Fixed domain part of every UID, so UIDs survive a change of the public address.
UID_DOMAIN = "eventapp.fachkraeftebuero.de"
# Everything below U+0020 except tab and line feed, plus DEL and the C1 block.


def clean_text(text: str | None) -> str:
    """Remove control characters (keeping tabs and line breaks) and noncharacters that calendar
    clients reject."""
    return printable((text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def activity_uid(activity: Activity) -> str:
    """Return the iCal UID: the activity's stable UUID plus a fixed domain."""
    return f"{activity.uid}@{UID_DOMAIN}"


@lru_cache(maxsize=32)
def _vtimezone(zone_name: str, first_year: int, last_year: int) -> bytes:
    """Serialize (once) the VTIMEZONE with the zone's DST rules for the years around the event."""
    return icalendar.Timezone.from_tzinfo(
        zone(zone_name),
        tzid=zone_name,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year, 12, 31),
    ).to_ical()


def personal_activities(registration: Registration) -> list[Activity]:
    """Load what a person attends: confirmed enrolments plus the parts of the day for everyone."""
    return personal_activities_of([registration])[registration.id]


def _shared_by_all(activity: Activity) -> bool:
    return activity.kind.shared_by_all and not activity.requires_enrolment


# The published activities some people attend: each one's confirmed enrolments (one row per
# person) and the parts of their events for everyone. Built once: building and keying an ORM
# query costs more than running it.
_PERSONAL_ACTIVITIES = (
    published_activities_of_events_query()
    .add_columns(Enrolment.registration_id)
    .outerjoin(
        Enrolment,
        sa.and_(
            Enrolment.activity_id == Activity.id,
            Enrolment.registration_id.in_(sa.bindparam("registrations", expanding=True)),
            Enrolment.status == EnrolmentStatus.CONFIRMED,
        ),
    )
    .where(
        sa.or_(
            Enrolment.id.is_not(None),
            sa.and_(
                Activity.kind.in_(ActivityKind.shared_kinds()),
                sa.not_(Activity.requires_enrolment),
            ),
        ),
    )
    .options(
        joinedload(Activity.room),
        joinedload(Activity.people).joinedload(ActivityPerson.person),
    )
    .order_by(Activity.starts_at, Activity.id)
)


def personal_activities_of(registrations: Sequence[Registration]) -> dict[int, list[Activity]]:
    """Load what each of several people attends (see personal_activities) in one query.

    Returns the published activities by registration id, in programme order, with rooms and
    people loaded; someone not confirmed for the day attends nothing.
    """
    attending = [r for r in registrations if r.status == RegistrationStatus.CONFIRMED]
    found: dict[int, list[Activity]] = {r.id: [] for r in registrations}
    if not attending:
        return found
    by_event: dict[int, list[int]] = {}
    for registration in attending:
        by_event.setdefault(registration.event_id, []).append(registration.id)
    rows = db.session.execute(
        _PERSONAL_ACTIVITIES,
        {"registrations": [r.id for r in attending], "events": list(by_event)},
    ).unique()
    for activity, registration_id in rows:
        # Rows come in programme order; a shared part someone also enrolled in comes twice.
        for attendee in (
            by_event[activity.event_id] if _shared_by_all(activity) else [registration_id]
        ):
            plan = found[attendee]
            if not plan or plan[-1] is not activity:
                plan.append(activity)
    return found


def _location(activity: Activity, event: Event) -> str:
    parts = [activity.room.name if activity.room else "", event.venue, event.address]
    return ", ".join(clean_text(part) for part in parts if clean_text(part))


def _description(activity: Activity, url: str) -> str:
    lines = [str(activity.kind.label)]
    if activity.speakers:
        names = ", ".join(p.display_name for p in activity.speakers)
        lines.append(_("Mit: %(names)s", names=names))
    if activity.moderators:
        names = ", ".join(p.display_name for p in activity.moderators)
        lines.append(_("Moderation: %(names)s", names=names))
    if activity.cancelled:
        lines.append(_("Dieser Programmpunkt fällt aus."))
    if activity.description:
        lines.extend(["", activity.description])
    lines.extend(["", url])
    return clean_text("\n".join(lines))


def activity_vevent(activity: Activity, event: Event) -> icalendar.Event:
    """Build the VEVENT of one activity, in the event's zone."""
    url = activity_url(activity)
    vevent = icalendar.Event()
    vevent.add("uid", activity_uid(activity))
    vevent.add("dtstamp", activity.updated_at)
    vevent.add("last-modified", activity.updated_at)
    vevent.add("sequence", activity.revision)
    vevent.add("dtstart", to_local(activity.starts_at, event.timezone))
    vevent.add("dtend", to_local(activity.ends_at, event.timezone))
    title = clean_text(activity.title)
    if activity.cancelled:
        title = _("Abgesagt: %(title)s", title=title)
    vevent.add("summary", title)
    vevent.add("location", _location(activity, event))
    vevent.add("description", _description(activity, url))
    vevent.add("url", url)
    vevent.add("categories", [clean_text(str(activity.kind.label)) or "-"])
    vevent.add("status", "CANCELLED" if activity.cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT" if activity.cancelled else "OPAQUE")
    return vevent


def _vevent_key(activity: Activity, event: Event, site: str, language: str) -> tuple[Any, ...]:
    """Return every input that shapes an activity's VEVENT (so a cache hit is always current).

    `site` is the site's address the links start with (with the slug and id it fixes them).
    """
    return (
        language,
        site,
        event.slug,
        event.timezone,
        event.venue,
        event.address,
        activity.id,
        activity.uid,
        activity.title,
        activity.kind,
        activity.starts_at,
        activity.ends_at,
        # The wall-clock times with their offsets, so a change of the zone's rules shows.
        to_local(activity.starts_at, event.timezone),
        to_local(activity.ends_at, event.timezone),
        activity.updated_at,
        activity.revision,
        activity.cancelled,
        activity.description,
        activity.room.name if activity.room else "",
        tuple((p.role, p.person.display_name) for p in activity.people),
    )


_CALENDAR_END = b"END:VCALENDAR\r\n"


@lru_cache(maxsize=8)
def _phrases_stamp(language: str) -> str:
    """Digest the translated texts a VEVENT uses, so a changed translation rebuilds entries."""
    with force_locale(language):
        phrases = [str(kind.label) for kind in ActivityKind]
        # The same messages as activity_vevent and _description (a new one: raise VEVENT_FORMAT).
        phrases += [
            _("Mit: %(names)s", names="%s"),
            _("Moderation: %(names)s", names="%s"),
            _("Dieser Programmpunkt fällt aus."),
            _("Abgesagt: %(title)s", title="%s"),
        ]
    return hashlib.sha256("\n".join(phrases).encode()).hexdigest()


def _plain(value: object) -> str:
    """Write a key part JSON does not know (a date and time, with its offset) as text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _fingerprint(key: tuple[Any, ...], language: str) -> str:
    """Return the SHA-256 (hex) of a VEVENT's inputs and of the code and texts that write it."""
    inputs = [VEVENT_FORMAT, icalendar.__version__, _phrases_stamp(language), key]
    text = json.dumps(inputs, default=_plain, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def vevent_fingerprint(activity: Activity, event: Event, language: str) -> str:
    """Return the fingerprint a stored VEVENT of this activity must carry to be served here."""
    return _fingerprint(_vevent_key(activity, event, site_url(), language), language)


def vevents_ical(activities: Sequence[Activity], event: Event, language: str) -> list[bytes]:
    """Return each activity's serialized VEVENT, built by icalendar only when nothing is current.

    Looks in this process's cache, then (in one query) at the stored entries, serving those
    whose fingerprint matches; builds the rest and stores them for every process. Call it
    with the language's locale forced.
    """
    site = site_url()
    keys = [_vevent_key(a, event, site, language) for a in activities]
    found = [VEVENT_CACHE.get(key) for key in keys]
    missing = [a.id for a, serialized in zip(activities, found, strict=True) if serialized is None]
    stored = load_entries(missing, language)
    fresh: list[StoredVevent] = []
    result: list[bytes] = []
    for activity, key, serialized in zip(activities, keys, found, strict=True):
        if serialized is None:
            fingerprint = _fingerprint(key, language)
            entry = stored.get(activity.id)
            if entry is not None and entry.fingerprint == fingerprint:
                serialized = entry.vevent
            else:
                serialized = activity_vevent(activity, event).to_ical()
                fresh.append(StoredVevent(activity.id, language, fingerprint, serialized))
            VEVENT_CACHE.put(key, serialized)
        result.append(serialized)
    save_entries(fresh)
    return result


def store_vevents(activity: Activity, languages: Iterable[str]) -> None:
    """Build and store a saved activity's VEVENTs ahead of the first feed that needs them."""
    for language in languages:
        with force_locale(language):
            vevents_ical([activity], activity.event, language)


def build_calendar(
    event: Event,
    activities: Sequence[Activity],
    name: str,
    language: str = "de",
) -> bytes:
    """Return a VCALENDAR (METHOD:PUBLISH) with the event's VTIMEZONE and one VEVENT each.

    icalendar serializes every component; the calendar's properties, the VTIMEZONE and the
    VEVENTs come from caches of serialized components and are joined before the closing line.
    """
    with force_locale(language):
        first, last = _year_span(event, activities)
        timezone = _vtimezone(event.timezone, first - 1, last + 1)
        events = vevents_ical(activities, event, language)
    return b"".join(
        [_calendar_head(clean_text(name), event.timezone), timezone, *events, _CALENDAR_END]
    )


@lru_cache(maxsize=256)
def _calendar_head(name: str, zone_name: str) -> bytes:
    """Serialize (once per name and zone) a calendar's properties, without its closing line."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone_name)
    calendar.add("x-published-ttl", "PT15M")
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    head = calendar.to_ical()
    if not head.endswith(_CALENDAR_END):  # pragma: no cover - icalendar always ends so
        raise ValueError("unexpected calendar serialization")
    return head[: -len(_CALENDAR_END)]


def _year_span(event: Event, activities: Iterable[Activity]) -> tuple[int, int]:
    years = [event.starts_on.year, event.ends_on.year]
    years.extend(to_local(a.starts_at, event.timezone).year for a in activities)
    return min(years), max(years)


def programme_ics(event: Event, include_breaks: bool = True, lang: str = "de") -> bytes:
    """Return the published programme of an event as .ics bytes."""
    activities = published_activities(event, include_breaks)
    with force_locale(lang):
        name = _("%(title)s – Programm", title=event.title)
    return build_calendar(event, activities, name, lang)


def activity_ics(activity: Activity, lang: str = "de") -> bytes:
    """Return one activity as .ics bytes."""
    event = activity.event
    name = f"{event.title} – {activity.title}"
    return build_calendar(event, [activity], name, lang)


def registration_ics(
    registration: Registration, activities: Sequence[Activity] | None = None
) -> bytes:
    """Return the personal calendar (confirmed activities and plenary parts) as .ics bytes.

    `activities` are the person's, when personal_activities_of already loaded them.
    """
    event = registration.event
    language = registration.language or "de"
    with force_locale(language):
        name = _("%(title)s – mein Programm", title=event.title)
    if activities is None:
        activities = personal_activities(registration)
    return build_calendar(event, activities, name, language)


def registration_by_calendar_token(event: Event, token: str) -> Registration | None:
    """Find the registration whose read-only calendar token this is (only for this event)."""
    from eventapp.services.registration.tokens import token_hash

    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.calendar_token_hash == token_hash(token),
            Registration.event_id == event.id,
        )
    )


# --- Validators for HTTP caching: computed with one small query, before any body is built ---


def _stamp(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _latest(*moments: datetime | None) -> datetime:
    present = [m for m in moments if m is not None]
    return max(present) if present else utcnow()


def programme_version(event: Event, variant: str) -> tuple[str, datetime]:
    """Return (ETag, Last-Modified) of an event's published feeds without building them."""
    changed, count = db.session.execute(
        published_activities_query(event).with_only_columns(
            sa.func.max(Activity.updated_at), sa.func.count(Activity.id)
        )
    ).one()
    return feed_version(
        FeedStamp(event.id, event.programme_changed_at, event.updated_at, changed, count), variant
    )


def feed_version(stamp: FeedStamp, variant: str) -> tuple[str, datetime]:
    """Return (ETag, Last-Modified) of the published feeds an event's feed stamp describes."""
    last = _latest(stamp.programme_changed_at, stamp.updated_at, stamp.activities_changed_at)
    return _stamp(variant, stamp.event_id, last.isoformat(), stamp.activity_count), last


def activity_version(activity: Activity, variant: str) -> tuple[str, datetime]:
    """Return (ETag, Last-Modified) of one activity's feed."""
    event = activity.event
    last = _latest(activity.updated_at, event.updated_at, event.programme_changed_at)
    return _stamp(variant, activity.id, activity.revision, last.isoformat()), last


def registration_version(registration: Registration, variant: str) -> tuple[str, datetime]:
    """Return (ETag, Last-Modified) of a personal feed: the programme plus the person's choices."""
    programme_tag, programme_last = programme_version(registration.event, variant)
    changed, count = db.session.execute(
        sa.select(sa.func.max(Enrolment.updated_at), sa.func.count(Enrolment.id)).where(
            Enrolment.registration_id == registration.id
        )
    ).one()
    last = _latest(programme_last, registration.updated_at, changed)
    return _stamp(programme_tag, registration.id, registration.language, last, count), last
