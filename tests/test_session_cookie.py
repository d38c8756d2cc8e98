"""The session cookie: signed with the current secret key, old keys only as fallbacks."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient


def test_session_follows_a_change_of_the_secret_key(client: FlaskClient, app: Flask) -> None:
    assert client.get("/sprache/en").status_code == 302
    assert '<html lang="en">' in client.get("/").text
    signed_before = client.get_cookie("session").value
    app.secret_key = app.config["SECRET_KEY"] = "a-new-secret-key"
    # The old signature no longer opens the session: the visitor is back to German.
    assert '<html lang="de">' in client.get("/").text
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    assert '<html lang="en">' in client.get("/").text
    client.get("/sprache/de")
    assert client.get_cookie("session").value != signed_before
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert '<html lang="de">' in client.get("/").text


def test_a_visit_without_a_cookie_gets_none_and_a_forged_one_is_ignored(
    client: FlaskClient,
) -> None:
    assert client.get("/").headers.getlist("Set-Cookie") == []
    client.set_cookie("session", "eyJsYW5nIjoiZW4ifQ.forged.signature")
    assert '<html lang="de">' in client.get("/").text
