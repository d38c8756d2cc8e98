"""The read-only JSON API: every answer matches the OpenAPI document, no personal data leaks."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_openapi

from eventapp.extensions import db
from eventapp.models import ActivityKind, ActivityPerson, Network, Person, PersonRole
from eventapp.openapi import openapi_document
from tests.factories import make_activity, make_event, make_registration, make_room

DOCUMENT = openapi_document("http://localhost/api/v1")


def check(response: Any, path: str, status: int) -> Any:
    """Assert the status and validate the JSON body against the documented response schema."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    operation = DOCUMENT["paths"][path]["get"]
    documented = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": DOCUMENT["components"],
        **documented,
    }
    cls = jsonschema.Draft202012Validator
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(response.get_json())
    return response.get_json()


def build() -> dict[str, Any]:
    """Create a published event with rooms, activities, a registration and networks."""
    event = make_event("innovationstag-2026", title="Innovationstag 2026", capacity=400)
    hall = make_room(event, "Großer Saal", 300)
    room = make_room(event, "Raum 2", 20, notes="2. OG, barrierefrei")
    opening = make_activity(event, "Eröffnung", "09:00", "10:00", hall, ActivityKind.PLENARY)
    speaker = Person(name="Beate Beispiel", title="Dr.", email="beate@example.org")
    db.session.add(ActivityPerson(activity=opening, person=speaker, role=PersonRole.SPEAKER))
    workshops = [
        make_activity(event, f"Workshop {n}", "10:30", "12:00", room, capacity=20, seats_taken=n)
        for n in range(5)
    ]
    make_activity(event, "Pause", "12:00", "13:00", None, ActivityKind.BREAK)
    make_activity(event, "Geheim", "14:00", "15:00", room, published=False)
    make_event("entwurf", published=False)
    make_registration(event, "Petra", "Privat", email="petra.privat@example.org")
    for n, state in enumerate(["Sachsen", "Bayern", "Sachsen", "Berlin", "Sachsen"]):
        db.session.add(Network(name=f"Netzwerk {n}", region=f"Region {n}", state=state))
    db.session.commit()
    return {"event": event, "opening": opening, "workshops": workshops}


def test_event_list_and_detail_match_document(client: FlaskClient, ctx: Flask) -> None:
    build()
    listed = check(client.get("/api/v1/events"), "/events", 200)
    assert [e["slug"] for e in listed["items"]] == ["innovationstag-2026"]
    detail = check(client.get("/api/v1/events/innovationstag-2026"), "/events/{slug}", 200)
    assert detail["starts_on"] == "2026-06-10"
    assert detail["seats_left"] == 400
    assert detail["links"]["ical"] == "http://localhost/innovationstag-2026/programm.ics"


def test_rooms_match_document(client: FlaskClient, ctx: Flask) -> None:
    build()
    rooms = check(
        client.get("/api/v1/events/innovationstag-2026/rooms"), "/events/{slug}/rooms", 200
    )
    assert [r["name"] for r in rooms["items"]] == ["Großer Saal", "Raum 2"]


def test_activities_are_paginated_with_links(client: FlaskClient, ctx: Flask) -> None:
    build()
    path = "/events/{slug}/activities"
    first = check(client.get("/api/v1/events/innovationstag-2026/activities?per_page=3"), path, 200)
    assert first["total"] == 7 and first["pages"] == 3
    assert [a["title"] for a in first["items"]] == ["Eröffnung", "Workshop 0", "Workshop 1"]
    assert first["links"]["prev"] is None
    assert "page=2" in first["links"]["next"]
    seen = [a["id"] for a in first["items"]]
    url = first["links"]["next"]
    while url:
        page = check(client.get(url.removeprefix("http://localhost")), path, 200)
        seen += [a["id"] for a in page["items"]]
        url = page["links"]["next"]
    assert len(seen) == len(set(seen)) == 7


def test_activity_times_have_offsets_and_seats_left(client: FlaskClient, ctx: Flask) -> None:
    data = build()
    path = "/events/{slug}/activities/{activity_id}"
    workshop = data["workshops"][3]
    body = check(
        client.get(f"/api/v1/events/innovationstag-2026/activities/{workshop.id}"), path, 200
    )
    assert body["starts_at"] == "2026-06-10T10:30:00+02:00"
    assert body["seats_left"] == 17
    assert body["uid"] == workshop.uid
    opening = check(
        client.get(f"/api/v1/events/innovationstag-2026/activities/{data['opening'].id}"), path, 200
    )
    assert opening["speakers"] == [{"name": "Beate Beispiel", "title": "Dr.", "organisation": ""}]


def test_activities_filter_by_kind(client: FlaskClient, ctx: Flask) -> None:
    build()
    body = check(
        client.get("/api/v1/events/innovationstag-2026/activities?kind=break"),
        "/events/{slug}/activities",
        200,
    )
    assert [a["title"] for a in body["items"]] == ["Pause"]


