"""`eventapp backup` and `eventapp restore`: a consistent copy of the SQLite database, while the
app runs, and putting one back after checking it is an eventapp database of a known schema."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import click
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from eventapp.extensions import db


class BackupRefused(click.ClickException):
    """A backup or restore that would be wrong; the message says why and what to do."""


def sqlite_file(url: sa.URL) -> Path:
    """Return the database file of a SQLite URL; say what to use instead for other databases."""
    if url.get_backend_name() == "postgresql":
        raise BackupRefused(postgresql_hint(url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise BackupRefused(f"eventapp backs up SQLite database files only, not {url!r}.")
    return Path(url.database)


def postgresql_hint(url: sa.URL) -> str:
    """Return the pg_dump and pg_restore lines for the configured database, without password."""
    plain = sa.URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    ).render_as_string(hide_password=False)
    password = " (give the password through ~/.pgpass or PGPASSWORD)" if url.password else ""
    return (
        "The database is PostgreSQL: back it up with PostgreSQL's own tools, which copy it "
        f"consistently while the app runs{password}:\n"
        f"  pg_dump --format=custom --file=eventapp.dump '{plain}'\n"
        "and put such a copy back (stop the app first) with:\n"
        f"  pg_restore --clean --if-exists --no-owner --dbname='{plain}' eventapp.dump"
    )


def known_revisions() -> tuple[set[str], str | None]:
    """Return every schema revision of the migrations, and the newest."""
    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    script = ScriptDirectory.from_config(config)
    return {revision.revision for revision in script.walk_revisions()}, script.get_current_head()


def copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Copy a database with SQLite's online backup API into a new single file, atomically."""
    target = target.resolve()
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        copy = sqlite3.connect(scratch)
        try:
            # One step: a snapshot under one read lock; writers go on meanwhile (WAL).
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def schema_revision(path: Path) -> str:
    """Return the schema revision of an eventapp database file; refuse anything else."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupRefused(f"{path} cannot be opened as a SQLite database ({error}).") from error
    try:
        (check,) = connection.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupRefused(f"{path} is damaged (SQLite's check says: {check}).")
        has_versions = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not has_versions:
            raise BackupRefused(f"{path} is not an eventapp database (no schema version in it).")
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"{path} is not a SQLite database ({error}).") from error
    finally:
        connection.close()
    known, _head = known_revisions()
    if len(rows) != 1 or rows[0][0] not in known:
        found = ", ".join(row[0] for row in rows) or "none"
        raise BackupRefused(
            f"{path} has schema version {found}, which this eventapp does not know "
            f"(known: {', '.join(sorted(known))}). Restore it with the eventapp version that "
            "wrote it."
        )
    return rows[0][0]


@click.command("backup")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write the copy to (replaced if it exists).",
)
@with_appcontext
def backup_command(output: Path) -> None:
    """Write a consistent copy of the database while the app runs (e.g. daily from cron)."""
    database = sqlite_file(db.engine.url)
    if not database.exists():
        raise BackupRefused(f"There is no database at {database} yet.")
    timeout = float(current_app.config["SQLITE_BUSY_TIMEOUT"])
    source = sqlite3.connect(database, timeout=timeout)
    try:
        copy_database(source, output)
    finally:
        source.close()
    revision = schema_revision(output)
    size = output.stat().st_size
    click.echo(f"Wrote {output} ({size / 1e6:.1f} MB, schema version {revision}).")


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(backup: Path) -> None:
    """Replace the database with a copy written by `eventapp backup`, after checking it."""
    database = sqlite_file(db.engine.url)
    revision = schema_revision(backup)
    db.engine.dispose()  # this process's own connections see the restored database afresh
    timeout = float(current_app.config["SQLITE_BUSY_TIMEOUT"])
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=timeout)
    try:
        # The backup API writes the live file under SQLite's write lock, in one step:
        # a running app sees the old database or the restored one, never a mixture.
        source.backup(target)
    finally:
        source.close()
        target.close()
    _known, head = known_revisions()
    click.echo(f"Restored {database} from {backup} (schema version {revision}).")
    if revision != head:
        click.echo("The copy has an older schema: run `eventapp db upgrade` next.")
