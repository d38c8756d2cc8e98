"""The timetable grid and the public programme in a real browser, at laptop and phone size."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from eventapp.extensions import db
from eventapp.models import ActivityKind
from tests.factories import make_activity, make_event, make_organiser, make_room

ROOMS = 8


def build_day(app: Flask) -> int:
    """Create an event with 8 rooms, 60 activities, a break for everyone and one conflict."""
    with app.app_context():
        make_organiser("staff@example.org", "staff-password-1")
        event = make_event()
        rooms = [
            make_room(event, f"Konferenzraum {i + 1}", 20 + 10 * i, position=i)
            for i in range(ROOMS)
        ]
        made = 0
        for slot in range(9):
            start = 9 * 60 + slot * 60
            for index, room in enumerate(rooms):
                if made == 58:
                    break
                if slot == 3:
                    continue  # lunch
                length = 45 if index % 2 else 30
                make_activity(
                    event,
                    f"Workshop {made + 1}: Fachkräftesicherung in der Region",
                    f"{start // 60:02d}:{start % 60:02d}",
                    f"{(start + length) // 60:02d}:{(start + length) % 60:02d}",
                    room=room,
                    capacity=room.capacity,
                    cancelled=made == 5,
                )
                made += 1
        make_activity(event, "Mittagspause", "12:00", "13:00", kind=ActivityKind.BREAK)
        make_activity(event, "Doppelt belegt", "09:00", "09:30", room=rooms[0], capacity=10)
        db.session.commit()
        return event.id


@pytest.mark.browser
def test_timetable_readable_on_laptop(page: Any, app: Flask) -> None:
    event_id = build_day(app)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/organisation/anmelden")
    page.fill("#email", "staff@example.org")
    page.fill("#password", "staff-password-1")
    page.click("button[type=submit]")
    page.goto(f"/organisation/veranstaltungen/{event_id}/zeitplan")
    grid = page.locator(".timetable").first
    assert page.locator(".tt-room").count() == ROOMS
    assert page.locator(".tt-block").count() == 60
    # All eight rooms fit side by side without scrolling sideways.
    widths = grid.evaluate("g => [g.scrollWidth, g.clientWidth]")
    assert widths[0] <= widths[1]
    box = page.locator(".tt-block", has_text="Workshop 2:").first.bounding_box()
    assert box["width"] >= 120 and box["height"] >= 40
    lunch = page.locator(".tt-block.all-rooms").first.bounding_box()
    assert lunch["width"] > ROOMS * 120
    assert page.locator(".tt-block.is-cancelled", has_text="ABGESAGT").count() == 1
    assert page.locator(".tt-block.has-conflict").count() == 2
    assert page.locator(".conflict-list li").count() == 1
    page.screenshot(path="/tmp/eventapp-timetable-1366.png", full_page=True)


@pytest.mark.browser
def test_public_programme_grid_wide_list_narrow(page: Any, app: Flask) -> None:
    build_day(app)
    # Eight rooms do not fit side by side on a laptop: a slot's items wrap in rows of cards.
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/testtag/")
    assert not page.locator(".pg-head").is_visible()
    first = page.locator(".pg-item", has_text="Workshop 1:").bounding_box()
    second = page.locator(".pg-item", has_text="Workshop 2:").bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]  # side by side
    assert first["width"] >= 240  # wide enough for long German words
    page.screenshot(path="/tmp/eventapp-programme-1366.png")
    # On a wide screen, the time-by-room grid.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/testtag/")
    assert page.locator(".pg-head").is_visible()
    first = page.locator(".pg-item", has_text="Workshop 1:").bounding_box()
    second = page.locator(".pg-item", has_text="Workshop 2:").bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/testtag/")
    assert not page.locator(".pg-head").is_visible()
    first = page.locator(".pg-item", has_text="Workshop 1:").bounding_box()
    second = page.locator(".pg-item", has_text="Workshop 2:").bounding_box()
    assert second["y"] > first["y"] + first["height"] - 1  # stacked as a list
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.keyboard.press("Tab")
    page.screenshot(path="/tmp/eventapp-programme-390.png", full_page=False)
