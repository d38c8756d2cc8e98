"""In a real browser: a steward at a workshop door scans, admits someone not enrolled, undoes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import Enrolment, EnrolmentStatus, WorkshopAttendance
from tests.factories import make_activity, make_event, make_organiser, make_registration

pytestmark = pytest.mark.browser
CSRF_ON = [{"WTF_CSRF_ENABLED": True}]


def seed(app: Flask) -> dict[str, Any]:
    """A workshop with 3 seats, one of them taken by Anna; Bernd is registered, not enrolled."""
    with app.app_context():
        event = make_event(slug="tag", title="Innovationstag 2026")
        workshop = make_activity(event, "Workshop Fachkräftesicherung", capacity=3)
        make_activity(event, "Plenum", requires_enrolment=False)
        anna = make_registration(event, "Anna", "Müller", organisation="IHK Köln")
        bernd = make_registration(
            event,
            "Bernd",
            "Schulz-Oberhollenzer",
            organisation="Agentur für Arbeit Frankfurt (Oder) – Regionaldirektion",
        )
        db.session.add(
            Enrolment(registration=anna, activity=workshop, status=EnrolmentStatus.CONFIRMED)
        )
        workshop.seats_taken = 1
        make_organiser("door@example.org", "door-password-1", role="checkin")
        db.session.commit()
        return {
            "event_id": event.id,
            "workshop_id": workshop.id,
            "anna": anna.checkin_code,
            "bernd": bernd.checkin_code,
            "bernd_id": bernd.id,
        }


def wait_for_scan_field(page: Any) -> None:
    """Wait for the page's (deferred) script, then have the focus in the scan field."""
    page.wait_for_load_state("load")  # (no wait_for_function: the page's CSP forbids eval)
    page.get_by_label("Code scannen").focus()


def present(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count(WorkshopAttendance.id))) or 0)


@pytest.mark.parametrize("app_config", CSRF_ON)
def test_door_scan_admit_and_undo_on_a_phone(app: Flask, page: Any) -> None:
    data = seed(app)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/organisation/anmelden")
    page.get_by_label("E-Mail-Adresse").fill("door@example.org")
    page.get_by_label("Passwort").fill("door-password-1")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile("/organisation/einlass/"))
    page.goto(f"/organisation/einlass/{data['event_id']}/")
    page.get_by_role("link", name="Workshop-Einlass").click()
    assert page.get_by_role("link", name="Plenum").count() == 0
    page.get_by_role("link", name="Workshop Fachkräftesicherung").click()
    wait_for_scan_field(page)
    page.evaluate("window.sameDocument = true")
    answer, count = page.locator("#desk-answer"), page.locator("#desk-count")
    assert count.inner_text() == "1 von 3 Plätzen, 0 anwesend"

    # Enrolled: let in at once, green and in words.
    page.keyboard.type(data["anna"])
    page.keyboard.press("Enter")
    answer.get_by_text("Angemeldet – eingelassen").wait_for()
    assert "answer-ok" in answer.inner_html() and "Anna Müller" in answer.inner_text()
    assert count.inner_text() == "1 von 3 Plätzen, 1 anwesend"
    assert page.evaluate("document.activeElement.name") == "code"

    # Not enrolled, seats free: the steward admits; the seat is claimed as online.
    page.keyboard.type(data["bernd"])
    page.keyboard.press("Enter")
    answer.get_by_text("Nicht angemeldet").wait_for()
    admit = page.get_by_role("button", name=re.compile(r"Einlassen \(Platz frei: 2\)"))
    box = admit.bounding_box()
    assert box is not None and box["height"] >= 44
    page.screenshot(path="/tmp/door-not-enrolled-320.png", full_page=True)
    admit.click()
    answer.get_by_text("Der Platz wurde an der Tür vergeben.").wait_for()
    assert count.inner_text() == "2 von 3 Plätzen, 2 anwesend"
    assert present(app) == 2
    assert page.evaluate("window.sameDocument") is True  # no reload
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # Ctrl+Z in the empty scan field takes the admission back, seat included.
    page.get_by_label("Code scannen").focus()
    page.keyboard.press("Control+z")
    answer.get_by_text("Einlass zurückgenommen").wait_for()
    assert count.inner_text() == "1 von 3 Plätzen, 1 anwesend"
    assert present(app) == 1
    with app.app_context():
        enrolment = db.session.scalar(
            sa.select(Enrolment).filter_by(registration_id=data["bernd_id"])
        )
        assert enrolment.status == EnrolmentStatus.CANCELLED

    # The same badge again: already let in, with the time.
    page.keyboard.type(data["anna"])
    page.keyboard.press("Enter")
    answer.get_by_text("Schon eingelassen").wait_for()
    assert re.search(r"Eingelassen um \d\d:\d\d Uhr", answer.inner_text())
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/door-already-1280.png", full_page=True)
