"""Organiser accounts: CLI creation, login, logout, roles, rate limit."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from eventapp.extensions import db
from eventapp.models import Organiser
from tests.conftest import login
from tests.factories import make_organiser


def test_create_organiser_with_password_from_stdin(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(
        args=["create-organiser", "Team@Example.org", "--role", "admin", "--password-stdin"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        organiser = db.session.scalar(sa.select(Organiser))
        assert organiser.email == "team@example.org"
        assert organiser.role == "admin"
        assert organiser.password_hash.startswith("scrypt:")
        assert organiser.check_password("a-long-password")


def test_create_organiser_rejects_short_password(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["create-organiser", "a@example.org", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0
    assert "10 characters" in result.output


def test_login_wrong_password_gives_generic_message(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    response = login(client, "staff@example.org", "wrong-password")
    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.get_data(as_text=True)
    unknown = login(client, "nobody@example.org", "wrong-password")
    assert unknown.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in unknown.get_data(as_text=True)


def test_anonymous_is_redirected_to_login(client: FlaskClient) -> None:
    response = client.get("/organisation/")
    assert response.status_code == 302
    assert "/organisation/anmelden" in response.headers["Location"]


def test_logout_ends_session_even_for_a_copied_cookie(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    login(client, "staff@example.org", "right-password")
    assert client.get("/organisation/").status_code == 200
    stolen = client.get_cookie("session")
    assert stolen is not None
    client.post("/organisation/abmelden")
    assert client.get("/organisation/").status_code == 302
    other = app.test_client()
    other.set_cookie("session", stolen.value)
    assert other.get("/organisation/").status_code == 302


def test_a_session_copied_to_another_browser_signs_nobody_in(
    client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    client.environ_base["HTTP_USER_AGENT"] = "Browser des Teams"
    login(client, "staff@example.org", "right-password")
    assert client.get("/organisation/").status_code == 200
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = "Browser eines anderen"
    other.set_cookie("session", client.get_cookie("session").value)
    assert other.get("/organisation/").status_code == 302
    # From another address too, with the same browser.
    moved = app.test_client()
    moved.environ_base |= {"HTTP_USER_AGENT": "Browser des Teams", "REMOTE_ADDR": "192.0.2.8"}
    moved.set_cookie("session", client.get_cookie("session").value)
    assert moved.get("/organisation/").status_code == 302
    assert client.get("/organisation/").status_code == 200


def test_visits_without_a_login_get_their_session_cookie_only_when_it_changes(
    client: FlaskClient, app: Flask
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/organisation/anmelden").headers.getlist("Set-Cookie")  # a form token
    for path in ("/organisation/anmelden", "/", "/organisation/anmelden"):
        assert client.get(path).headers.getlist("Set-Cookie") == []
    assert client.get("/sprache/en").headers.getlist("Set-Cookie")
    assert client.get("/").headers.getlist("Set-Cookie") == []


def test_checkin_account_cannot_open_planning_pages(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_organiser("desk@example.org", "desk-password", role="checkin")
        db.session.commit()
    response = login(client, "desk@example.org", "desk-password")
    assert response.status_code == 200
    assert client.get("/organisation/einlass/").status_code == 200
    assert client.get("/organisation/").status_code == 403


@pytest.fixture
def limited_app_config() -> dict[str, object]:
    return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}]
)
def test_repeated_failed_logins_are_slowed_down(client: FlaskClient) -> None:
    statuses = [login(client, "x@example.org", "wrong").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    assert "Zu viele Versuche" in login(client, "x@example.org", "wrong").get_data(as_text=True)


LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per 10 minutes"}


def attempt(client: FlaskClient, email: str, password: str, address: str = "10.0.0.1") -> Any:
    """Post the login form from a client address."""
    return client.post(
        "/organisation/anmelden",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.mark.parametrize("app_config", [LIMITED])
def test_successful_logins_do_not_count_towards_the_limit(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    for _ in range(5):
        assert attempt(client, "staff@example.org", "right-password").status_code == 302
        client.post("/organisation/abmelden")


@pytest.mark.parametrize("app_config", [LIMITED])
def test_failed_logins_are_limited_per_account_from_any_address(
    client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        make_organiser("other@example.org", "other-password")
        db.session.commit()
    statuses = [
        attempt(client, "staff@example.org", "wrong", f"10.0.0.{n}").status_code for n in range(3)
    ]
    assert statuses == [401, 401, 401]
    # Blocked from a fresh address too, and even with the right password …
    blocked = attempt(client, "Staff@Example.org", "right-password", "10.0.0.99")
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "600"
    assert "falschen Anmeldeversuchen" in blocked.get_data(as_text=True)
    # … while another account from another address logs in as usual.
    assert attempt(client, "other@example.org", "other-password", "10.0.1.1").status_code == 302


@pytest.mark.parametrize("app_config", [LIMITED])
def test_failed_logins_are_limited_per_address_across_accounts(
    client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    for n in range(3):
        assert attempt(client, f"guess{n}@example.org", "wrong").status_code == 401
    assert attempt(client, "staff@example.org", "right-password").status_code == 429
    assert attempt(client, "staff@example.org", "right-password", "10.0.0.2").status_code == 302


@pytest.mark.parametrize("app_config", [LIMITED])
def test_limit_page_speaks_the_visitors_language(client: FlaskClient) -> None:
    client.get("/sprache/en")
    for _ in range(3):
        attempt(client, "x@example.org", "wrong")
    response = attempt(client, "x@example.org", "wrong")
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert '<html lang="en">' in text
    assert "10 minutes" in text


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_login_replaces_the_session_and_its_form_token(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_organiser("staff@example.org", "right-password")
        db.session.commit()
    page = client.get("/organisation/anmelden").get_data(as_text=True)
    planted = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert planted is not None
    old_token = planted.group(1)
    before = client.get_cookie("session")
    assert before is not None
    response = client.post(
        "/organisation/anmelden",
        data={"email": "staff@example.org", "password": "right-password", "csrf_token": old_token},
    )
    assert response.status_code == 302
    # The token of the session from before the login is refused afterwards …
    assert client.post("/organisation/abmelden", data={"csrf_token": old_token}).status_code == 400
    assert client.get("/organisation/").status_code == 200
    # … and the session that was planted logs nobody in.
    other = app.test_client()
    other.set_cookie("session", before.value)
    assert other.get("/organisation/").status_code == 302
    # The page's new token works.
    fresh = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/organisation/").get_data(as_text=True)
    )
    assert fresh is not None and fresh.group(1) != old_token
    logout = client.post("/organisation/abmelden", data={"csrf_token": fresh.group(1)})
    assert logout.status_code == 302
    assert client.get("/organisation/").status_code == 302
