"""Times are stored in UTC and shown in the event's zone, across the DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from eventapp.timezones import format_local, from_local, local_day_bounds, utc_offset


def test_last_sunday_of_october_changes_offset_in_berlin() -> None:
    day = date(2026, 10, 25)
    before = from_local(day, time(1, 30), "Europe/Berlin")
    after = from_local(day, time(10, 0), "Europe/Berlin")
    assert before == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    assert after == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert utc_offset(before, "Europe/Berlin") == "+02:00"
    assert utc_offset(after, "Europe/Berlin") == "+01:00"
    assert format_local(after, "Europe/Berlin", "%H:%M") == "10:00"


def test_dst_day_has_25_hours() -> None:
    start, end = local_day_bounds(date(2026, 10, 25), "Europe/Berlin")
    assert (end - start).total_seconds() == 25 * 3600


def test_naive_datetime_is_refused_by_column_type() -> None:
    from eventapp.timezones import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # noqa: DTZ001
