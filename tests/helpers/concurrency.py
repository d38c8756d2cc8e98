"""Two writers at once: a registration held open while an organiser changes a limit."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from eventapp.extensions import db


def change_while_registering(
    app: Flask, register: Callable[[], object], change: Callable[[], object]
) -> None:
    """Run register in another thread and hold its transaction open; meanwhile run change.

    The change must wait for the registration's commit (PostgreSQL locks the event row); the
    registration commits half a second after it began. Errors of the thread fail the test.
    """
    registered = threading.Event()
    finish = threading.Event()
    failures: list[BaseException] = []

    def register_slowly() -> None:
        try:
            with app.app_context():
                register()
                registered.set()
                finish.wait(timeout=10)
                db.session.commit()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
            registered.set()

    worker = threading.Thread(target=register_slowly)
    worker.start()
    assert registered.wait(timeout=10)
    threading.Timer(0.5, finish.set).start()
    change()
    db.session.commit()
    worker.join(timeout=10)
    assert failures == []
