"""`make run` names what PDF output lacks instead of failing with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventapp.cli import syscheck
from eventapp.services.printing import text_fit


def test_syscheck_is_quiet_when_everything_is_installed(capsys: pytest.CaptureFixture[str]) -> None:
    assert syscheck.main() == 0
    assert capsys.readouterr().err == ""


def test_syscheck_names_a_missing_font_and_the_install_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(text_fit, "FONT_DIR", tmp_path / "no-fonts-here")
    assert syscheck.main() == 0
    message = capsys.readouterr().err
    assert "DejaVuSans.ttf" in message
    assert "apt-get install" in message
    assert "fonts-dejavu-core" in message


def test_syscheck_names_a_missing_harfbuzz_subsetter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(syscheck, "find_library", lambda name: None)
    assert syscheck.main() == 0
    assert "libharfbuzz-subset0" in capsys.readouterr().err
