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
