"""Private-link tokens stay out of Flask's own error reports, as out of the access log."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

TOKEN = "Geheim-Token-0123456789abcdefghijklmnop"


def broken_manage_page(slug: str, token: str) -> str:
    """Fail the way a bug in the manage page would, naming the path in the error."""
    raise RuntimeError(f"could not show /{slug}/verwalten/{token}")


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}])
def test_server_error_on_a_manage_link_logs_no_token(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.add_url_rule("/<slug>/verwalten/<token>/kaputt", "broken", broken_manage_page)
    monkeypatch.setattr(app.logger, "disabled", False)  # a migration run's logging setup mutes it
    caplog.set_level(logging.ERROR)
    response = client.get(f"/testtag/verwalten/{TOKEN}/kaputt")
    assert response.status_code == 500
    assert "Interner Fehler" in response.get_data(as_text=True)
    assert "Exception on /testtag/verwalten/…/kaputt [GET]" in caplog.text
    assert "RuntimeError: could not show /testtag/verwalten/…" in caplog.text
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in logging.Formatter().format(record)


def test_password_link_paths_are_redacted_in_log_lines() -> None:
    from eventapp.log_redaction import redact

    line = f'127.0.0.1 - - "GET /organisation/passwort/{TOKEN} HTTP/1.1" 200 -'
    assert redact(line) == '127.0.0.1 - - "GET /organisation/passwort/… HTTP/1.1" 200 -'
    # The request form itself carries no secret and stays readable.
    assert (
        redact("POST /organisation/passwort-vergessen") == "POST /organisation/passwort-vergessen"
    )
