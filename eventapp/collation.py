"""German phone-book order (ä with a, ß as ss, case ignored): one key in Python and in SQL."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# The SQL function SQLite connections get (see database.install_sqlite_hooks).
SQLITE_FUNCTION = "german_sort_key"
# PostgreSQL folds case itself; these letters are then spelled plain (a C or ICU collation alike).
_PLAIN_LETTERS = (
    ("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss"), ("é", "e"), ("è", "e"), ("à", "a"),
    ("ç", "c"), ("ñ", "n"),
)  # fmt: skip


@functools.lru_cache(maxsize=50_000)
def german_sort_key(text: str | None) -> str:
    """Return a key that sorts German names as a phone book does (ä with a, ß as ss).

    Names repeat from list to list and SQLite asks for every row's key, so keys are kept.
    """
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class GermanSortKey(FunctionElement[str]):
    """The SQL form of german_sort_key for ORDER BY (SQLite: the Python function itself)."""

    type = sa.String()
    inherit_cache = True
    name = "german_sort_key"


@compiles(GermanSortKey, "sqlite")
def _sqlite(element: GermanSortKey, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(GermanSortKey)
def _other(element: GermanSortKey, compiler: Any, **kw: Any) -> str:
    expression: Any = sa.func.lower(*element.clauses)
    for letter, plain in _PLAIN_LETTERS:
        expression = sa.func.replace(expression, letter, plain)
    return str(compiler.process(expression, **kw))


def german_order(column: Any) -> GermanSortKey:
    """Return the column's German sort key for ORDER BY."""
    return GermanSortKey(column)
