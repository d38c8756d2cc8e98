"""The API's documentation page in a real browser: Redoc renders it from our own server only."""

from __future__ import annotations

from typing import Any

from flask import Flask

from eventapp.extensions import db
from tests.factories import make_event


def test_api_docs_page_renders_the_api_title_without_requests_to_other_sites(
    page: Any, live_server: Any
) -> None:
    sent: list[str] = []
    blocked: list[str] = []

    def record(route: Any) -> None:
        # Every request that would go on the network passes here first.
        sent.append(route.request.url)
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", record)
    # The page's Content-Security-Policy stops Redoc's sidebar logo (on Redoc's CDN) in the
    # browser, before any request is made.
    page.on(
        "requestfailed",
        lambda request: request.failure == "csp" and blocked.append(request.url),
    )
    page.goto("/api/v1/docs")
    page.wait_for_selector("h1:has-text('eventapp API')", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Read-only data of the published Innovationstag programme").is_visible()
    assert [url for url in sent if not url.startswith(live_server.url)] == []
    assert any(url.endswith("/static/vendor/redoc/redoc.standalone.js") for url in sent)
    assert any(url.endswith("/api/v1/openapi.json") for url in sent)
    assert all("fonts.g" not in url for url in sent + blocked)
    stylesheets = page.evaluate(
        "() => [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href)"
    )
    assert stylesheets == []


def test_event_page_links_the_api_documentation(page: Any, app: Flask) -> None:
    with app.app_context():
        slug = make_event(published=True).slug
        db.session.commit()
    page.goto(f"/{slug}/")
    page.get_by_text("Für Fahrplan-Apps und andere Programme").click()
    page.get_by_role("link", name="Dokumentation der JSON-Schnittstelle").click()
    page.wait_for_selector("h1:has-text('eventapp API')", timeout=20_000)
    assert page.url.endswith("/api/v1/docs")
