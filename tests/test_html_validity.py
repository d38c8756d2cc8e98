"""Every page kind is valid HTML by the Nu HTML Checker (vnu.jar from the npm package vnu-jar)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import BROWSER_REQUIRED
from tests.page_kinds import build_demo_pages, fetch_html, log_in

# `make test` installs it there (npm install vnu-jar); EVENTAPP_VNU_JAR points elsewhere.
DEFAULT_JAR = Path(__file__).parent.parent / ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar"


def vnu_command() -> list[str]:
    """Return the command that runs the Nu HTML Checker, or skip (fail in CI) without it."""
    java = shutil.which("java")
    jar = Path(os.environ.get("EVENTAPP_VNU_JAR") or DEFAULT_JAR)
    missing = (
        "java is not installed (apt-get install default-jre-headless)"
        if java is None
        else f"{jar} is missing (make test installs it with npm)"
        if not jar.exists()
        else None
    )
    if missing:
        if BROWSER_REQUIRED:
            pytest.fail(f"The Nu HTML Checker cannot run: {missing}")
        pytest.skip(f"The Nu HTML Checker cannot run: {missing}")
    return [str(java), "-Xss8m", "-jar", str(jar)]


def validate(files: list[Path]) -> dict[str, list[str]]:
    """Run the checker once over the files; return each file's errors as readable lines."""
    result = subprocess.run(
        [*vnu_command(), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    errors: dict[str, list[str]] = {}
    for message in json.loads(result.stderr or result.stdout)["messages"]:
        if message.get("type") == "error" or message.get("subType") == "fatal":
            name = Path(message.get("url", "")).stem
            extract = message.get("extract", "").strip()
            line = f"line {message.get('lastLine')}: {message['message']} «{extract}»"
            errors.setdefault(name, []).append(line)
    return errors


def test_every_page_kind_is_valid_html(app: Flask, tmp_path: Path) -> None:
    command = vnu_command()  # skip before building anything when java is missing
    assert command
    pages = build_demo_pages(app)
    public, organiser = app.test_client(), app.test_client()
    log_in(organiser)
    files = []
    for number, kind in enumerate(pages.kinds):
        client = organiser if kind.organiser else public
        path = tmp_path / f"{number:02d}.html"
        path.write_text(fetch_html(client, kind), encoding="utf-8")
        files.append(path)
    errors = validate(files)
    report = {pages.kinds[int(name)].name: lines for name, lines in errors.items()}
    assert report == {}, json.dumps(report, indent=1, ensure_ascii=False)


def test_checker_finds_an_invalid_page(tmp_path: Path) -> None:
    vnu_command()
    page = tmp_path / "00.html"
    page.write_text(
        '<!doctype html><html lang="de"><title>x</title><p id="a" aria-invalid="None">'
        '<span id="a"></span>',
        encoding="utf-8",
    )
    errors = validate([page])
    assert len(errors["00"]) >= 2, errors
