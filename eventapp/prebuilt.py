"""Statements compiled once per database and sent straight to the driver, for hot paths.

A public page kept per programme version needs one light read per visit to learn the version.
Through the ORM session that read costs a transaction (BEGIN, ROLLBACK), the session's own
bookkeeping and SQLAlchemy's execution path, several times the read itself. A prebuilt read
is a plain SELECT compiled once per dialect and run on a connection of the pool in the
database's autocommit mode (one statement sees one consistent snapshot), its values turned
into Python values by the columns' own types. The pool's checkout and checkin hooks (a check
of a connection that sat idle) run as for every other connection, errors arrive as
SQLAlchemy's, and listeners of the engine's before_cursor_execute event see the statement.

A prebuilt statement (PrebuiltStatement) is the same for the writes and locking reads every
registration sends, run in the transaction of the connection it is given.
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
        return _processed(self.result_processors, raw)


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
            _announce(engine, None, cursor, compiled.sql, parameters)
            cursor.execute(compiled.sql, parameters)
            raw_rows = [cursor.fetchone()] if first_only else cursor.fetchall()
            return [compiled.row(raw) for raw in raw_rows if raw is not None]
        except dialect.loaded_dbapi.Error as error:
            raise _driver_error(
                error, dialect, compiled.sql, parameters, connection, cursor
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


@dataclass(frozen=True)
class Outcome:
    """What a prebuilt statement did: the rows it changed and the first row it gave, if any."""

    rowcount: int
    first: Row | None

    def value(self) -> Any:
        """Return the first value of the first row (an INSERT … RETURNING's new id)."""
        if self.first is None:
            raise sa.exc.NoResultFound("the statement gave no row")
        return self.first[0]


@dataclass(frozen=True)
class _CompiledStatement:
    """A statement as one dialect runs it with one set of given values (their names)."""

    sql: str
    literals: dict[str, Any]  # values the statement carries itself
    defaults: tuple[tuple[str, Any], ...]  # (name, column default) computed at each run
    order: tuple[str, ...] | None  # bind names in order (positional paramstyles), else None
    bind_processors: dict[str, Callable[[Any], Any]]
    returns: bool
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, values: dict[str, Any]) -> Any:
        """Return the driver's parameters: the given values, the columns' defaults, literals."""
        merged = self.literals | values
        for name, default in self.defaults:
            merged[name] = default.arg if default.is_scalar else default.arg(None)
        for name, process in self.bind_processors.items():
            merged[name] = process(merged[name])
        if self.order is None:
            return merged
        return tuple(merged[name] for name in self.order)


# A statement's compiled forms for one dialect, by the names of the values given.
_FormsByValues = dict[frozenset[str], _CompiledStatement]


class PrebuiltStatement:
    """A statement built once at import and run in the transaction of a given connection.

    For the few statements every registration sends (its rows, its mail, its seat claims):
    SQLAlchemy's execution path costs more than the statement itself. It is compiled on first
    use for each dialect and set of given values; columns left out get their Python-side
    defaults (as SQLAlchemy's own insert and update would), and values, rows and errors are
    turned as SQLAlchemy turns them. Listeners of before_cursor_execute see it, without an
    execution context.
    """

    def __init__(self, statement: sa.Insert | sa.Update | sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _FormsByValues] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def run(self, connection: sa.Connection, **values: Any) -> Outcome:
        """Run the statement with these values in the connection's transaction (begun if not)."""
        if not connection.in_transaction():
            connection.begin()
        dialect = connection.dialect
        compiled = self.compiled_for(dialect, frozenset(values))
        parameters = compiled.parameters(values)
        dbapi_connection = connection.connection.dbapi_connection
        cursor = None
        try:
            cursor = dbapi_connection.cursor()
            _announce(connection.engine, connection, cursor, compiled.sql, parameters)
            cursor.execute(compiled.sql, parameters)
            first = cursor.fetchone() if compiled.returns else None
            return Outcome(
                cursor.rowcount,
                None if first is None else _processed(compiled.result_processors, first),
            )
        except dialect.loaded_dbapi.Error as error:
            raise _driver_error(
                error, dialect, compiled.sql, parameters, connection, cursor
            ) from error
        finally:
            if cursor is not None:
                cursor.close()

    def compiled_for(self, dialect: Dialect, given: frozenset[str]) -> _CompiledStatement:
        """Return the statement compiled for the dialect and given values (on first use)."""
        forms = self._compiled.get(dialect)
        compiled = forms.get(given) if forms is not None else None
        if compiled is None:
            with self._lock:
                compiled = _compile_statement(self.statement, dialect, given)
                self._compiled.setdefault(dialect, {})[given] = compiled
        return compiled


