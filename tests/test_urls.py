"""Public addresses: a request's own host in pages, feeds and the API; PUBLIC_BASE_URL in mails."""

from __future__ import annotations

import html
import json
import re
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp import urls
from eventapp.extensions import db
from eventapp.models import ActivityKind, Event, Network
from eventapp.services.calendar import ical
from tests.factories import make_activity, make_event, make_room
from tests.helpers.mailbox import delivered
from tests.helpers.participants import form_data

ABSOLUTE = re.compile(r"""(?:https?|webcal)://[^\s"'<>\\]+""")
LOOPBACK = {"127.0.0.1", "localhost"}


def build_event() -> dict[str, int]:
    """Create a published event with a plenary, a workshop, a break and a network."""
    event = make_event()
    hall = make_room(event, "Großer Saal", 200)
    make_activity(event, "Eröffnung", "09:00", "10:00", hall, ActivityKind.PLENARY)
    workshop = make_activity(event, "Fachkräfte binden", "10:30", "12:00", hall, capacity=20)
    make_activity(event, "Mittagspause", "12:00", "13:00", None, ActivityKind.BREAK)
    db.session.add(Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt"))
    db.session.commit()
    return {"workshop": workshop.id}


def links_in(body: str) -> set[str]:
    """Return every absolute address written in a page, feed, export, mail or JSON answer."""
    text = html.unescape(body.replace("\r\n ", "").replace("\\/", "/"))
    return {match.rstrip(".,;)") for match in ABSOLUTE.findall(text)}


def registration_form(workshop_id: int) -> dict[str, Any]:
    return form_data(**{f"slot-{workshop_id}": str(workshop_id)})


def mail_texts(message: EmailMessage) -> list[str]:
    """Return the text body and every attachment (the personal calendar) as text."""
    body = message.get_body(("plain",))
    assert body is not None
    return [str(body.get_content())] + [
        part.get_payload(decode=True).decode("utf-8") for part in message.iter_attachments()
    ]


# --- Inside a request: the host the visitor used ---


def test_links_carry_the_host_the_request_came_to(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        ids = build_event()
    site = "https://programm.example.org:8443"
    found: set[str] = set()
    for path in (
        "/testtag/",
        f"/testtag/programm/{ids['workshop']}",
        "/testtag/programm.ics",
        "/testtag/schedule.xml",
        "/testtag/schedule.json",
        "/api/v1",
        "/api/v1/openapi.json",
        "/api/v1/events/testtag",
        "/api/v1/events/testtag/activities?per_page=1",
    ):
        response = client.get(path, base_url=site)
        assert response.status_code == 200, path
        found |= links_in(response.get_data(as_text=True))
    ours = {link for link in found if "example.org:8443" in link}
    assert f"{site}/testtag/programm.ics" in ours
    assert "webcal://programm.example.org:8443/testtag/programm.ics" in ours
    assert f"{site}/testtag/programm/{ids['workshop']}.ics" in ours
    assert f"{site}/testtag/schedule.xml" in ours
    assert f"{site}/api/v1/events/testtag/activities" in ours
    assert f"{site}/api/v1" in ours  # the OpenAPI document's server
    assert not [link for link in found if urlsplit(link).hostname in LOOPBACK]


def test_api_page_links_keep_filters_and_ignore_url_for_options(
    client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        for n in range(3):
            db.session.add(Network(name=f"Netzwerk {n}", state="Sachsen"))
        db.session.commit()
    response = client.get("/api/v1/networks?state=Sachsen&per_page=1&_external=0&_anchor=x")
    assert response.status_code == 200
    links = response.get_json()["links"]
    assert links["next"] == "http://localhost/api/v1/networks?state=Sachsen&page=2&per_page=1"
    assert links["last"] == "http://localhost/api/v1/networks?state=Sachsen&page=3&per_page=1"


# --- Outside a request and in mails: PUBLIC_BASE_URL ---


def test_links_outside_a_request_start_with_public_base_url(ctx: Flask) -> None:
    ctx.config["PUBLIC_BASE_URL"] = "https://example.org/innovationstag/"
    build_event()
    event = db.session.scalars(sa.select(Event)).one()
    assert urls.site_url() == "https://example.org/innovationstag/"
    assert urls.event_url(event) == "https://example.org/innovationstag/testtag/"
    assert (
        urls.programme_feed_url(event, include_breaks=False)
        == "https://example.org/innovationstag/testtag/programm.ics?pausen=0"
    )
    feed = ical.programme_ics(event).decode()
    assert "URL:https://example.org/innovationstag/testtag/programm/" in feed


def test_links_outside_a_request_follow_a_changed_public_base_url(ctx: Flask) -> None:
    build_event()
    event = db.session.scalars(sa.select(Event)).one()
    for base in (
        "https://a.example.org/tag",
        "http://b.example.org:8080",
        "https://a.example.org/tag",
    ):
        ctx.config["PUBLIC_BASE_URL"] = base
        assert urls.event_url(event) == f"{base}/testtag/"
        assert urls.manage_url(event, "abc") == f"{base}/testtag/verwalten/abc"


def test_mail_links_use_public_base_url_even_when_the_request_came_elsewhere(
    client: FlaskClient, app: Flask
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://anmeldung.example.org"
    with app.app_context():
        ids = build_event()
    response = client.post(
        "/testtag/anmeldung", data=registration_form(ids["workshop"]), base_url="http://intern:8080"
    )
    assert response.status_code == 302
    (message,) = delivered(app)
    links = set().union(*(links_in(text) for text in mail_texts(message)))  # type: ignore[arg-type]
    assert any(
        link.startswith("https://anmeldung.example.org/testtag/verwalten/") for link in links
    )
    assert f"https://anmeldung.example.org/testtag/programm/{ids['workshop']}" in links
    assert not [link for link in links if "intern" in link]


def test_webcal_address_is_the_feed_address_with_another_scheme() -> None:
    assert (
        urls.webcal_url("https://example.org/t/programm.ics")
        == "webcal://example.org/t/programm.ics"
    )
    assert urls.webcal_url("http://127.0.0.1:8080/t/k.ics") == "webcal://127.0.0.1:8080/t/k.ics"


# --- A real server on a port of its own: every link answers from there ---


def wait_for_mail(folder: Path, timeout: float = 15.0) -> EmailMessage:
    """Wait for the one .eml file the mail backend writes and return it parsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        written = sorted(folder.glob("*.eml"))
        if written:
            return message_from_bytes(written[0].read_bytes(), policy=default)  # type: ignore[return-value]
        time.sleep(0.1)
    raise AssertionError(f"no mail written to {folder}")


def crawl(origin: str, seeds: set[str], limit: int = 400) -> tuple[dict[str, int], set[str]]:
    """Fetch every absolute address on this server reachable from the seeds, once each.

    Returns the status of each fetched address and every absolute address met on the way;
    webcal:// addresses are fetched over the server's own scheme.
    """
    host = urlsplit(origin).netloc
    queue, met = sorted(seeds), set(seeds)
    statuses: dict[str, int] = {}
    while queue:
        link = queue.pop(0)
        assert len(statuses) < limit, "more links than a small programme has"
        response = requests.get(
            re.sub(r"^webcal://", "http://", link), allow_redirects=False, timeout=10
        )
        statuses[link] = response.status_code
        for found in sorted(links_in(response.text) - met):
            met.add(found)
            if urlsplit(found).netloc == host:
                queue.append(found)
    return statuses, met


def test_every_link_answers_from_the_port_the_server_runs_on(app: Flask, live_server: Any) -> None:
    origin = live_server.url
    assert not origin.endswith(":5000")
    app.config["PUBLIC_BASE_URL"] = origin  # as `make run PORT=…` sets it
    with app.app_context():
        ids = build_event()
    session = requests.Session()
    posted = session.post(
        f"{origin}/testtag/anmeldung", data=registration_form(ids["workshop"]), timeout=10
    )
    assert posted.status_code == 200 and "Ihre Anmeldung ist eingegangen" in posted.text
    message = wait_for_mail(Path(app.config["MAIL_FILE_DIR"]))

    from_page = links_in(requests.get(f"{origin}/testtag/", timeout=10).text)
    from_mail = set().union(*(links_in(text) for text in mail_texts(message)))
    api = requests.get(f"{origin}/api/v1/openapi.json", timeout=10).json()
    from_api = {server["url"] for server in api["servers"]}
    from_api |= links_in(json.dumps(requests.get(f"{origin}/api/v1/events", timeout=10).json()))

    everything = from_page | from_mail | from_api
    assert not [link for link in everything if ":5000" in link]
    ours = {link for link in everything if urlsplit(link).hostname in LOOPBACK}
    assert ours == {link for link in ours if urlsplit(link).netloc == urlsplit(origin).netloc}
    assert f"{origin}/api/v1" in from_api
    assert any(link.startswith(f"{origin}/testtag/verwalten/") for link in from_mail)
    assert any(link.startswith("webcal://") for link in from_page)
    assert f"{origin}/testtag/schedule.json" in from_page

    answered, met = crawl(origin, ours)
    assert {link: status for link, status in answered.items() if status != 200} == {}
    # The crawl reached the personal calendar from the manage page and every activity's page.
    assert any("/kalender/" in link for link in answered)
    assert f"{origin}/testtag/programm/{ids['workshop']}" in answered
    assert not [link for link in met if ":5000" in link]
    loopback = {link for link in met if urlsplit(link).hostname in LOOPBACK}
    assert {urlsplit(link).netloc for link in loopback} == {urlsplit(origin).netloc}
