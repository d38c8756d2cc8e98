"""The extensions as the app binds them: the rate limiter looks only at writing requests."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from tests.factories import make_event


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "REGISTER_RATE_LIMIT": "1 per minute"}]
)
def test_reading_passes_a_spent_limit_that_still_stops_writing(
    client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        make_event()
        db.session.commit()
    assert client.post("/testtag/anmeldung", data={}).status_code == 400
    assert client.post("/testtag/anmeldung", data={}).status_code == 429
    for _ in range(3):
        assert client.get("/testtag/anmeldung").status_code == 200
        assert client.head("/testtag/").status_code == 200
    assert client.post("/testtag/anmeldung", data={}).status_code == 429


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "REGISTER_RATE_LIMIT": "2 per minute"}]
)
def test_a_post_weighs_its_limits_once_and_is_still_stopped(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventapp.extensions import limiter

    resolved = []
    resolve = limiter.limit_manager.resolve_limits

    def counting(*args: object, **kwargs: object) -> object:
        resolved.append(kwargs.get("in_middleware", args[4] if len(args) > 4 else None))
        return resolve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", counting)
    with app.app_context():
        make_event()
        db.session.commit()
    assert client.post("/testtag/anmeldung", data={}).status_code == 400
    # Only the view's decorator looked the limits up: no app-wide limit is set.
    assert resolved == [False]
    assert client.post("/testtag/anmeldung", data={}).status_code == 400
    assert client.post("/testtag/anmeldung", data={}).status_code == 429


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_APPLICATION": "1 per minute"}]
)
def test_an_app_wide_limit_is_still_checked_before_any_view(client: FlaskClient) -> None:
    from eventapp.extensions import limiter

    try:
        # The sign-in form has no limit of its own: only the before-request pass can stop it.
        first = client.post("/organisation/anmelden", data={})
        assert first.status_code != 429
        assert client.post("/organisation/anmelden", data={}).status_code == 429
    finally:
        # Flask-Limiter keeps an app-wide limit once set, for every app bound after this one.
        limiter.limit_manager.set_application_limits([])
