"""Every page kind is valid HTML by the Nu HTML Checker (vnu.jar from the npm package vnu-jar)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from flask import Flask

from tests.helpers.system import SystemPart, require
from tests.page_kinds import build_demo_pages, fetch_html, log_in

# `make test` installs it there (npm install vnu-jar); EVENTAPP_VNU_JAR points elsewhere.
DEFAULT_JAR = Path(__file__).parent.parent / ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
JAVA = SystemPart(
    "java, to run the Nu HTML Checker", "default-jre-headless", lambda: bool(shutil.which("java"))
)
VNU = SystemPart(
    "the Nu HTML Checker (`make test` installs the npm package vnu-jar into .venv/vnu)",
    "npm",
    lambda: vnu_jar().exists(),
)


def vnu_jar() -> Path:
    """Return where the checker's jar is expected."""
    return Path(os.environ.get("EVENTAPP_VNU_JAR") or DEFAULT_JAR)


def vnu_command() -> list[str]:
    """Return the command that runs the Nu HTML Checker (skip, or fail in CI, without it)."""
    require(JAVA, VNU)
    return [str(shutil.which("java")), "-Xss8m", "-jar", str(vnu_jar())]


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
