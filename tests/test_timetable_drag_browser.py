"""Moving activities on the timetable in a real browser: mouse drag, keyboard, dialog, undo."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from eventapp.extensions import db
from eventapp.models import Activity
from eventapp.timezones import to_local
from tests.conftest import LiveServer
from tests.factories import make_activity, make_event, make_organiser, make_room
from tests.helpers.browser import axe_violations, browser_page

pytestmark = pytest.mark.browser


def build(app: Flask) -> dict[str, int]:
    """Rooms A, B, C; Workshop 1 (A) and 2 (B) at 10:00–11:00, a plenary (C) at 12:00."""
    with app.app_context():
        make_organiser("staff@example.org", "staff-password-1")
        event = make_event()
        rooms = [make_room(event, f"Raum {name}", 40, position=i) for i, name in enumerate("ABC")]
        w1 = make_activity(event, "Workshop 1", "10:00", "11:00", rooms[0])
        w2 = make_activity(event, "Workshop 2", "10:00", "11:00", rooms[1])
        make_activity(event, "Abschluss", "12:00", "13:00", rooms[2])
        db.session.commit()
        ids = {"event": event.id, "w1": w1.id, "w2": w2.id}
        ids.update({name: room.id for name, room in zip("ABC", rooms, strict=True)})
        return ids


def where(app: Flask, activity_id: int) -> tuple[int | None, str]:
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        return activity.room_id, to_local(activity.starts_at, "Europe/Berlin").strftime("%H:%M")


def open_timetable(page: Any, ids: dict[str, int]) -> None:
    page.goto("/organisation/anmelden")
    page.fill("#email", "staff@example.org")
    page.fill("#password", "staff-password-1")
    page.click("button[type=submit]")
    page.goto(f"/organisation/veranstaltungen/{ids['event']}/zeitplan")
    page.wait_for_selector("#tt-planner:not([hidden])")


def drag(page: Any, activity_id: int, room: str, rows: float) -> None:
    """Drag a block by the mouse into a room's column, `rows` 5-minute rows down."""
    block = page.locator(f'.tt-block[data-activity="{activity_id}"]').bounding_box()
    head = page.locator(".tt-room", has_text=room).bounding_box()
    row = page.locator(".tt-time").first.bounding_box()["height"] / 6
    x, y = block["x"] + block["width"] / 2, block["y"] + 8
    page.mouse.move(x, y)
    page.mouse.down()
    target_x = head["x"] + head["width"] / 2
    for step in range(1, 6):
        page.mouse.move(x + (target_x - x) * step / 5, y + rows * row * step / 5)
    page.mouse.up()


def test_drag_with_the_mouse_conflict_dialog_and_undo(page: Any, app: Flask) -> None:
    ids = build(app)
    page.set_viewport_size({"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_timetable(page, ids)
    assert page.get_by_text("Taste V drücken").is_visible()
    live = page.locator("#tt-live")
    # 12.4 rows down snaps to 12 rows: an hour later, in room C.
    drag(page, ids["w1"], "Raum C", 12.4)
    expect(page.locator("#tt-live")).to_contain_text("verschoben nach")
    assert live.text_content() == "„Workshop 1“ verschoben nach Raum C, 11:00–12:00."
    assert where(app, ids["w1"]) == (ids["C"], "11:00")
    moved = page.locator(f'.tt-block[data-activity="{ids["w1"]}"]')
    assert "11:00–12:00" in moved.text_content()
    assert page.evaluate("document.activeElement.dataset.activity") == str(ids["w1"])
    # The click that ends a drag does not open the form.
    assert page.url.endswith("/zeitplan")
    # Undo by the button moves it back through the same checks.
    page.get_by_role("button", name="Rückgängig").click()
    expect(page.locator("#tt-live")).to_contain_text("Rückgängig")
    assert where(app, ids["w1"]) == (ids["A"], "10:00")
    assert page.get_by_role("button", name="Rückgängig").is_hidden()
    # Onto Workshop 2's room at the same time: the dialog lists the conflict, nothing is saved.
    drag(page, ids["w1"], "Raum B", 0)
    dialog = page.get_by_role("dialog", name="Konflikte beim Verschieben")
    dialog.wait_for()
    assert "Raum „Raum B“ ist zur selben Zeit belegt: „Workshop 2“" in dialog.text_content()
    assert page.evaluate("document.activeElement.id") == "tt-dialog-confirm"
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert where(app, ids["w1"]) == (ids["A"], "10:00")
    assert page.evaluate("document.activeElement.dataset.activity") == str(ids["w1"])
    assert "at-col-2" in (
        page.locator(f'.tt-block[data-activity="{ids["w1"]}"]').get_attribute("class") or ""
    )
    # Again, and moved deliberately.
    drag(page, ids["w1"], "Raum B", 0)
    dialog.get_by_role("button", name="Bewusst verschieben").click()
    expect(page.locator("#tt-live")).to_contain_text("verschoben nach Raum B")
    assert where(app, ids["w1"]) == (ids["B"], "10:00")
    with app.app_context():
        assert db.session.get(Activity, ids["w1"]).overlap_confirmed is True
    page.screenshot(path="/tmp/eventapp-timetable-drag-1280.png", full_page=True)
    assert errors == []  # no script error, nothing the Content-Security-Policy had to block


def test_keyboard_move_undo_and_phone_width(
    page: Any, app: Flask, browser: Any, live_server: LiveServer
) -> None:
    ids = build(app)
    page.set_viewport_size({"width": 320, "height": 700})
    open_timetable(page, ids)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    block = page.locator(f'.tt-block[data-activity="{ids["w2"]}"]')
    block.focus()
    page.keyboard.press("v")
    assert "aufgenommen" in page.locator("#tt-live").text_content()
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    assert page.locator("#tt-live").text_content() == "Raum C, 10:15–11:15"
    assert "Raum C, 10:15–11:15" in block.text_content()
    page.keyboard.press("Enter")
    expect(page.locator("#tt-live")).to_contain_text("verschoben nach")
    assert where(app, ids["w2"]) == (ids["C"], "10:15")
    assert page.url.endswith("/zeitplan")
    assert page.evaluate("document.activeElement.dataset.activity") == str(ids["w2"])
    # Escape while moving puts the block back, nothing is sent.
    page.keyboard.press("v")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Escape")
    assert page.locator("#tt-live").text_content() == "Verschieben abgebrochen."
    # Ctrl+Z undoes the keyboard move.
    page.keyboard.press("Control+z")
    expect(page.locator("#tt-live")).to_contain_text("Rückgängig")
    assert where(app, ids["w2"]) == (ids["B"], "10:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path="/tmp/eventapp-timetable-drag-320.png", full_page=True)
    # Enter without V still opens the edit form.
    assert page.evaluate("document.activeElement.dataset.activity") == str(ids["w2"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/programm/{ids['w2']}?next=timetable")
    # axe (injected, so the policy is bypassed here only) on the grid and on the open dialog.
    with browser_page(
        browser, live_server, bypass_csp=True, viewport={"width": 320, "height": 700}
    ) as checked:
        open_timetable(checked, ids)
        assert axe_violations(checked) == []
        checked.locator(f'.tt-block[data-activity="{ids["w1"]}"]').focus()
        for key in ("v", "ArrowRight", "Enter"):
            checked.keyboard.press(key)
        checked.get_by_role("dialog", name="Konflikte beim Verschieben").wait_for()
        assert checked.evaluate("document.documentElement.scrollWidth") <= 320
        assert axe_violations(checked) == []
        checked.screenshot(path="/tmp/eventapp-timetable-dialog-320.png")