def test_networks_filter_by_state(client: FlaskClient, ctx: Flask) -> None:
    build()
    body = check(client.get("/api/v1/networks?state=Sachsen&per_page=2"), "/networks", 200)
    assert body["total"] == 3
    assert {n["state"] for n in body["items"]} == {"Sachsen"}
    assert "state=Sachsen" in body["links"]["next"]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/api/v1/events/entwurf", "/events/{slug}"),
        ("/api/v1/events/gibtsnicht/rooms", "/events/{slug}/rooms"),
        ("/api/v1/events/gibtsnicht/activities", "/events/{slug}/activities"),
        (
            "/api/v1/events/innovationstag-2026/activities/999999",
            "/events/{slug}/activities/{activity_id}",
        ),
    ],
)
def test_unknown_things_answer_json_404(
    client: FlaskClient, ctx: Flask, url: str, path: str
) -> None:
    build()
    body = check(client.get(url), path, 404)
    assert body["error"]["status"] == 404


def test_unpublished_activity_answers_404(client: FlaskClient, ctx: Flask) -> None:
    build()
    hidden = next(a for a in build_activities() if a.title == "Geheim")
    response = client.get(f"/api/v1/events/innovationstag-2026/activities/{hidden.id}")
    check(response, "/events/{slug}/activities/{activity_id}", 404)


def build_activities() -> list[Any]:
    """Return all activities in the database."""
    import sqlalchemy as sa

    from eventapp.models import Activity

    return list(db.session.scalars(sa.select(Activity)))


@pytest.mark.parametrize("query", ["page=0", "per_page=1000", "page=x", "kind=party"])
def test_bad_paging_answers_json_400(client: FlaskClient, ctx: Flask, query: str) -> None:
    build()
    response = client.get(f"/api/v1/events/innovationstag-2026/activities?{query}")
    check(response, "/events/{slug}/activities", 400)


def test_unknown_api_path_answers_json_404(client: FlaskClient, ctx: Flask) -> None:
    response = client.get("/api/v1/nichts/hier")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_api_never_shows_personal_data(client: FlaskClient, ctx: Flask) -> None:
    build()
    text = ""
    for url in (
        "/api/v1/events",
        "/api/v1/events/innovationstag-2026",
        "/api/v1/events/innovationstag-2026/activities?per_page=200",
        "/api/v1/networks",
    ):
        text += client.get(url).get_data(as_text=True)
    for secret in ("Petra", "petra.privat", "beate@example.org", "@example.org"):
        assert secret not in text


def test_openapi_document_is_served_and_covers_every_route(client: FlaskClient, app: Flask) -> None:
    served = client.get("/api/v1/openapi.json").get_json()
    assert served["openapi"].startswith("3.")
    assert served["paths"] == DOCUMENT["paths"]
    routes = set()
    for rule in app.url_map.iter_rules():
        # The documentation page is HTML for people, not a path of the API.
        if (
            rule.endpoint.startswith("api.")
            and "<path:" not in rule.rule
            and rule.endpoint != "api.docs"
        ):
            routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")))
    # "" is the API's own address, named as the document's server rather than as a path.
    assert routes - {""} == set(served["paths"])
    assert served["servers"] == [{"url": "http://localhost/api/v1"}]


def test_api_address_answers_with_its_collections(client: FlaskClient) -> None:
    body = client.get("/api/v1").get_json()
    assert body["links"] == {
        "events": "http://localhost/api/v1/events",
        "networks": "http://localhost/api/v1/networks",
        "openapi": "http://localhost/api/v1/openapi.json",
    }


def test_openapi_document_is_valid_openapi_31() -> None:
    validate_openapi(DOCUMENT)
    for schema in DOCUMENT["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_openapi_document_links_its_documentation_page(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(served)
    assert served["externalDocs"]["url"] == "http://localhost/api/v1/docs"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "/static/vendor/redoc/redoc.standalone.js" in page.text
    assert 'data-spec-url="/api/v1/openapi.json"' in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_wrong_method_and_unknown_path_answer_json(client: FlaskClient) -> None:
    wrong_method = client.post("/api/v1/events")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["status"] == 405
    unknown = client.get("/api/v1/gibt-es-nicht")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["status"] == 404


def test_wrong_method_names_the_allowed_ones(client: FlaskClient) -> None:
    wrong_method = client.post("/api/v1/events")
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_answers_carry_an_etag_and_repeat_as_304(client: FlaskClient, ctx: Flask) -> None:
    build()
    first = client.get("/api/v1/events/innovationstag-2026/activities")
    etag = first.headers["ETag"]
    again = client.get(
        "/api/v1/events/innovationstag-2026/activities", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = client.get("/api/v1/events/innovationstag-2026/activities?page=2&per_page=1")
    assert other.headers["ETag"] != etag
    changed = client.get("/api/v1/networks", headers={"If-None-Match": etag})
    assert changed.status_code == 200
