"""The dashboard in a real browser at 375 px: no sideways scroll, axe clean, updates in place."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import Enrolment, Network, Registration
from tests.conftest import LiveServer
from tests.factories import at, make_activity, make_event, make_organiser, make_registration
from tests.helpers.browser import axe_violations, browser_page
from tests.page_kinds import ORGANISER, log_in_browser

pytestmark = pytest.mark.browser


def _event_with_people() -> int:
    event = make_event()
    long_title = "Fachkräftesicherung in der Pflege: Ausbildungsverbünde und Anerkennungsberatung"
    workshops = [
        make_activity(event, long_title, "10:00", "11:30", capacity=4),
        make_activity(event, "Kurzer Workshop", "13:00", "14:00", capacity=10),
    ]
    network = Network(
        name="Fachkräfteallianz Mecklenburg-Vorpommern", state="Mecklenburg-Vorpommern"
    )
    db.session.add(network)
    db.session.flush()
    for number in range(8):
        person = make_registration(
            event, f"Vorname{number}", f"Nachname{number}", network_id=network.id
        )
        status = "confirmed" if number < 4 else "waitlisted"
        db.session.add(Enrolment(registration=person, activity=workshops[0], status=status))
        if number < 3:
            person.checked_in_at = at(event, f"08:{10 + number * 20}")
    make_organiser(*ORGANISER, role="admin")
    db.session.commit()
    return event.id


def test_dashboard_at_375_px_reflows_passes_axe_and_updates_in_place(
    app: Flask, browser: Any, live_server: LiveServer
) -> None:
    with app.app_context():
        event_id = _event_with_people()
    path = f"/organisation/veranstaltungen/{event_id}/auswertung/"
    with browser_page(
        browser, live_server, viewport={"width": 375, "height": 740}, bypass_csp=True
    ) as page:
        log_in_browser(page)
        page.goto(path)
        checked_in = page.locator(".key-figures dd").nth(3)
        assert checked_in.inner_text() == "3"
        # Every table open: still no sideways scrolling, and axe finds nothing.
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert axe_violations(page) == []
        assert page.get_by_role("img", name="Einlass am 10.06.2026 je Viertelstunde").count() == 1

        # Updates: the pause button appears with the script; only changed parts are swapped.
        pause = page.get_by_role("button", name="Automatisch aktualisieren anhalten")
        assert pause.get_attribute("aria-pressed") == "false"
        page.evaluate("document.getElementById('angebote-svg').probe = 'kept'")
        page.evaluate("document.getElementById('dashboard-figures').dataset.refreshSeconds = '0.5'")
        with app.app_context():
            person = db.session.scalars(
                sa.select(Registration).where(Registration.checked_in_at.is_(None)).limit(1)
            ).one()
            person.checked_in_at = at(person.event, "09:40")
            db.session.commit()
        page.wait_for_function(
            "document.querySelectorAll('.key-figures dd')[3].textContent.trim() === '4'",
            timeout=5000,
        )
        assert page.evaluate("document.getElementById('angebote-svg').probe") == "kept"
        assert page.evaluate("[...document.querySelectorAll('details')].every((d) => d.open)")
        assert (
            "09:30" in page.locator("#einlass-table, [data-refresh-key=einlass-table]").inner_text()
        )

        # Paused: nothing changes any more.
        pause.click()
        assert pause.get_attribute("aria-pressed") == "true"
        with app.app_context():
            person = db.session.scalars(
                sa.select(Registration).where(Registration.checked_in_at.is_(None)).limit(1)
            ).one()
            person.checked_in_at = at(person.event, "09:50")
            db.session.commit()
        page.wait_for_timeout(1500)
        assert checked_in.inner_text() == "4"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
