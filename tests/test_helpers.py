"""Shared test code lives in tests/helpers (or a fixture), never in another test module."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_test_modules(source: str) -> set[str]:
    """Return the test modules (test_*.py) that a file's imports name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            # `from tests import test_x` and `from . import test_x` name the module last.
            names = [module] + [f"{module.rstrip('.')}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.rsplit(".", 1)[-1].startswith("test_")}
    return found


def test_the_check_sees_every_way_of_importing_a_test_module() -> None:
    source = (
        "from tests.test_public import count_statements\n"
        "from .test_accounts import link_in\n"
        "from tests import test_api\n"
        "from . import test_mail\n"
        "import tests.test_urls\n"
        "from tests.helpers.mailbox import delivered\n"
    )
    assert imported_test_modules(source) == {
        "tests.test_public",
        ".test_accounts",
        "tests.test_api",
        "tests.test_urls",
        ".test_mail",
    }


def test_no_test_module_imports_another() -> None:
    borrowed = {
        path.relative_to(TESTS).as_posix(): sorted(imported)
        for path in sorted(TESTS.rglob("*.py"))
        if (imported := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert borrowed == {}, "move what these share into tests/helpers/ or a fixture"
