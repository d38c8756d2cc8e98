"""Hostile input on every route: no server error, nothing stored from a refused request, and
what is stored comes out escaped in HTML, CSV, XLSX, iCal, mail and PDF.

Routes are read from the app's URL map, so a new route is covered without touching this file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from openpyxl import load_workbook
from pypdf import PdfReader
from werkzeug.routing import Rule

from eventapp.extensions import db
from eventapp.models import Activity, Network, Registration
from eventapp.request_numbers import IdConverter
from tests.conftest import login
from tests.factories import make_activity, make_event, make_organiser, make_registration, make_room
from tests.helpers.mailbox import delivered
from tests.pdf_reading import page_texts, squeeze

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
    known = {"code": "en", "layout": "a4-10", "unknown": "x", "person_id": "1", "job_id": "1",
             "import_id": "1"}  # fmt: skip
    known["campaign_id"] = "1"  # a campaign (Rundmail) that does not exist: its pages say 404
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


ACCEPTED_TEXT = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "=HYPERLINK(\"http://example.com\")",
            "+49 30 1234",
            "-1",
            "@SUM(A1)",
            "\u202eexe.txt",
            "O'Brien & Söhne",
            "Zoë Ωmega 李",
        ]
    ),
    st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1,
            max_size=60).map(str.strip).filter(bool),
)  # fmt: skip


def exports_of(client: FlaskClient, ids: dict[str, Any]) -> dict[str, Any]:
    """Fetch what an organiser and a participant get out: pages, files, feed and mail."""
    base = f"/organisation/veranstaltungen/{ids['event_id']}"
    answers = {
        "list": client.get(f"{base}/anmeldungen/"),
        "detail": client.get(f"{base}/anmeldungen/{ids['registration_id']}"),
        "manage": client.get(f"/{ids['slug']}/verwalten/{ids['token']}"),
        "csv": client.get(f"{base}/anmeldungen/export.csv"),
        "xlsx": client.get(f"{base}/anmeldungen/export.xlsx"),
        "ical": client.get(f"/{ids['slug']}/programm.ics"),
        # The desk's single badge prints through the worker; its page then opens the PDF.
        "badge": client.post(
            f"/organisation/einlass/{ids['event_id']}/schild",
            data={"layout": "a6", "registration_id": str(ids["registration_id"])},
            follow_redirects=True,
        ),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
    return answers


def mail_texts(app: Flask) -> list[str]:
    """Return subject and text of every delivered mail as the recipient reads them."""
    texts = []
    for message in delivered(app):
        body = message.get_body(("plain",))
        texts.append(str(message["Subject"]) + "\n" + (body.get_content() if body else ""))
    return texts


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=ACCEPTED_TEXT, organisation=ACCEPTED_TEXT, title=ACCEPTED_TEXT)
def test_stored_values_come_out_escaped_everywhere(
    app: Flask,
    client: FlaskClient,
    world: dict[str, Any],
    name: str,
    organisation: str,
    title: str,
) -> None:
    base = f"/organisation/veranstaltungen/{world['event_id']}"
    edited = client.post(
        f"{base}/anmeldungen/{world['registration_id']}",
        data={"first_name": "Erika", "last_name": name[:100], "organisation": organisation[:200],
              "state": "Berlin", "email": "erika.mustermann@example.org", "role": "participant",
              "language": "de", "privacy_consent": "y", "dietary_wishes": name[:1000]},
    )  # fmt: skip
    assert edited.status_code == 302, edited.get_data(as_text=True)[:3000]
    with app.app_context():
        activity = db.session.get(Activity, world["activity_id"])
        activity.title = title[:200]
        activity.revision += 1
        db.session.commit()
    answers = exports_of(client, world)
    for value in (name[:100], organisation[:200]):
        for page in ("list", "detail", "manage"):
            html = answers[page].get_data(as_text=True)
            # Markup that would act if left raw (a lone "&" or "<" occurs in any page).
            if any(marker in value for marker in ("<script", "<img", "onerror")):
                assert value not in html, page
            if page != "manage":
                assert str(escape(value)) in html, page
    rows = list(csv.reader(io.StringIO(answers["csv"].get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))  # fmt: skip
    sheet = load_workbook(io.BytesIO(answers["xlsx"].data)).active
    for cells in (rows[1], [cell.value for cell in sheet[2]]):
        for cell in cells:
            assert not (isinstance(cell, str) and cell.startswith(("=", "+", "-", "@"))), cells
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    summaries = [str(e.get("SUMMARY")) for e in icalendar.Calendar.from_ical(answers["ical"].data)
                 .walk("VEVENT")]  # fmt: skip
    assert title[:200] in summaries
    assert PdfReader(io.BytesIO(answers["badge"].data)).pages


def test_unfit_characters_already_stored_leave_every_export_working(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    """Rows from before the input check may hold noncharacters and control characters."""
    unfit = "Erika\ufffe\uffff\x0b\x1b\ufdd0"
    with app.app_context():
        registration = db.session.get(Registration, world["registration_id"])
        registration.last_name = unfit
        registration.organisation = "=1+1" + unfit
        activity = db.session.get(Activity, world["activity_id"])
        activity.title = "Workshop" + unfit
        activity.revision += 1
        db.session.commit()
        from eventapp.services.mail import registration_mail

        registration_mail.confirmation(registration, world["token"])
        db.session.commit()
    answers = exports_of(client, world)
    sheet = load_workbook(io.BytesIO(answers["xlsx"].data)).active
    assert sheet["A2"].value == "Erika"
    assert sheet["E2"].value == "'=1+1Erika"
    assert "Erika;" in answers["csv"].get_data(as_text=True)
    summaries = [str(e.get("SUMMARY")) for e in icalendar.Calendar.from_ical(answers["ical"].data)
                 .walk("VEVENT")]  # fmt: skip
    assert "WorkshopErika" in summaries
    programme = client.get(f"/{world['slug']}/programm.pdf")
    assert programme.status_code == 200
    assert any("WorkshopErika" in squeeze(text) for text in page_texts(programme.data))
    programme.close()
    texts = mail_texts(app)
    assert texts and all("\ufffe" not in t and "\x1b" not in t for t in texts)


def test_character_checks_follow_the_unicode_categories_for_every_code_point() -> None:
    import unicodedata

    from eventapp import plain_text

    for number in range(0x110000):
        character = chr(number)
        category = unicodedata.category(character)
        control = category == "Cc"
        unstorable = category == "Cs" or 0xFDD0 <= number <= 0xFDEF or (number & 0xFFFE) == 0xFFFE
        assert plain_text.control_characters(character) is control, hex(number)
        assert plain_text.control_characters(character, multiline=True) is (
            control and character not in "\t\n\r"
        ), hex(number)
        assert plain_text.unfit_characters(character) is unstorable, hex(number)
        kept = f"a{character}b"
        assert plain_text.printable(kept, multiline=False) == (
            "ab" if control or unstorable else kept
        ), hex(number)
        assert plain_text.printable(kept) == (
            "ab" if (control and character not in "\t\n\r") or unstorable else kept
        ), hex(number)
