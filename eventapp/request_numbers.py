"""The one reading of ids and whole numbers from a request: 1 to 9 ASCII digits, nothing else."""

from __future__ import annotations

import re

from werkzeug.routing import BaseConverter

# Nine digits stay below 2**31, so every id fits the database's integer column (SQLite and
# PostgreSQL alike); str.isdigit() and int() would also take "²", "①" or Arabic-Indic digits.
DIGITS = r"[0-9]{1,9}"
_DIGITS = re.compile(DIGITS, re.ASCII)
_SIGNED = re.compile(r"-?" + DIGITS, re.ASCII)


def whole_number(raw: object) -> int | None:
    """Return the number written as 1 to 9 ASCII digits, else None."""
    if not isinstance(raw, str) or _DIGITS.fullmatch(raw) is None:
        return None
    return int(raw)


def signed_whole_number(raw: object) -> int | None:
    """Return the number written as 1 to 9 ASCII digits with an optional minus, else None."""
    if not isinstance(raw, str) or _SIGNED.fullmatch(raw) is None:
        return None
    return int(raw)


class IdConverter(BaseConverter):
    """A URL part holding a database id: anything else does not match, so the answer is 404."""

    regex = DIGITS
    weight = 50

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]
