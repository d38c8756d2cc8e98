"""Tests needing parts of the system skip with the install line; fail where CI requires them."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import system
from tests.helpers.system import SystemPart, require

ROOT = Path(__file__).resolve().parent.parent
THERE = SystemPart("something installed", "pkg-there", lambda: True)
GONE = SystemPart("a font for Chinese names", "fonts-noto-cjk", lambda: False)
ALSO_GONE = SystemPart("pdftotext", "poppler-utils", lambda: False)


@pytest.fixture
def locally(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as on a developer's machine: nothing demands the system parts."""
    monkeypatch.delenv("EVENTAPP_REQUIRE_SYSTEM", raising=False)
    monkeypatch.delenv("EVENTAPP_REQUIRE_BROWSER", raising=False)


def test_require_lets_the_test_run_when_everything_is_there(locally: None) -> None:
    require(THERE)


def test_require_skips_with_what_is_missing_and_one_install_line(locally: None) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        require(THERE, GONE, ALSO_GONE, GONE)
    message = str(skipped.value)
    assert "a font for Chinese names" in message and "pdftotext" in message
    assert "sudo apt-get install fonts-noto-cjk poppler-utils)" in message
    assert "pkg-there" not in message


@pytest.mark.parametrize("variable", ["EVENTAPP_REQUIRE_SYSTEM", "EVENTAPP_REQUIRE_BROWSER"])
def test_require_fails_when_ci_requires_the_system(
    locally: None, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        require(GONE)
    assert "apt-get install fonts-noto-cjk" in str(failed.value)
    require(THERE)


def test_font_check_sees_what_fontconfig_offers_pango(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if shutil.which("fc-list") is None:
        pytest.skip("fc-list is not installed (package fontconfig): the check reads font files")
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}/cache</cachedir>"
        "</fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    assert not system.has_font.__wrapped__("Noto Sans CJK SC", "NotoSansCJK")
    assert system.has_font.__wrapped__("DejaVu Sans", "DejaVuSans") == system.DEJAVU.present()


MARKED_TESTS = """
import pytest
from tests.helpers.system import SystemPart

GONE = SystemPart("a font for Chinese names", "fonts-noto-cjk", lambda: False)

@pytest.mark.system(GONE)
def test_needs_the_font():
    raise AssertionError("ran without its font")

def test_needs_nothing():
    pass
"""


@pytest.mark.parametrize("in_ci", [False, True])
def test_marked_test_is_skipped_locally_and_fails_in_ci(
    locally: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, in_ci: bool
) -> None:
    import subprocess

    (tmp_path / "test_marked.py").write_text(MARKED_TESTS)
    if in_ci:
        monkeypatch.setenv("EVENTAPP_REQUIRE_SYSTEM", "1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "-rsE",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path / "test_marked.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout
    assert "apt-get install fonts-noto-cjk" in output, output
    assert "ran without its font" not in output
    if in_ci:
        assert result.returncode == 1 and "1 passed, 1 error" in output, output
    else:
        assert result.returncode == 0 and "1 passed, 1 skipped" in output, output
