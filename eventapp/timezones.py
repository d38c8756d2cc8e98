"""The only time-zone code: store UTC, show and parse in the event's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

DEFAULT_ZONE = "Europe/Berlin"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always returned as an aware UTC datetime."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def zone(name: str | None) -> ZoneInfo:
    """Return the ZoneInfo for a zone name, falling back to Europe/Berlin."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def is_valid_zone(name: str) -> bool:
    """Tell whether a time-zone name is known to the system's tz database."""
    return name in available_timezones()


def to_local(moment: datetime, zone_name: str | None) -> datetime:
    """Convert an aware instant to the wall-clock time of the given zone."""
    return moment.astimezone(zone(zone_name))


def from_local(day: date, wall: time, zone_name: str | None) -> datetime:
    """Turn a wall-clock date and time in the given zone into an aware UTC instant."""
    local = datetime.combine(day, wall, tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def local_day_bounds(day: date, zone_name: str | None) -> tuple[datetime, datetime]:
    """Return the UTC instants at which a local calendar day starts and ends."""
    start = from_local(day, time(0, 0), zone_name)
    end = from_local(day + timedelta(days=1), time(0, 0), zone_name)
    return start, end


def utc_offset(moment: datetime, zone_name: str | None) -> str:
    """Return the zone's UTC offset at an instant as +HH:MM."""
    local = to_local(moment, zone_name)
    text = local.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def format_local(
    moment: datetime | None, zone_name: str | None, fmt: str = "%d.%m.%Y %H:%M"
) -> str:
    """Format an instant as wall-clock text in the given zone ('' for None)."""
    if moment is None:
        return ""
    return to_local(moment, zone_name).strftime(fmt)
