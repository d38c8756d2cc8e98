"""Reads compiled once per database and sent straight to a pooled connection, for hot pages.

A public page kept per programme version needs one light read per visit to learn the version.
Through the ORM session that read costs a transaction (BEGIN, ROLLBACK), the session's own
bookkeeping and SQLAlchemy's execution path, several times the read itself. A prebuilt read
is a plain SELECT compiled once per dialect and run on a connection of the pool in the
database's autocommit mode (one statement sees one consistent snapshot), its values turned
into Python values by the columns' own types. The pool's checkout and checkin hooks (a check
of a connection that sat idle) run as for every other connection, errors arrive as
SQLAlchemy's, and listeners of the engine's before_cursor_execute event see the statement.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    """The statement as one dialect runs it."""

    sql: str
    defaults: dict[str, Any]
    required: frozenset[str]  # names whose values every run must give
    order: tuple[str, ...] | None  # bind names in order (positional paramstyles), else None
    bind_processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, processor)

    def parameters(self, values: dict[str, Any]) -> Any:
        """Return the driver's parameters for these values (the statement's literals kept)."""
        if values.keys() != self.required:
            raise TypeError(f"the read takes {sorted(self.required)}, not {sorted(values)}")
        merged = self.defaults | values
        for name, process in self.bind_processors.items():
            merged[name] = process(merged[name])
        if self.order is None:
            return merged
        return tuple(merged[name] for name in self.order)

    def row(self, raw: Row) -> Row:
        """Turn a driver's row into Python values as the ORM would."""
        values = list(raw)
        for index, process in self.result_processors:
            value = values[index]
            if value is not None:
                values[index] = process(value)
        return tuple(values)


class PrebuiltRead:
    """A SELECT built once at import, compiled on first use for each database dialect."""

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def first(self, engine: Engine, **values: Any) -> Row | None:
        """Return the first row for these bind values, or None."""
        rows = self._run(engine, values, first_only=True)
        return rows[0] if rows else None

    def all(self, engine: Engine, **values: Any) -> list[Row]:
        """Return every row for these bind values."""
        return self._run(engine, values, first_only=False)

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        """Return the statement compiled for the dialect (compiled on first use)."""
        compiled = self._compiled.get(dialect)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(dialect) or _compile(self.statement, dialect)
                self._compiled[dialect] = compiled
        return compiled

    def _run(self, engine: Engine, values: dict[str, Any], first_only: bool) -> list[Row]:
        dialect = engine.dialect
        compiled = self.compiled_for(dialect)
        parameters = compiled.parameters(values)
        connection = engine.raw_connection()
        cursor = None
        # PostgreSQL's driver opens a transaction with the first statement (BEGIN, and a
        # ROLLBACK when the pool takes the connection back) unless in autocommit mode; SQLite's
        # connections are in autocommit mode already (database.py begins transactions itself).
        switched = False
        try:
            driver: Any = connection.dbapi_connection
            if dialect.name == "postgresql" and not driver.autocommit:
                driver.autocommit = switched = True
            cursor = connection.cursor()
            if engine.logger.isEnabledFor(logging.INFO):  # SQL logging shows it as any other
                engine.logger.info("%s", compiled.sql)
                engine.logger.info("[prebuilt] %r", parameters)
            if engine.dispatch.before_cursor_execute:
                for listener in engine.dispatch.before_cursor_execute:
                    listener(None, cursor, compiled.sql, parameters, None, False)
            cursor.execute(compiled.sql, parameters)
            raw_rows = [cursor.fetchone()] if first_only else cursor.fetchall()
            return [compiled.row(raw) for raw in raw_rows if raw is not None]
        except dialect.loaded_dbapi.Error as error:
            invalidated = dialect.is_disconnect(error, connection.dbapi_connection, cursor)
            if invalidated:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                compiled.sql,
                parameters,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=dialect,
            ) from error
        finally:
            _give_back(connection, cursor, switched)


def _give_back(connection: Any, cursor: Any, switched: bool) -> None:
    """Close the cursor and return the connection to the pool as it was lent."""
    try:
        if cursor is not None:
            cursor.close()
        if switched and connection.dbapi_connection is not None:
            connection.dbapi_connection.autocommit = False
    except Exception as error:
        connection.invalidate(error)  # the pool opens a fresh one instead
    finally:
        connection.close()


def _compile(statement: sa.Select[Any], dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    binds = compiled.binds
    required = frozenset(name for name, bind in binds.items() if bind.required)
    if any(bind.expanding or (bind.literal_execute and bind.required) for bind in binds.values()):
        raise ValueError("a prebuilt read takes no value that would be written into its text")
    # Literals SQLAlchemy writes into the text late (a separator) are written in now.
    expanded = compiled.construct_expanded_state(dict.fromkeys(required))
    return _Compiled(
        sql=expanded.statement,
        defaults={
            name: value for name, value in expanded.parameters.items() if name not in required
        },
        required=required,
        order=tuple(expanded.positiontup or ()) if compiled.positional else None,
        bind_processors=dict(expanded.processors),
        result_processors=tuple(
            (index, process)
            for index, column in enumerate(statement.selected_columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ),
    )
