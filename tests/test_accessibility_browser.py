"""WCAG 2.1 AA in a real browser: axe-core on every page kind, reflow at 320 px, keyboard use.

axe-core is vendored in tests/vendor (MPL-2.0, see the README there) and injected into the page;
nothing is fetched from outside. Set EVENTAPP_SCREENSHOTS to a folder to keep a screenshot of
every page kind at 320 and 1280 px for a look by eye.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import PrintJob, PrintJobStatus
from tests.conftest import LiveServer
from tests.factories import make_activity, make_event, make_room
from tests.helpers.browser import axe_violations, browser_page
from tests.page_kinds import (
    DemoPages,
    PageKind,
    build_demo_pages,
    log_in_browser,
    open_in_browser,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("EVENTAPP_SCREENSHOTS")


def each_page(
    browser: Any, server: LiveServer, pages: DemoPages, **options: Any
) -> Iterator[tuple[PageKind, Any]]:
    """Show every page kind, public ones logged out, organiser ones logged in."""
    for organiser in (False, True):
        with browser_page(browser, server, **options) as page:
            if organiser:
                log_in_browser(page)
            for kind in pages.kinds:
                if kind.organiser == organiser:
                    open_in_browser(page, kind)
                    yield kind, page


def screenshot(page: Any, kind: PageKind, width: int) -> None:
    """Keep a full-page screenshot when EVENTAPP_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        name = re.sub(r"[^a-z0-9]+", "-", kind.name.lower()).strip("-")
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{width}-{name}.png"), full_page=True)


def test_axe_finds_no_violation_on_any_page_kind(
    app: Flask, browser: Any, live_server: LiveServer
) -> None:
    pages = build_demo_pages(app)
    found: dict[str, Any] = {}
    # The injected axe script is inline; only this check may pass the page's script policy.
    for kind, page in each_page(browser, live_server, pages, bypass_csp=True):
        violations = axe_violations(page, kind.axe_known_gaps)
        if violations:
            found[kind.name] = violations
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_axe_reports_a_missing_label(app: Flask, browser: Any, live_server: LiveServer) -> None:
    with browser_page(browser, live_server, bypass_csp=True) as page:
        page.goto("/organisation/anmelden")
        page.evaluate("document.querySelector('label[for=email]').remove()")
        rules = {v["rule"] for v in axe_violations(page)}
    assert "label" in rules


def test_every_page_kind_reflows_at_320_px(
    app: Flask, browser: Any, live_server: LiveServer
) -> None:
    pages = build_demo_pages(app)
    too_wide: dict[str, int] = {}
    for kind, page in each_page(
        browser, live_server, pages, viewport={"width": 320, "height": 640}
    ):
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[kind.name] = width
        screenshot(page, kind, 320)
    assert too_wide == {}, json.dumps(too_wide, indent=1)


def test_wide_tables_scroll_in_their_own_labelled_region(
    app: Flask, browser: Any, live_server: LiveServer
) -> None:
    pages = build_demo_pages(app)
    viewport = {"width": 320, "height": 640}
    for kind, page in each_page(browser, live_server, pages, viewport=viewport):
        if not kind.wide_table:
            continue
        region = page.locator(".table-scroll").first
        assert region.get_attribute("role") == "region", kind.name
        assert region.get_attribute("tabindex") == "0", kind.name
        assert region.get_attribute("aria-labelledby") or region.get_attribute("aria-label")
        inner, outer = region.evaluate("(e) => [e.scrollWidth, e.clientWidth]")
        assert inner > outer, f"{kind.name}: the table fits, the test shows nothing"


@pytest.mark.skipif(not SCREENSHOTS, reason="set EVENTAPP_SCREENSHOTS to keep screenshots")
@pytest.mark.parametrize("width", [375, 1280])
def test_screenshots(app: Flask, browser: Any, live_server: LiveServer, width: int) -> None:
    pages = build_demo_pages(app)
    viewport = {"width": width, "height": 800}
    for kind, page in each_page(browser, live_server, pages, viewport=viewport):
        screenshot(page, kind, width)


def test_running_print_job_updates_in_place(
    app: Flask, browser: Any, live_server: LiveServer
) -> None:
    pages = build_demo_pages(app)
    with app.app_context():
        job = db.session.scalars(sa.select(PrintJob)).one()
        job.status, job.done, job.total = PrintJobStatus.RUNNING, 3, 10
        db.session.commit()
        job_id = job.id
    with browser_page(browser, live_server) as page:
        log_in_browser(page)
        page.goto(f"/organisation/veranstaltungen/{pages.event_id}/druck/auftraege/{job_id}")
        page.evaluate("window.notReloaded = true")
        with app.app_context():
            job = db.session.get(PrintJob, job_id)
            job.status, job.done = PrintJobStatus.DONE, 10
            db.session.commit()
        page.locator("#job-status", has_text="fertig").wait_for(timeout=10_000)
        assert page.evaluate("window.notReloaded") is True
        assert page.get_by_role("link", name="PDF herunterladen").is_visible()


FOCUSED = """() => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    const box = e.getBoundingClientRect();
    return {
        id: e.id, tag: e.tagName.toLowerCase(), name: e.getAttribute("name") || "",
        text: (e.innerText || "").trim().slice(0, 60),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
        ring: style.boxShadow !== "none",
        onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= -1,
    };
}"""


def test_registration_by_keyboard_only(app: Flask, browser: Any, live_server: LiveServer) -> None:
    with app.app_context():
        event = make_event()
        room = make_room(event, "Konferenzraum 2", 40)
        make_activity(event, "Fachkräfte aus dem Ausland", "10:00", "11:30", room, capacity=20)
        db.session.commit()
    with browser_page(browser, live_server) as page:
        page.goto("/testtag/anmeldung")
        order: list[dict[str, Any]] = []
        for _ in range(60):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            order.append(focused)
            # Every stop shows where focus is: a visible outline or ring, on the screen.
            assert focused["onScreen"], focused
            assert focused["outline"] or focused["ring"], focused
            if focused["text"] == "Verbindlich anmelden":
                break
        ids = [f["id"] for f in order]
        assert order[0]["text"] == "Zum Inhalt springen"
        expected = ["first_name", "last_name", "organisation", "network", "state", "email"]
        expected += ["role", "language", "accessibility_needs", "privacy_consent"]
        assert [i for i in ids if i in expected] == expected  # the order one reads the form in
        assert "homepage" not in ids  # the trap for robots is not a stop
        # An empty form sent with the keyboard: focus goes to the error summary ...
        with page.expect_navigation():
            page.keyboard.press("Enter")
        summary = page.locator("#error-summary")
        assert summary.is_visible()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        # ... whose links, followed with the keyboard, put focus on the field to correct.
        page.keyboard.press("Tab")
        link = page.evaluate(FOCUSED)
        assert link["tag"] == "a" and "Vorname" in link["text"], link
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "first_name"
        label_top = page.locator("label[for=first_name]").bounding_box()["y"]
        assert label_top >= -1  # the label is on the screen above the field
        page.keyboard.type("Erika")
        assert page.get_by_label("Vorname", exact=True).input_value() == "Erika"
