"""Security headers on every response, and pages that keep to the Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import ActivityKind
from eventapp.services.programme.scheduling import MINUTES_PER_ROW
from tests.factories import (
    make_activity,
    make_event,
    make_organiser,
    make_registration,
    make_room,
)

ROOT = Path(__file__).resolve().parent.parent


def directives(response: Any) -> dict[str, str]:
    """Split the response's Content-Security-Policy into {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    parts = (part.strip().split(" ", 1) for part in policy.split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def public_event(app: Flask) -> str:
    """Create a published event with rooms, a workshop, a break and a registration."""
    with app.app_context():
        event = make_event()
        hall = make_room(event, "Saal 1", 100, position=0)
        small = make_room(event, "Konferenzraum 2", 20, position=1)
        make_activity(event, "Eröffnung", "09:00", "10:00", hall, kind=ActivityKind.PLENARY)
        make_activity(event, "Fachkräfte aus dem Ausland", "10:00", "11:30", small, capacity=20)
        make_activity(event, "Ausbildung 4.0", "10:00", "11:00", small, capacity=20)
        make_activity(event, "Mittagspause", "12:00", "13:00", kind=ActivityKind.BREAK)
        registration = make_registration(event)
        db.session.commit()
        return f"/{event.slug}/verwalten/{registration.manage_token}"


@pytest.mark.parametrize("path", ["/", "/static/css/app.css", "/api/v1/events", "/gibt-es-nicht/"])
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    response.close()
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].startswith("'self'")
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_manage_pages_keep_no_referrer(client: FlaskClient, app: Flask) -> None:
    manage = public_event(app)
    response = client.get(manage)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_hsts_is_sent_when_cookies_are_https_only(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_script_nonce_appears_only_when_a_page_uses_it(app: Flask) -> None:
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string('<script nonce="{{ csp_nonce() }}"></script>')
        response = app.make_response(html)
        response = app.process_response(response)
    nonce = re.search(r'nonce="([^"]+)"', html)
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in directives(response)["script-src"]
    with app.test_request_context("/"):
        plain = app.process_response(app.make_response("<p>no script</p>"))
    assert directives(plain)["script-src"] == "'self'"


# The API documentation runs Redoc, which writes inline styles anyway; its page has its own
# policy allowing them (and still no inline scripts).
OWN_POLICY = {Path("api/docs.html")}


def served_templates() -> list[Path]:
    """Every template a browser can receive (documents/ is print HTML for WeasyPrint only)."""
    folder = ROOT / "templates"
    return [
        p
        for p in folder.rglob("*.html")
        if "documents" not in p.relative_to(folder).parts
        and p.relative_to(folder) not in OWN_POLICY
    ]


def test_api_documentation_keeps_its_own_policy_without_inline_scripts(
    client: FlaskClient,
) -> None:
    response = client.get("/api/v1/docs")
    policy = directives(response)
    assert policy["script-src"] == "'self'"
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = (ROOT / "templates" / "api" / "docs.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)|\son[a-z]+=", text)


def test_served_templates_have_no_inline_styles_or_scripts() -> None:
    offenders = []
    for path in served_templates():
        text = path.read_text(encoding="utf-8")
        if re.search(r"\sstyle=|<style|<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)|\son[a-z]+=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_print_documents_are_never_rendered_by_a_view() -> None:
    views = (ROOT / "eventapp" / "views").rglob("*.py")
    assert not [p.name for p in views if "documents/" in p.read_text(encoding="utf-8")]


def test_grid_place_classes_cover_a_whole_day() -> None:
    css = (ROOT / "static" / "css" / "grid-places.css").read_text(encoding="utf-8")
    rows = 24 * 60 // MINUTES_PER_ROW
    for name in ("at-row", "span-rows"):
        numbers = {int(n) for n in re.findall(rf"\.{name}-(\d+) ", css)}
        assert set(range(1, rows + 1)) <= numbers
    assert {int(n) for n in re.findall(r"\.rooms-(\d+) ", css)} >= set(range(1, 31))


@pytest.mark.browser
def test_pages_report_no_policy_violation(page: Any, app: Flask) -> None:
    manage = public_event(app)
    with app.app_context():
        make_organiser("admin@example.org", "admin-password-1", role="admin")
        db.session.commit()
        from eventapp.models import Event

        event_id = db.session.scalars(db.select(Event.id)).one()
    reports: list[str] = []
    page.on(
        "console",
        lambda message: (
            reports.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e => "
        "window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    def visit(path: str) -> None:
        page.goto(path)
        page.wait_for_load_state("load")
        found = page.evaluate("window.__violations")
        assert found == [], (path, found)

    for path in ("/", "/testtag/", "/testtag/anmeldung", "/testtag/link-anfordern", manage):
        visit(path)
    page.goto("/testtag/")
    page.get_by_role("link", name="Ausbildung 4.0").first.click()
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == []
    visit("/organisation/anmelden")
    page.fill("#email", "admin@example.org")
    page.fill("#password", "admin-password-1")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    base = f"/organisation/veranstaltungen/{event_id}"
    for path in (
        "/organisation/",
        f"{base}/",
        f"{base}/zeitplan",
        f"{base}/anmeldungen/",
        f"{base}/anmeldungen/angebote",
        f"{base}/druck/",
        f"/organisation/einlass/{event_id}/",
        "/organisation/protokoll/exporte",
        "/organisation/e-mails/",
        f"{base}/aenderungsmitteilungen",
        f"{base}/raeume",
    ):
        visit(path)
    assert reports == []
