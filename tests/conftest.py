"""Shared fixtures: a real database (SQLite, or PostgreSQL when EVENTAPP_TEST_DATABASE_URL is
set), the app, a client, a CLI runner, and a live server driven by Debian's chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.serving import make_server

from eventapp import create_app
from eventapp.extensions import db
from tests.helpers.system import CHROMIUM, CHROMIUM_PATH, require

pytest_plugins = ["tests.smtp_server"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    """Declare the `system` marker."""
    config.addinivalue_line(
        "markers", "system(*parts): needs parts of the operating system (tests/helpers/system.py)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked `system(...)` whose system parts are missing (fail it in CI)."""
    for marker in item.iter_markers("system"):
        require(*marker.args)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of the test database: PostgreSQL when configured, else a SQLite file."""
    url = os.environ.get("EVENTAPP_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Create the schema once per test run (dropping what an earlier run left)."""
    app = create_app(base_test_config(database_url, tmp_path_factory.mktemp("setup")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield


def base_test_config(database_url: str, instance: Path) -> dict[str, Any]:
    """Return settings for a test app: real database, no rate limits, mail to files."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_BACKEND": "file",
        "MAIL_FILE_DIR": str(instance / "mail"),
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        # Tasks run where they are queued, right after the commit; tests of the worker itself
        # switch this off and start a real one.
        "TASK_QUEUE_IMMEDIATE": True,
    }


def clear_tables() -> None:
    """Delete every row, children first, so each test starts from an empty database."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra settings a test module may override."""
    return {}


@pytest.fixture
def app(
    _schema: None, database_url: str, tmp_path: Path, app_config: dict[str, Any]
) -> Iterator[Flask]:
    """Return a fresh app on the emptied test database."""
    instance = tmp_path / "instance"
    instance.mkdir()
    config = base_test_config(database_url, instance) | app_config
    os.environ["EVENTAPP_INSTANCE_PATH"] = str(instance)
    try:
        application = create_app(config)
    finally:
        del os.environ["EVENTAPP_INSTANCE_PATH"]
    with application.app_context():
        clear_tables()
    yield application
    application.extensions["task_queue"].close()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """Push an app context for the test's body."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a CLI runner."""
    return app.test_cli_runner()


def login(client: FlaskClient, email: str, password: str) -> Any:
    """Log an organiser in through the login form."""
    return client.post(
        "/organisation/anmelden", data={"email": email, "password": password}, follow_redirects=True
    )


@pytest.fixture
def staff_client(client: FlaskClient, app: Flask) -> FlaskClient:
    """Return a client logged in as a staff organiser."""
    from tests.factories import make_organiser

    with app.app_context():
        make_organiser("staff@example.org", "staff-password-1", role="staff")
        db.session.commit()
    response = login(client, "staff@example.org", "staff-password-1")
    assert response.status_code == 200
    return client


@pytest.fixture
def admin_client(client: FlaskClient, app: Flask) -> FlaskClient:
    """Return a client logged in as an admin organiser."""
    from tests.factories import make_organiser

    with app.app_context():
        make_organiser("admin@example.org", "admin-password-1", role="admin")
        db.session.commit()
    response = login(client, "admin@example.org", "admin-password-1")
    assert response.status_code == 200
    return client


def _buffered(app: Flask) -> Any:
    """Wrap the app so every response body is read (and its file closed) before it is sent.

    Werkzeug's development server skips closing a response (a static file) when the browser
    drops the connection early, which leaves an unclosed file behind.
    """

    def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return serve


class LiveServer:
    """The app served by a real WSGI server in a thread, for the browser."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test app on a free loopback port."""
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Start Debian's chromium through Playwright (never a downloaded browser)."""
    require(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """Open a fresh browser page whose requests may only reach the live server."""
    context = browser.new_context(base_url=live_server.url, locale="de-DE")

    def only_loopback(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    yield page
    context.close()
