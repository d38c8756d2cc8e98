"""In a real browser: register, receive the mail over SMTP, open the link, change, cancel."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from eventapp.extensions import db
from tests.factories import make_activity, make_event, make_room
from tests.smtp_server import SmtpServer, text_of

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_participant_registers_changes_and_cancels(
    app: Flask, page: Any, live_server: Any, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config() | {"PUBLIC_BASE_URL": live_server.url})
    with app.app_context():
        event = make_event()
        room = make_room(event, "Konferenzraum 2", 40)
        make_activity(event, "Fachkräfte aus dem Ausland", "10:00", "11:30", room, capacity=20)
        make_activity(event, "Ausbildung 4.0", "10:00", "11:30", room, capacity=20)
        db.session.commit()

    page.goto("/testtag/anmeldung")
    page.get_by_label("Vorname", exact=True).fill("Erika")
    page.get_by_label("Nachname", exact=True).fill("Mustermann")
    page.get_by_label("Organisation", exact=True).fill("Agentur für Arbeit Stendal")
    page.get_by_label("Bundesland").select_option("Sachsen-Anhalt")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("Fachkräfte aus dem Ausland").check()
    page.screenshot(path="/tmp/registration-form.png", full_page=True)
    page.get_by_role("button", name="Verbindlich anmelden").click()
    # The consent is missing: the form comes back with the input kept and a summary.
    summary = page.locator("#error-summary")
    assert "Datenschutzhinweisen" in summary.inner_text()
    assert page.get_by_label("Nachname", exact=True).input_value() == "Mustermann"
    assert page.get_by_label("Fachkräfte aus dem Ausland").is_checked()
    page.get_by_label("Ich habe die Datenschutzhinweise gelesen", exact=False).check()
    page.get_by_role("button", name="Verbindlich anmelden").click()
    page.get_by_role("heading", name="Vielen Dank, Ihre Anmeldung ist eingegangen").wait_for()
    page.screenshot(path="/tmp/registration-confirmation.png", full_page=True)
    # The page is the same for a known address; status and link come by mail.
    assert "/verwalten/" not in page.content()

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "erika@example.org"
    assert "Ihre Teilnahme ist bestätigt" in text_of(message)
    link = re.search(r"http://\S+/verwalten/\S+", text_of(message))
    assert link is not None

    # Registering again with the same address: the same page, and the link comes by mail.
    page.goto("/testtag/anmeldung")
    page.get_by_label("Vorname", exact=True).fill("Erika")
    page.get_by_label("Nachname", exact=True).fill("Musterfrau")
    page.get_by_label("Organisation", exact=True).fill("Agentur für Arbeit Stendal")
    page.get_by_label("Bundesland").select_option("Sachsen-Anhalt")
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("Ich habe die Datenschutzhinweise gelesen", exact=False).check()
    page.get_by_role("button", name="Verbindlich anmelden").click()
    page.get_by_role("heading", name="Vielen Dank, Ihre Anmeldung ist eingegangen").wait_for()
    again = smtp_server.wait_for(2)[1]
    assert "bereits angemeldet" in again["Subject"]
    link = re.search(r"http://\S+/verwalten/\S+", text_of(again))
    assert link is not None

    page.goto(link.group(0))
    page.get_by_role("heading", name=re.compile("Ihre Anmeldung")).wait_for()
    page.get_by_label("Ausbildung 4.0").check()
    page.get_by_role("button", name="Auswahl speichern").click()
    page.get_by_text("Ihre Auswahl ist gespeichert").wait_for()
    assert "Ausbildung 4.0" in page.locator("table").inner_text()
    page.screenshot(path="/tmp/registration-manage.png", full_page=True)

    page.get_by_label("Ja, ich möchte meine Anmeldung").check()
    page.get_by_role("button", name="Anmeldung stornieren").click()
    page.get_by_text("Ihre Anmeldung ist storniert").wait_for()
    kinds = [m["Subject"] for m in smtp_server.wait_for(4)]
    assert any("geändert" in subject for subject in kinds)
    assert any("storniert" in subject for subject in kinds)
