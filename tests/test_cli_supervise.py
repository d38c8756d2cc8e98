"""`make run` and `make serve`: the worker starts beside the web server and stops with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from eventapp.extensions import db
from eventapp.services.mail.outbox import queue_mail
from tests.helpers.mailbox import delivered
from tests.smtp_server import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Queue tasks in the instance's SQLite file, as `make run` does, for its worker."""
    return {"TASK_QUEUE_IMMEDIATE": False, "TASK_QUEUE_URL": ""}


def app_environment(app: Flask) -> dict[str, str]:
    """Return the environment that points the server and worker at the test app's data."""
    env = dict(os.environ)
    env.update(
        {
            "EVENTAPP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "EVENTAPP_INSTANCE_PATH": app.instance_path,
            "EVENTAPP_SECRET_KEY": app.config["SECRET_KEY"],
            "EVENTAPP_TASK_QUEUE_URL": "",
            "EVENTAPP_MAIL_BACKEND": "file",
            "EVENTAPP_MAIL_FILE_DIR": app.config["MAIL_FILE_DIR"],
        }
    )
    return env


@pytest.fixture
def supervise(app: Flask, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `python -m eventapp.cli.supervise SERVER…` in a process group of its own."""
    started: list[subprocess.Popen[bytes]] = []

    def start(server: list[str], ignore_interrupt: bool = False) -> subprocess.Popen[bytes]:
        def prepare() -> None:  # as `make run &` from a script: Ctrl-C is ignored there
            if ignore_interrupt:
                signal.signal(signal.SIGINT, signal.SIG_IGN)

        with open(tmp_path / "supervise.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "eventapp.cli.supervise", *server],
                env=app_environment(app),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=prepare,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def group_gone(group: int) -> bool:
    """Return whether no process of the group is left."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll check() until it returns something true; fail with what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


def answers(url: str) -> bool:
    """Return whether the server answers the page with 200."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def eventapp_run(port: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from eventapp.cli import main; main()",
        "run",
        "--port",
        str(port),
    ]


@pytest.mark.parametrize(
    ("stop_signal", "ignore_interrupt"),
    [
        pytest.param(signal.SIGTERM, False, id="kill"),
        pytest.param(signal.SIGINT, False, id="ctrl-c"),
        pytest.param(signal.SIGINT, True, id="ctrl-c-started-in-background"),
    ],
)
def test_worker_runs_beside_the_server_and_both_stop_together(
    app: Flask,
    supervise: Callable[..., subprocess.Popen[bytes]],
    stop_signal: int,
    ignore_interrupt: bool,
) -> None:
    port = free_port()
    started = supervise(eventapp_run(port), ignore_interrupt=ignore_interrupt)
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), 60, "the server answering")
    with app.app_context():
        queue_mail("anna@example.org", "Hallo", "Text", kind="test")
        db.session.commit()
    wait_for(lambda: delivered(app), 30, "the worker beside the server sending the mail")
    os.killpg(started.pid, stop_signal)  # Ctrl-C in the terminal, or `kill` of the group
    stopping = time.monotonic()
    # Stopped as asked: `make` reports no error for it.
    assert started.wait(30) == 0
    wait_for(lambda: group_gone(started.pid), 5, "no process of `make run` left")
    assert time.monotonic() - stopping < 10  # each stopped at once, none killed after a wait


def test_worker_stops_when_the_server_cannot_start(
    app: Flask, supervise: Callable[..., subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):  # the port is taken
        started = supervise(eventapp_run(port))
        assert started.wait(60) != 0
    wait_for(lambda: group_gone(started.pid), 5, "the worker stopped with the server")
