"""The benchmark's browser fills eventapp's and the floor's forms by their labels, CSRF on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import MultiDict

from bench import floor_app
from bench.beside_floor import WORKSHOP, person
from bench.web_client import FormError, fill_form, read_form
from eventapp.extensions import db
from eventapp.models import Enrolment, EnrolmentStatus, Registration
from tests.factories import make_activity, make_event


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Check CSRF tokens, as the benchmark's servers do."""
    return {"WTF_CSRF_ENABLED": True}


def test_fill_form_registers_through_eventapp_form_with_csrf(app: Flask) -> None:
    with app.app_context():
        event = make_event()
        make_activity(event, title=WORKSHOP, capacity=1, requires_enrolment=True)
        make_activity(event, title="Anderer Workshop", start="12:00", end="13:00", capacity=5)
        db.session.commit()
    client = app.test_client()
    for index in range(2):
        client = app.test_client()
        form = client.get("/testtag/anmeldung")
        sent = fill_form(form.get_data(as_text=True), person(index) | {WORKSHOP: "x"})
        assert "csrf_token" in dict(sent)
        answer = client.post("/testtag/anmeldung", data=MultiDict(sent), follow_redirects=True)
        assert answer.status_code == 200
        assert answer.request.path == "/testtag/anmeldung/bestaetigt"
    with app.app_context():
        registrations = db.session.scalars(sa.select(Registration)).all()
        assert {r.email for r in registrations} == {
            "teilnehmer00000@example.org",
            "teilnehmer00001@example.org",
        }
        statuses = db.session.scalars(
            sa.select(Enrolment.status).order_by(Enrolment.queued_at, Enrolment.id)
        ).all()
        assert statuses == [EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]


def test_fill_form_refuses_a_label_the_page_lacks(app: Flask) -> None:
    with app.app_context():
        make_event()
        db.session.commit()
    form = app.test_client().get("/testtag/anmeldung")
    with pytest.raises(FormError):
        fill_form(form.get_data(as_text=True), {"Lieblingsfarbe": "Blau"})


def test_floor_app_stores_a_registration_and_confirms_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = f"sqlite:///{tmp_path / 'floor.sqlite3'}"
    monkeypatch.setenv("FLOOR_DATABASE_URL", database_url)
    client = floor_app.create_app().test_client()
    form = client.get("/anmeldung")
    sent = fill_form(form.get_data(as_text=True), person(7))
    assert len([name for name, _ in sent if name != "csrf_token"]) == 12
    answer = client.post("/anmeldung", data=MultiDict(sent), follow_redirects=True)
    assert answer.status_code == 200
    assert "Vorname7 Nachname00007" in answer.get_data(as_text=True)
    assert floor_app.count_rows(database_url) == 1
    # Without the CSRF token nothing is stored.
    forged = MultiDict([(k, v) for k, v in sent if k != "csrf_token"])
    assert client.post("/anmeldung", data=forged).status_code == 400
    assert floor_app.count_rows(database_url) == 1


def test_the_browser_reads_a_form_as_browsers_do() -> None:
    page = read_form(
        """<!doctype html><html><body>
        <form method="get" action="/suche"><input name="q" value="x"></form>
        <label for="note">Ihre <b>Nachricht</b>:</label>
        <form method="POST" action="/senden">
          <input type="hidden" name="csrf_token" value="t">
          <textarea id="note" name="note">
Zeile</textarea>
          <textarea name="empty">
</textarea>
          <select name="size"><option>  Groß  </option>
            <option value="s" selected>Klein</option></select>
          <input type="checkbox" name="ok" checked>
          <input type="submit" value="Senden">
          <input value="ohne Namen">
        </form></body></html>"""
    )
    assert page.action == "/senden"
    assert page.labels == {"note": "Ihre Nachricht:"}
    values = {control.name: control.value for control in page.controls}
    # The line break right after <textarea> is not part of the value (HTML's parsing rules).
    assert values == {"csrf_token": "t", "note": "Zeile", "empty": "", "size": "", "ok": "on"}
    size = next(control for control in page.controls if control.name == "size")
    assert size.options == [("Groß", "Groß", False), ("s", "Klein", True)]
    assert [c.checked for c in page.controls if c.name == "ok"] == [True]
    assert fill_form("<form method=post><textarea name=t>\nx</textarea></form>", {}) == [("t", "x")]
