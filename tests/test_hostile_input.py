"""Hostile input on every route: no server error, nothing stored from a refused request, and
what is stored comes out escaped in HTML, CSV, XLSX, iCal, mail and PDF.

Routes are read from the app's URL map, so a new route is covered without touching this file.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from eventapp.extensions import db
from eventapp.models import Network
from eventapp.request_numbers import IdConverter
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_registration, make_room

HOSTILE_NUMBERS = [
    "²",
    "①",
    "١٢",
    "1_0",
    " 1",
    "-1",
    "0",
    "1e3",
    "0x10",
    "NaN",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999999",
]
HOSTILE_TEXT = [
    "",
    " ",
    "x" * 5000,
    "\x00",
    "Erika\x00",
    "\x1b[31m",
    "a\tb",
    "a\r\nb",
    "\r\nX-Injected: 1",
    "\ufffe",
    "\uffff",
    "Erika\ufdd0",
    "\U0010ffff",
    "\u202eexe.txt",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("http://example.com","x")',
    "+49 30 1234",
    "@SUM(A1)",
    "{x}",
    "../../etc/passwd",
    "//example.com",
    "/\\example.com",
]
HOSTILE_VALUES = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS + HOSTILE_TEXT),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)
SHAPES = ("form", "repeated", "file", "json", "query")
QUERY_NAMES = ("page", "per_page", "lang", "next", "q", "waehlen", "kind", "state", "netzwerk",
               "angebot", "land", "rolle", "status", "pausen", "format")  # fmt: skip
# Routes that would end the test's own login or remove what the other examples need.
SKIPPED_ENDPOINTS = {"static", "auth.logout", "organiser.activity_delete", "organiser.room_delete"}


@dataclass
class Target:
    """One route with its arguments filled in, and the form fields its pages send to it."""

    endpoint: str
    url: str
    methods: list[str]
    fields: dict[str, str] = field(default_factory=dict)


class FormReader(HTMLParser):
    """Collect every form's action and its fields with the values the page fills in."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        name = values.get("name", "")
        if tag == "form":
            action = (values.get("action") or self.page_url).split("?")[0]
            self.current = self.forms.setdefault(action, {})
        elif self.current is None or not name:
            if tag == "option" and self.current is not None and self.select:
                self.current.setdefault(self.select, values.get("value", ""))
            return
        elif tag == "input":
            kind = values.get("type", "text")
            if kind in {"checkbox", "radio"}:
                self.current.setdefault(name, values.get("value", "y"))
            elif kind != "submit" or name == "action":
                self.current.setdefault(name, values.get("value", ""))
        elif tag == "select":
            self.select = name
        elif tag == "textarea":
            self.textarea = name
            self.current.setdefault(name, "")
        elif tag == "button" and name:
            self.current.setdefault(name, values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """An event with a room, a workshop, a speaker and a registration; an admin logged in."""
    with app.app_context():
        make_organiser("admin@example.org", "admin-password-1", role="admin")
        event = make_event()
        room = make_room(event, "Saal 1", 50)
        workshop = make_activity(event, "Fachkräfte binden", "10:00", "11:00", room, capacity=20)
        db.session.add(Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt"))
        registration = make_registration(event)
        db.session.commit()
        ids = {
            "slug": event.slug,
            "event_id": event.id,
            "room_id": room.id,
            "activity_id": workshop.id,
            "registration_id": registration.id,
            "token": registration.manage_token,  # type: ignore[attr-defined]
        }
    assert login(client, "admin@example.org", "admin-password-1").status_code == 200
    return ids


def argument_value(rule: Rule, name: str, ids: dict[str, Any]) -> str | None:
    """Return a valid value for a route argument, or None for routes we cannot fill."""
    known = {"code": "en", "layout": "a4-10", "unknown": "x", "person_id": "1", "job_id": "1"}
    if name == "kind":
        return "csv" if "export" in rule.rule else "programme"
    value = ids.get(name, known.get(name))
    return None if value is None else str(value)


def targets(app: Flask, client: FlaskClient, ids: dict[str, Any]) -> list[Target]:
    """Fill every route of the URL map and read the forms its pages send."""
    found: list[Target] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        values = {name: argument_value(rule, name, ids) for name in rule.arguments}
        if None in values.values():
            continue
        url = rule.build(values, append_unknown=False)[1]  # type: ignore[index]
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found.append(Target(rule.endpoint, url, methods))
    forms: dict[str, dict[str, str]] = {}
    pages = [(client, t.url) for t in found if "GET" in t.methods and not t.url.endswith(".pdf")]
    # The badge desk shows its forms for a search hit; the login form only to a visitor.
    pages += [(client, f"/organisation/einlass/{ids['event_id']}/?q=Mustermann"),
              (app.test_client(), "/organisation/anmelden")]  # fmt: skip
    for reader_client, url in pages:
        with reader_client.get(url) as page:
            if page.mimetype == "text/html":
                reader = FormReader(url)
                reader.feed(page.get_data(as_text=True))
                for action, fields in reader.forms.items():
                    forms.setdefault(action, {}).update(fields)
    for target in found:
        target.fields = {k: v for k, v in forms.get(target.url, {}).items() if k != "csrf_token"}
    assert sum(1 for t in found if t.fields) >= 10, "the pages' forms were not found"
    return found


def row_counts() -> dict[str, int]:
    """Count the rows of every table."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def send(client: FlaskClient, target: Target, shape: str, hostile: dict[str, Any]) -> Any:
    """Send the target's fields with the hostile values in the given shape."""
    data: dict[str, Any] = dict(target.fields) | hostile
    if shape == "query" or target.methods == ["GET"]:
        return client.get(target.url, query_string=data)
    if shape == "repeated":
        return client.post(target.url, data={k: [v, v + "x"] for k, v in data.items()})
    if shape == "file":
        name = next(iter(hostile))
        files = {name: (io.BytesIO(hostile[name].encode("utf-8", "replace")), "name.txt")}
        return client.post(target.url, data=dict(target.fields) | files)
    if shape == "json":
        body = {k: [v, [v], {"x": v}] for k, v in data.items()}
        return client.post(target.url, data=json.dumps(body), content_type="application/json")
    return client.post(target.url, data=data)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_values_on_every_route_give_no_server_error(
    app: Flask, client: FlaskClient, world: dict[str, Any], data: st.DataObject
) -> None:
    all_targets = _targets(app, client, world)
    target = data.draw(st.sampled_from(all_targets), label="route")
    shape = data.draw(st.sampled_from(SHAPES), label="shape")
    names = sorted(target.fields) or list(QUERY_NAMES)
    if shape == "query":
        names = list(QUERY_NAMES)
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    hostile = {name: data.draw(HOSTILE_VALUES, label=name) for name in chosen}
    with app.app_context():
        before = row_counts()
    with send(client, target, shape, hostile) as response:
        assert response.status_code < 500, (target.url, shape, hostile)
    if response.status_code >= 400 and target.methods != ["GET"] and shape != "query":
        with app.app_context():
            assert row_counts() == before, (target.url, shape, hostile)


_TARGETS: dict[int, list[Target]] = {}


def _targets(app: Flask, client: FlaskClient, ids: dict[str, Any]) -> list[Target]:
    """Read the routes once per app (hypothesis runs many examples on one test's fixtures)."""
    if id(app) not in _TARGETS:
        _TARGETS.clear()
        _TARGETS[id(app)] = targets(app, client, ids)
    return _TARGETS[id(app)]


def test_every_id_in_a_route_takes_plain_digits_only(app: Flask) -> None:
    """No route uses Flask's int converter, which takes numbers past the database's range."""
    loose = [
        rule.rule
        for rule in app.url_map.iter_rules()
        for converter in (rule._converters or {}).values()
        if type(converter).__name__ == "IntegerConverter"
    ]
    assert loose == []
    assert any(isinstance(c, IdConverter) for r in app.url_map.iter_rules()
               for c in r._converters.values())  # fmt: skip


@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
def test_hostile_ids_in_a_path_are_not_found(
    app: Flask, client: FlaskClient, world: dict[str, Any], number: str
) -> None:
    for rule in app.url_map.iter_rules():
        id_arguments = [n for n, c in rule._converters.items() if isinstance(c, IdConverter)]
        for name in id_arguments:
            values = {n: argument_value(rule, n, world) for n in rule.arguments}
            url = _replace_id(rule, values, name, number)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                with client.open(url, method=method) as response:
                    assert response.status_code == 404, (url, method)


def _replace_id(rule: Rule, values: dict[str, Any], name: str, number: str) -> str:
    """Build the rule's URL with one id replaced by a hostile number."""
    marker = 987654321
    url = rule.build(values | {name: marker}, append_unknown=False)[1]  # type: ignore[index]
    return url.replace(str(marker), number.replace(" ", "%20"), 1)


@pytest.mark.parametrize("value", ["Erika\x00\ufffe", "²", "9223372036854775808"])
def test_each_route_survives_a_hostile_value_in_every_field(
    app: Flask, client: FlaskClient, world: dict[str, Any], value: str
) -> None:
    """A sweep beside the random examples: every route, every body shape, the value everywhere."""
    for target in _targets(app, client, world):
        shapes = ["query"] if target.methods == ["GET"] else ["query", "form", "file", "json"]
        for shape in shapes:
            names = list(QUERY_NAMES) if shape == "query" else sorted(target.fields) or ["x"]
            with app.app_context():
                before = row_counts()
            with send(client, target, shape, dict.fromkeys(names, value)) as response:
                assert response.status_code < 500, (target.url, shape)
                refused = response.status_code >= 400 and shape != "query"
            if refused:
                with app.app_context():
                    assert row_counts() == before, (target.url, shape)
