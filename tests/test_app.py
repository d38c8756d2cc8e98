"""The application shell: error pages, CSRF, language switch, secret key."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from tests.factories import make_organiser


def test_unknown_event_slug_is_a_readable_404(client: FlaskClient) -> None:
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Seite nicht gefunden" in text
    assert "Traceback" not in text


def test_wrong_method_is_a_readable_405_naming_the_allowed_ones(client: FlaskClient) -> None:
    response = client.delete("/organisation/anmelden")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert "Methode nicht erlaubt" in response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_form_without_csrf_token_is_a_readable_400(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    response = client.post(
        "/organisation/anmelden", data={"email": "staff@example.org", "password": "right-password"}
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Formular abgelaufen" in text
    assert "<html" in text


def test_language_switch_is_kept_across_pages(client: FlaskClient) -> None:
    response = client.get("/sprache/en?next=/gibt-es-nicht/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/gibt-es-nicht/"
    page = client.get("/gibt-es-nicht/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Page not found" in page
    assert "Page not found" in client.get("/nochmal-nicht/").get_data(as_text=True)
    client.get("/sprache/de")
    assert "Seite nicht gefunden" in client.get("/gibt-es-nicht/").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(client: FlaskClient) -> None:
    response = client.get("/sprache/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"


def test_secret_key_is_generated_once_into_instance(tmp_path: Path) -> None:
    from eventapp import instance_secret_key

    first = instance_secret_key(tmp_path)
    assert len(first) == 64
    assert instance_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.browser
def test_home_page_in_a_real_browser_has_skip_link_and_language_switch(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Skip to content").count() == 1


def test_deadlock_answers_readable_503_not_500(app: Flask) -> None:
    from sqlalchemy.exc import OperationalError

    def aborted() -> str:
        raise OperationalError("UPDATE activity …", {}, Exception("deadlock detected"))

    app.add_url_rule("/organisation/test-deadlock", view_func=aborted)
    response = app.test_client().get("/organisation/test-deadlock")
    assert response.status_code == 503
    assert "Es wurde nichts gespeichert" in response.get_data(as_text=True)
