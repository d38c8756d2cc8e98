"""Kept public answers sent before the app's request handling, to visitors without cookies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, request_started
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Activity, Event
from eventapp.services.registration.waitlist import claim_seat
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_room
from tests.helpers.hosts import another_host


@contextmanager
def handled_by_app(app: Flask) -> Iterator[list[str]]:
    """Collect the addresses the app built a request context for while the block runs."""
    seen: list[str] = []

    def note(sender: Flask, **extra: Any) -> None:
        from flask import request

        seen.append(request.full_path.rstrip("?"))

    request_started.connect(note, app)
    try:
        yield seen
    finally:
        request_started.disconnect(note, app)


def programme(app: Flask) -> list[str]:
    """Make an event with a workshop; return the addresses the lane serves."""
    with app.app_context():
        event = make_event(capacity=50)
        room = make_room(event, "Raum 1", 30)
        workshop = make_activity(event, "Fachkräfte binden", "10:00", "11:30", room, capacity=5)
        db.session.commit()
        return ["/testtag/", f"/testtag/programm/{workshop.id}", "/testtag/programm.ics"]


def test_a_second_visit_gets_the_first_answer_without_the_app(
    app: Flask, client: FlaskClient
) -> None:
    addresses = programme(app)
    with handled_by_app(app) as seen:
        first = [client.get(address) for address in addresses]
        again = [client.get(address) for address in addresses]
    assert seen == addresses  # only the first visits reached the app
    for one, other in zip(first, again, strict=True):
        assert one.status_code == other.status_code == 200
        assert one.headers == other.headers
        assert one.get_data() == other.get_data()
        assert "Content-Security-Policy" in other.headers and "ETag" in other.headers
        assert "Set-Cookie" not in other.headers
    assert "Fachkräfte binden" in again[1].get_data(as_text=True)
    assert again[2].headers["Content-Type"].startswith("text/calendar")

    heads = [client.head(address) for address in addresses]
    for head, other in zip(heads, again, strict=True):
        assert head.status_code == 200 and head.get_data() == b""
        assert head.headers["Content-Length"] == other.headers["Content-Length"]
        assert head.headers["ETag"] == other.headers["ETag"]


def test_seats_and_edits_show_at_once_on_every_host(
    app: Flask, client: FlaskClient, database_url: str, tmp_path: Path
) -> None:
    event_page, activity_page, feed = programme(app)
    workshop_id = int(activity_page.rsplit("/", 1)[1])
    for address in (event_page, activity_page, feed):
        client.get(address)  # kept
    assert "noch 5 Plätze frei" in client.get(activity_page).get_data(as_text=True)

    with app.app_context():
        claim_seat(Activity, workshop_id)
        db.session.commit()
    assert "noch 4 Plätze frei" in client.get(activity_page).get_data(as_text=True)

    # A second host on the same database renames the workshop.
    second = another_host(database_url, tmp_path / "second")
    other = second.test_client()
    assert "Fachkräfte binden" in other.get(feed).get_data(as_text=True)  # kept there too
    with second.app_context():
        activity = db.session.get(Activity, workshop_id)
        activity.title = "Fachkräfte halten"
        activity.event.programme_changed_at = utcnow()
        db.session.commit()
    for address in (event_page, activity_page, feed):
        text = client.get(address).get_data(as_text=True)
        assert "Fachkräfte halten" in text and "Fachkräfte binden" not in text
        assert "Fachkräfte halten" in other.get(address).get_data(as_text=True)
    with second.app_context():
        db.engine.dispose()

    # An event unpublished anywhere is gone at once.
    with app.app_context():
        db.session.execute(sa.update(Event).values(published=False))
        db.session.commit()
    for address in (event_page, activity_page, feed):
        assert client.get(address).status_code == 404


def test_visitors_with_a_cookie_a_query_or_a_condition_get_the_app(
    app: Flask, client: FlaskClient
) -> None:
    event_page, activity_page, feed = programme(app)
    for address in (event_page, activity_page, feed):
        client.get(address)  # kept
    etag = client.get(event_page).headers["ETag"]
    with handled_by_app(app) as seen:
        assert client.get(event_page, headers={"If-None-Match": etag}).status_code == 304
        assert "BEGIN:VCALENDAR" in client.get(f"{feed}?lang=en").get_data(as_text=True)
        english = app.test_client()
        english.get("/sprache/en")
        assert "Programme" in english.get(event_page).get_data(as_text=True)
        assert "Programm" in client.get(event_page).get_data(as_text=True)
    assert seen == [
        event_page,
        f"{feed}?lang=en",
        "/sprache/en",
        event_page,  # with the language cookie
    ]


def test_answers_are_kept_per_host_and_never_for_a_missing_page(
    app: Flask, client: FlaskClient
) -> None:
    _event_page, _activity_page, feed = programme(app)
    here = client.get(feed, base_url="http://programm.example").get_data(as_text=True)
    there = client.get(feed, base_url="http://anderswo.example").get_data(as_text=True)
    assert "programm.example" in here and "anderswo.example" not in here
    assert "anderswo.example" in there and "programm.example" not in there
    with handled_by_app(app) as seen:
        for _ in range(2):
            assert client.get("/testtag/programm/999999").status_code == 404
            assert client.get("/keintag/").status_code == 404
    assert len(seen) == 4


def test_pages_link_the_address_they_were_asked_at(app: Flask, client: FlaskClient) -> None:
    event_page, activity_page, _feed = programme(app)
    for address in (event_page, activity_page):
        here = client.get(address, base_url="http://programm.example").get_data(as_text=True)
        there = client.get(address, base_url="http://anderswo.example").get_data(as_text=True)
        assert "webcal://programm.example/" in here and "anderswo.example" not in here
        assert "webcal://anderswo.example/" in there and "programm.example" not in there
        # A cookie sends the visit through the app's kept pages, which must tell hosts apart too.
        client.set_cookie("probe", "1", domain="anderswo.example")
        again = client.get(address, base_url="http://anderswo.example").get_data(as_text=True)
        assert "webcal://anderswo.example/" in again and "programm.example" not in again
        client.delete_cookie("probe", domain="anderswo.example")


def test_only_trusted_hosts_get_pages_and_feeds(app: Flask, client: FlaskClient) -> None:
    app.config["TRUSTED_HOSTS"] = ["programm.example", ".innovationstag.example"]
    addresses = programme(app)
    for address in addresses:
        for host in ("programm.example", "www.innovationstag.example", "programm.example:8080"):
            assert client.get(address, base_url=f"http://{host}").status_code == 200
        for _ in range(2):  # never kept for the lane either
            refused = client.get(address, base_url="http://boese.example")
            assert refused.status_code == 400
            assert "gehört nicht zu dieser Seite" in refused.get_data(as_text=True)
            assert "boese.example" not in refused.get_data(as_text=True)


def test_an_untrusted_host_gets_a_plain_refusal_on_every_kind_of_request(
    app: Flask, client: FlaskClient
) -> None:
    app.config["TRUSTED_HOSTS"] = ["programm.example"]
    app.config["WTF_CSRF_ENABLED"] = True
    programme(app)
    for method, address in (
        ("GET", "/"),
        ("GET", "/testtag/anmeldung"),
        ("POST", "/testtag/anmeldung"),
        ("GET", "/organisation/"),
        ("GET", "/api/v1/events"),
        ("GET", "/gibt-es-nicht/nirgends"),
    ):
        refused = client.open(address, method=method, base_url="http://boese.example")
        assert refused.status_code == 400, (method, address)
        assert "gehört nicht zu dieser Seite" in refused.get_data(as_text=True)
