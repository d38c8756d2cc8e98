"""Count timestamps in fixed slices of time inside the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

# A quarter of an hour: every time zone in use today is offset from UTC by a multiple of it,
# so a UTC quarter-hour is also a quarter-hour on the event's wall clock.
QUARTER_HOUR = 900


class epoch_seconds(FunctionElement[int]):
    """Seconds since 1970 of a UTC timestamp column (stored naive, as UTCDateTime does)."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # The column is a timestamp without time zone holding UTC: EXTRACT reads it as UTC.
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def bucket_of(column: Any, seconds: int = QUARTER_HOUR) -> sa.ColumnElement[int]:
    """Return an SQL expression numbering the slice of `seconds` a timestamp falls into."""
    return epoch_seconds(column) // seconds


def bucket_start(number: int, seconds: int = QUARTER_HOUR) -> datetime:
    """Return the UTC instant at which a numbered slice begins."""
    return datetime.fromtimestamp(int(number) * seconds, UTC)
