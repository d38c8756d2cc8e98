"""A second app on the test database, as another host of the same installation runs it."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from eventapp import create_app
from tests.conftest import base_test_config


def another_host(database_url: str, instance: Path) -> Flask:
    """Return an app with its own instance folder on the same database."""
    instance.mkdir()
    os.environ["EVENTAPP_INSTANCE_PATH"] = str(instance)
    try:
        return create_app(base_test_config(database_url, instance))
    finally:
        del os.environ["EVENTAPP_INSTANCE_PATH"]
