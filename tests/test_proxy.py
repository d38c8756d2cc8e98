"""Behind a proxy: TRUSTED_PROXIES decides whether X-Forwarded-* headers are believed."""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from eventapp.config import from_environment

LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per 10 minutes"}
FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "anmeldung.example.org",
}


def add_probe(app: Flask) -> None:
    """Add a route that tells the address, scheme and host the app sees."""
    app.add_url_rule(
        "/_probe", "probe", lambda: f"{request.remote_addr} {request.scheme} {request.host}"
    )


def fail_login(client: FlaskClient, email: str, forwarded_for: str) -> int:
    """Post a wrong password with a X-Forwarded-For header; return the status."""
    response = client.post(
        "/organisation/anmelden",
        data={"email": email, "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def listen_to_access_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Capture the development server's request lines (a migration run may have muted them)."""
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", False)
    caplog.set_level(logging.INFO, logger="werkzeug")


def test_setting_is_read_from_the_environment_as_a_number() -> None:
    assert from_environment({"EVENTAPP_TRUSTED_PROXIES": "2"}) == {"TRUSTED_PROXIES": 2}


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_trusted_proxy_gives_the_real_client(app: Flask, client: FlaskClient) -> None:
    add_probe(app)
    seen = client.get("/_probe", headers=FORWARDED).get_data(as_text=True)
    assert seen == "203.0.113.7 https anmeldung.example.org"


def test_without_trusted_proxies_forwarded_headers_change_nothing(
    app: Flask, client: FlaskClient
) -> None:
    add_probe(app)
    seen = client.get("/_probe", headers=FORWARDED).get_data(as_text=True)
    assert seen == "127.0.0.1 http localhost"


@pytest.mark.parametrize("app_config", [LIMITED | {"TRUSTED_PROXIES": 1}])
def test_trusted_proxy_limits_each_real_client(client: FlaskClient) -> None:
    assert [fail_login(client, f"a{n}@example.org", "203.0.113.1") for n in range(3)] == [401] * 3
    assert fail_login(client, "b@example.org", "203.0.113.1") == 429
    assert fail_login(client, "c@example.org", "203.0.113.2") == 401  # another person


@pytest.mark.parametrize("app_config", [LIMITED])
def test_spoofed_forwarded_for_does_not_escape_the_limit(client: FlaskClient) -> None:
    statuses = [fail_login(client, f"a{n}@example.org", f"198.51.100.{n}") for n in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_access_log_names_the_real_client(
    live_server: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    listen_to_access_log(caplog, monkeypatch)
    forwarded = urllib.request.Request(f"{live_server.url}/", headers=FORWARDED)
    with urllib.request.urlopen(forwarded, timeout=10) as response:
        assert response.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(line.startswith("203.0.113.7 ") for line in lines), lines


def test_access_log_ignores_a_spoofed_client(
    live_server: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    listen_to_access_log(caplog, monkeypatch)
    forwarded = urllib.request.Request(f"{live_server.url}/", headers=FORWARDED)
    with urllib.request.urlopen(forwarded, timeout=10) as response:
        assert response.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert lines and all(line.startswith("127.0.0.1 ") for line in lines), lines


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "REGISTER_RATE_LIMIT": "2 per minute", "TRUSTED_PROXIES": 1}],
)
def test_registration_limit_keys_on_the_real_client_behind_the_proxy(
    app: Flask, client: FlaskClient
) -> None:
    from eventapp.extensions import client_address, db
    from tests.factories import make_event

    with app.app_context():
        make_event()
        db.session.commit()
    # The limiter's key is the address ProxyFix took from the proxy's header.
    app.add_url_rule("/_key", "key", client_address)
    assert client.get("/_key", headers={"X-Forwarded-For": "203.0.113.9"}).text == "203.0.113.9"

    def post(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return client.post("/testtag/anmeldung", data={}, headers=headers).status_code

    assert [post("203.0.113.1") for _ in range(2)] == [400, 400]
    assert post("203.0.113.1") == 429
    # Everyone else behind the same proxy still gets through: the key is their own address.
    assert post("203.0.113.2") == 400
