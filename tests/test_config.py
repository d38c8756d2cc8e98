"""Settings: the README's table names every one, and each is read from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eventapp import config

README = Path(__file__).resolve().parent.parent / "README.md"
# Read under another name than EVENTAPP_<KEY> (config.from_environment).
ENVIRONMENT_NAMES = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
# Read outside config.DEFAULTS: where the instance folder is (eventapp/__init__.py).
OUTSIDE_DEFAULTS = {"INSTANCE_PATH"}
# Settings that are not for operators and so not in the table, each with its reason.
NOT_FOR_OPERATORS: dict[str, str] = {}


def documented_variables() -> set[str]:
    """Return the EVENTAPP_ names in the first column of the README's settings table."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ")[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `EVENTAPP_"):
            names.update(re.findall(r"`EVENTAPP_([A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_readme_settings_table_names_every_setting() -> None:
    documented = documented_variables()
    expected = {
        ENVIRONMENT_NAMES.get(key, key) for key in config.DEFAULTS if key not in NOT_FOR_OPERATORS
    }
    missing = sorted(expected - documented)
    assert not missing, f"add to the README's settings table: EVENTAPP_{missing}"
    unknown = sorted(documented - expected - OUTSIDE_DEFAULTS)
    assert not unknown, f"the README documents settings that do not exist: {unknown}"


def example(value: object) -> str:
    """Write a default the way an operator puts it into the environment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return "" if value is None else str(value)


@pytest.mark.parametrize("key", sorted(config.DEFAULTS))
def test_each_setting_read_from_the_environment_keeps_its_type(key: str) -> None:
    default = config.DEFAULTS[key]
    name = f"EVENTAPP_{ENVIRONMENT_NAMES.get(key, key)}"
    if key == "SQLALCHEMY_DATABASE_URI":
        default = "sqlite:////tmp/eventapp.sqlite3"
    read = config.from_environment({name: example(default)})
    assert read[key] == default


def test_switches_read_false_and_true_in_the_usual_spellings() -> None:
    for spelling, meant in (("false", False), ("0", False), ("no", False), ("TRUE", True)):
        read = config.from_environment({"EVENTAPP_RATELIMIT_ENABLED": spelling})
        assert read["RATELIMIT_ENABLED"] is meant
    assert config.from_environment({"EVENTAPP_WTF_CSRF_TIME_LIMIT": "3600"}) == {
        "WTF_CSRF_TIME_LIMIT": 3600
    }


def test_an_empty_prepare_threshold_means_never_prepare() -> None:
    assert config.from_environment({"EVENTAPP_POSTGRESQL_PREPARE_THRESHOLD": ""}) == {
        "POSTGRESQL_PREPARE_THRESHOLD": None
    }
    assert config.from_environment({"EVENTAPP_POSTGRESQL_PREPARE_THRESHOLD": "0"}) == {
        "POSTGRESQL_PREPARE_THRESHOLD": 0
    }
