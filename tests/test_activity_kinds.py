"""Activity kinds: every page, feed, export and schema reads a kind's meaning from ActivityKind."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Activity, ActivityKind
from eventapp.openapi import openapi_document
from eventapp.services.calendar.frab import schedule_data
from eventapp.services.calendar.ical import personal_activities
from tests.factories import make_activity, make_event, make_registration, make_room

ROOT = Path(__file__).resolve().parent.parent


def one_of_each_kind() -> dict[ActivityKind, Activity]:
    """Create a published event with one activity of every kind, an hour apart."""
    event = make_event("alle-arten")
    room = make_room(event, "Saal", 50)
    return {
        kind: make_activity(
            event, f"Punkt {kind.value}", f"{8 + i:02d}:00", f"{8 + i:02d}:30", room, kind
        )
        for i, kind in enumerate(ActivityKind)
    }


def test_every_kind_is_stored_and_read_back(ctx: Flask) -> None:
    activities = one_of_each_kind()
    db.session.expire_all()
    stored = {db.session.get(Activity, a.id).kind for a in activities.values()}  # type: ignore[union-attr]
    assert stored == set(ActivityKind)


def test_kind_traits_are_complete(ctx: Flask) -> None:
    for kind in ActivityKind:
        assert str(kind.label)
        assert re.fullmatch(r"#[0-9a-f]{6}", kind.colour)
        assert re.fullmatch(r"#[0-9a-f]{6}", kind.tint)
        assert kind.frab_type
    assert ActivityKind.shared_kinds() == [k for k in ActivityKind if k.shared_by_all]


def test_frab_export_types_come_from_the_kind(ctx: Flask) -> None:
    activities = one_of_each_kind()
    event = next(iter(activities.values())).event
    data = schedule_data(event)
    rooms = data["days"][0]["rooms"]
    types = {item["title"]: item["type"] for items in rooms.values() for item in items}
    assert types == {a.title: kind.frab_type for kind, a in activities.items()}


def test_openapi_kind_enums_list_every_kind(app: Flask) -> None:
    with app.test_request_context():
        document = openapi_document("http://127.0.0.1:5000")
    enums = re.findall(r"'enum': \[([^\]]*)\]", str(document))
    kind_enums = [e for e in enums if "'workshop'" in e]
    assert kind_enums
    for enum in kind_enums:
        assert [v.strip(" '") for v in enum.split(",")] == [k.value for k in ActivityKind]


def test_personal_calendar_takes_the_kinds_shared_by_all(ctx: Flask) -> None:
    activities = one_of_each_kind()
    for activity in activities.values():
        activity.requires_enrolment = False
    event = next(iter(activities.values())).event
    registration = make_registration(event)
    kinds = {a.kind for a in personal_activities(registration)}
    assert kinds == set(ActivityKind.shared_kinds())


def test_activity_form_and_pages_use_the_kind_labels(staff_client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        activities = one_of_each_kind()
        event_id = next(iter(activities.values())).event_id
        db.session.commit()
    page = staff_client.get(f"/organisation/veranstaltungen/{event_id}/programm/neu")
    options = re.findall(r'<option[^>]*value="([a-z_]+)"[^>]*>([^<]*)</option>', page.text)
    kind_options = [(value, label) for value, label in options if value in set(ActivityKind)]
    with app.test_request_context():
        assert kind_options == [(k.value, str(k.label)) for k in ActivityKind]
    programme = staff_client.get("/alle-arten/").text
    for kind in ActivityKind:
        assert f"kind-{kind.value}" in programme


def test_kind_stylesheet_gives_every_kind_its_colours(client: FlaskClient) -> None:
    response = client.get("/css/activity-kinds.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.cache_control.max_age and response.headers["ETag"]
    for kind in ActivityKind:
        rule = re.search(rf"\.kind-{kind.value} \{{([^}}]*)\}}", response.text)
        assert rule is not None, kind
        assert f"--kind-colour: {kind.colour}" in rule.group(1)
        assert f"--kind-tint: {kind.tint}" in rule.group(1)
    again = client.get(
        "/css/activity-kinds.css", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_no_other_file_lists_the_kinds() -> None:
    """A kind's value appears only where ActivityKind defines it (and the frozen migration)."""
    values = [k.value for k in ActivityKind if "_" in k.value] + ["kind-workshop", "kind-break"]
    allowed = {ROOT / "eventapp" / "models.py"}
    sources = [
        *ROOT.joinpath("eventapp").rglob("*.py"),
        *ROOT.joinpath("templates").rglob("*.html"),
        *ROOT.joinpath("static", "css").rglob("*.css"),
    ]
    offenders = [
        (path.relative_to(ROOT), value)
        for path in sources
        if path not in allowed and "migrations" not in path.parts
        for value in values
        if value in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
