"""A HEAD request gets the answer a GET would get, without its body, on every page kind."""

from __future__ import annotations

from flask import Flask

from tests.page_kinds import build_demo_pages, log_in


def test_head_answers_like_get_on_every_page(app: Flask) -> None:
    pages = build_demo_pages(app)
    public, organiser = app.test_client(), app.test_client()
    log_in(organiser)
    checked = 0
    for kind in pages.kinds:
        if kind.post is not None:
            continue
        client = organiser if kind.organiser else public
        head = client.head(kind.path)
        get = client.get(kind.path)
        assert head.status_code == get.status_code, (kind.name, head.status_code)
        assert head.get_data() == b"", kind.name
        checked += 1
    assert checked > 20
