"""Accounts in a real browser: an admin invites by keyboard, the invitee sets a password by mail."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from eventapp.extensions import db
from tests.conftest import LiveServer
from tests.factories import make_organiser
from tests.helpers.browser import browser_page
from tests.helpers.mailbox import password_path
from tests.smtp_server import SmtpServer, text_of

pytestmark = pytest.mark.browser


def test_invite_and_forgotten_password_by_keyboard(
    app: Flask, browser: Any, live_server: LiveServer, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    with app.app_context():
        make_organiser("chefin@example.org", "chefin-password-1", role="admin")
        db.session.commit()
    with browser_page(browser, live_server, viewport={"width": 320, "height": 640}) as admin:
        admin.goto("/organisation/anmelden")
        admin.get_by_label("E-Mail-Adresse").fill("chefin@example.org")
        admin.get_by_label("Passwort").fill("chefin-password-1")
        with admin.expect_navigation():
            admin.keyboard.press("Enter")
        admin.goto("/organisation/konten/einladen")
        admin.get_by_label("Name").focus()
        admin.keyboard.type("Nora Neu")
        admin.keyboard.press("Tab")
        admin.keyboard.type("nora@example.org")
        admin.keyboard.press("Tab")
        admin.keyboard.press("End")  # the last role: check-in
        admin.keyboard.press("Tab")
        assert admin.evaluate("document.activeElement.textContent") == "Einladung senden"
        with admin.expect_navigation():
            admin.keyboard.press("Enter")
        assert "Die Einladung an nora@example.org ist unterwegs." in admin.content()
        row = admin.get_by_role("row", name="Nora Neu")
        assert "Einlass" in row.inner_text() and "eingeladen" in row.inner_text()
        # Nothing runs off the side at 320 px.
        assert admin.evaluate("document.documentElement.scrollWidth") <= 320

    (mail,) = smtp_server.wait_for(1)
    path = password_path(text_of(mail))
    with browser_page(browser, live_server) as newcomer:
        newcomer.goto(path)
        assert newcomer.get_by_role("heading", level=1).inner_text() == "Konto einrichten"
        newcomer.get_by_label("Neues Passwort", exact=True).fill("kurz")
        newcomer.get_by_label("Neues Passwort wiederholen").fill("kurz")
        with newcomer.expect_navigation():
            newcomer.keyboard.press("Enter")
        assert "mindestens 10 Zeichen" in newcomer.locator("#error-summary").inner_text()
        newcomer.get_by_label("Neues Passwort", exact=True).fill("Nora setzt ihr Passwort")
        newcomer.get_by_label("Neues Passwort wiederholen").fill("Nora setzt ihr Passwort")
        with newcomer.expect_navigation():
            newcomer.get_by_role("button", name="Passwort speichern").click()
        assert newcomer.url.endswith("/organisation/einlass/")  # a check-in account's start
        assert "Ihr Passwort ist gespeichert" in newcomer.content()

    with browser_page(browser, live_server) as visitor:
        visitor.goto("/organisation/anmelden")
        with visitor.expect_navigation():
            visitor.get_by_role("link", name="Passwort vergessen?").click()
        visitor.get_by_label("E-Mail-Adresse").fill("nora@example.org")
        with visitor.expect_navigation():
            visitor.keyboard.press("Enter")
        assert visitor.get_by_role("heading", level=1).inner_text() == "Link angefordert"
    reset = password_path(text_of(smtp_server.wait_for(2)[1]))
    with browser_page(browser, live_server) as visitor:
        visitor.goto(reset)
        assert visitor.get_by_role("heading", level=1).inner_text() == "Neues Passwort festlegen"
