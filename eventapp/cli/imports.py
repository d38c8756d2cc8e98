"""`eventapp import`: read participants, people or the programme from a CSV or XLSX file."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from eventapp.database import write_unit
from eventapp.extensions import db
from eventapp.models import Event, ImportKind
from eventapp.services.imports.reading import MAX_FILE_BYTES, UnreadableFile
from eventapp.services.imports.rows import ImportOptions, ImportReport, run_import


class _NothingStored(Exception):
    """Some rows failed: the transaction is rolled back."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("rows failed")
        self.report = report


def _print_report(report: ImportReport) -> None:
    """Print each row's result and the detected encoding."""
    delimiter = {"\t": "tab", "": "-"}.get(report.delimiter, report.delimiter)
    click.echo(f"Read as {report.encoding}, delimiter {delimiter}.")
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    for row in report.rows:
        click.echo(f"Zeile {row.number:>5}  {row.outcome_label:<12} {row.label}")
        for message in row.errors:
            click.echo(f"{'':19}✗ {message}")
        for note in row.notes:
            click.echo(f"{'':19}· {note}")


@click.command("import")
@click.argument("kind", type=click.Choice([k.value for k in ImportKind]))
@click.argument("event_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only show each row's result; store nothing.")
@click.option("--send-mail", is_flag=True, help="Send new participants their confirmation mail.")
@click.option(
    "--consent-recorded",
    is_flag=True,
    help="The people in a participants file agreed to the privacy notice (required to store).",
)
@with_appcontext
def import_command(
    kind: str, event_slug: str, file: Path, dry_run: bool, send_mail: bool, consent_recorded: bool
) -> None:
    """Import participants, people or programme from a CSV or XLSX file, all rows or none.

    Participants are matched by e-mail address, people by name, activities by an ID column or
    by title and start. Full workshops put people on the waiting list in file order. Exits
    with status 1, storing nothing, when any row has an error.
    """
    event = db.session.scalar(sa.select(Event).where(Event.slug == event_slug.strip().lower()))
    if event is None:
        raise click.ClickException(f"no event with the slug {event_slug!r}")
    import_kind = ImportKind(kind)
    if import_kind == ImportKind.PARTICIPANTS and not (consent_recorded or dry_run):
        raise click.ClickException(
            "participants need --consent-recorded: confirm that the people in the file agreed "
            "to the privacy notice"
        )
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
    content = file.read_bytes()
    options = ImportOptions(
        send_mail=send_mail and not dry_run,
        consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
    )

    def progress(done: int, total: int) -> None:
        if done % 250 == 0 or (done == total and total >= 250):
            click.echo(f"… {done} of {total} rows", err=True)

    def work() -> ImportReport:
        report = run_import(event, import_kind, content, file.name, options, progress)
        if dry_run or not report.ok:
            raise _NothingStored(report)
        return report

    try:
        report = write_unit(work)
    except UnreadableFile as error:
        raise click.ClickException(f"nothing imported: {error.message}") from None
    except _NothingStored as stopped:
        report = stopped.report
        _print_report(report)
        summary = _summary(report)
        if report.ok:
            click.echo(f"Dry run: {summary}. Nothing stored.")
            return
        click.echo(f"{summary}. Nothing stored: fix the rows with errors and run again.", err=True)
        raise SystemExit(1) from None
    _print_report(report)
    click.echo(f"Imported: {_summary(report)}.")


def _summary(report: ImportReport) -> str:
    return (
        f"{report.count('new')} new, {report.count('update')} updated, "
        f"{report.count('unchanged')} unchanged, {report.count('error')} with errors"
    )
