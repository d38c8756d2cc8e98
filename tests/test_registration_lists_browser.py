"""The registration list in a browser: filters folded when narrow, a bulk move to a workshop."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import Enrolment, Registration
from tests.factories import make_activity, make_event, make_organiser, make_registration


@pytest.mark.browser
def test_select_two_rows_and_move_them_into_a_workshop(page: Any, app: Flask) -> None:
    with app.app_context():
        event = make_event()
        workshop = make_activity(event, "Fachkräfte binden", "10:00", "11:00", capacity=1)
        people = [
            make_registration(event, "Vorname", name, email=f"{name.lower()}@example.org")
            for name in ("Adler", "Becker", "Clausen", "Dahl")
        ]
        make_organiser("staff@example.org", "staff-password-1")
        db.session.commit()
        event_id, workshop_id = event.id, workshop.id
        adler, clausen = people[0].id, people[2].id
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/organisation/anmelden")
    page.fill("#email", "staff@example.org")
    page.fill("#password", "staff-password-1")
    page.click("button[type=submit]")
    page.goto(f"/organisation/veranstaltungen/{event_id}/anmeldungen/?status=confirmed")
    # Narrow: the filters stay folded even when set; the list needs no sideways scrolling.
    assert not page.eval_on_selector("#filter-panel", "d => d.open")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_label("Vorname Adler auswählen").check()
    page.get_by_label("Vorname Clausen auswählen").check()
    page.click("button:has-text('In Workshop verschieben/eintragen')")
    assert "2 Personen in einen Workshop eintragen" in page.text_content("h1")
    page.select_option("#workshop", str(workshop_id))
    page.click("button:has-text('Weiter')")
    body = page.text_content("main")
    assert "Bekommt einen Platz (1)" in body and "Kommt auf die Warteliste (1)" in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.click("button:has-text('Ja, 2 Personen eintragen')")
    assert "1 Person(en) haben einen Platz, 1 stehen auf der Warteliste" in page.text_content(
        "main"
    )
    assert "status=confirmed" in page.url  # back to the list as it was
    with app.app_context():
        places = dict(
            db.session.execute(
                sa.select(Enrolment.registration_id, Enrolment.status).where(
                    Enrolment.activity_id == workshop_id
                )
            ).all()
        )
        assert places == {adler: "confirmed", clausen: "waitlisted"}
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 4
    # Wide: set filters open the panel.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/organisation/veranstaltungen/{event_id}/anmeldungen/?status=confirmed")
    assert page.eval_on_selector("#filter-panel", "d => d.open")
    page.click("th >> text=Name")  # sorted by name already: now the other way round
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"
    names = page.locator("tbody td:nth-child(2) a").all_text_contents()
    assert names == ["Dahl, Vorname", "Clausen, Vorname", "Becker, Vorname", "Adler, Vorname"]
