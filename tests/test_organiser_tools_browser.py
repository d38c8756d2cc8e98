"""The organisers' new pages and the participant's clash form at 320 px in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from eventapp.extensions import db
from eventapp.services.programme.participant_clashes import ClashChoice
from tests.factories import make_organiser
from tests.helpers.clashes import build, manage_url, move_a_onto_b

NARROW = {"width": 320, "height": 640}


def fits(page: Any) -> bool:
    """Tell whether the page needs no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]


@pytest.mark.browser
def test_new_pages_work_at_320_px(page: Any, app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        make_organiser("staff@example.org", "staff-password-1")
        db.session.commit()
    page.set_viewport_size(NARROW)
    page.goto("/organisation/anmelden")
    page.fill("#email", "staff@example.org")
    page.fill("#password", "staff-password-1")
    page.click("button[type=submit]")
    event = f"/organisation/veranstaltungen/{ids['event']}"

    page.goto(f"{event}/")
    assert fits(page)
    page.click("text=Als Vorlage für eine neue Veranstaltung verwenden")
    assert fits(page)
    page.fill("#starts_on", "2027-06-09")
    page.click("text=Neue Veranstaltung anlegen")
    assert "ist angelegt" in page.text_content("body")

    page.goto(f"{event}/anmeldungen/{ids['p0']}")
    page.click("text=Anmeldung stornieren …")
    assert fits(page)
    assert "Vorname1 Nachname1 rückt von der Warteliste nach" in page.text_content("body")
    page.fill("#reason", "Doppelt angemeldet.")
    page.click("text=Ja, Anmeldung stornieren")
    assert "ist storniert" in page.text_content("body")

    page.goto(f"{event}/programm/{ids['a']}")
    page.fill("#starts", "11:30")
    page.fill("#ends", "12:30")
    page.click("button:has-text('Speichern')")
    assert "Überschneidung bei Teilnehmenden" in page.text_content("body")
    assert fits(page)
    page.check("#participant_clash_choice-0")
    page.click("button:has-text('Speichern')")
    assert "ist gespeichert" in page.text_content("body")


@pytest.mark.browser
def test_participants_clash_form_at_320_px_keeps_both(page: Any, app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        move_a_onto_b(ids, participant_clash_choice=ClashChoice.KEEP_BOTH)
    page.set_viewport_size(NARROW)
    page.goto(manage_url(ids, "p0"))
    assert fits(page)
    assert page.is_checked(f"#choice-{ids['a']}") and page.is_checked(f"#choice-{ids['b']}")
    page.click("text=Auswahl speichern")
    assert page.is_checked(f"#choice-{ids['a']}") and page.is_checked(f"#choice-{ids['b']}")