def _processed(processors: tuple[tuple[int, Callable[[Any], Any]], ...], raw: Row) -> Row:
    """Turn a driver's row into Python values as SQLAlchemy would (processors by column)."""
    values = list(raw)
    for index, process in processors:
        if values[index] is not None:
            values[index] = process(values[index])
    return tuple(values)


def _announce(
    engine: Engine, connection: sa.Connection | None, cursor: Any, sql: str, parameters: Any
) -> None:
    """Show the statement to SQL logging and to the engine's before_cursor_execute listeners."""
    if engine.logger.isEnabledFor(logging.INFO):
        engine.logger.info("%s", sql)
        engine.logger.info("[prebuilt] %r", parameters)
    for listener in engine.dispatch.before_cursor_execute:
        listener(connection, cursor, sql, parameters, None, False)


def _driver_error(
    error: Exception,
    dialect: Dialect,
    sql: str,
    parameters: Any,
    connection: Any,
    cursor: Any,
) -> sa.exc.DBAPIError:
    """Return the driver's error as SQLAlchemy raises it, the connection invalidated if lost.

    connection is the pooled connection or the Connection the statement ran on.
    """
    pooled = connection.connection if isinstance(connection, sa.Connection) else connection
    invalidated = dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
    if invalidated:
        connection.invalidate(error)
    return sa.exc.DBAPIError.instance(
        sql,
        parameters,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
    )


def _compile_statement(
    statement: sa.Insert | sa.Update | sa.Select[Any], dialect: Dialect, given: frozenset[str]
) -> _CompiledStatement:
    """Compile for the dialect with the given values; columns left out of an insert or update
    are filled in by their defaults (callables are called without an execution context)."""
    is_dml = not isinstance(statement, sa.Select)
    compiled: Any = statement.compile(
        dialect=dialect, column_keys=sorted(given) if is_dml else None
    )
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("a prebuilt statement takes no list of values")
    prefetch = [(column.key, column.default) for column in compiled.insert_prefetch] + [
        (column.key, column.onupdate) for column in compiled.update_prefetch
    ]
    if any(not (d.is_scalar or d.is_callable) for _key, d in prefetch):
        raise ValueError("a prebuilt statement computes only plain and callable defaults")
    computed = {name for name, _default in prefetch}
    required = {name for name, bind in binds.items() if bind.required}
    if not required <= given <= binds.keys() - computed:
        raise TypeError(f"the statement takes {sorted(required)}, not {sorted(given)}")
    parameters = compiled.construct_params(dict.fromkeys(given), _check=False)
    columns = statement.selected_columns if not is_dml else statement.exported_columns
    return _CompiledStatement(
        sql=compiled.string,
        literals={k: v for k, v in parameters.items() if k not in given and k not in computed},
        defaults=tuple(prefetch),
        order=tuple(compiled.positiontup) if compiled.positional else None,
        bind_processors={
            name: process
            for name in parameters
            if (process := binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        },
        returns=bool(columns),
        result_processors=tuple(
            (index, process)
            for index, column in enumerate(columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ),
    )
