"""Organiser accounts: CLI creation, login, logout, roles, rate limit."""

from __future__ import annotations

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
