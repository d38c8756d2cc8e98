"""Print commands: `eventapp badges`, `programme`, `sign-in-sheets`, `door-signs`, `print-job`."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

from eventapp.extensions import db
from eventapp.models import Event, ParticipantRole


def register(app: Flask) -> None:
    """Add the print commands to the app's CLI."""
    for command in (badges_command, programme_command, sign_in_command, door_signs_command):
        app.cli.add_command(command)
    app.cli.add_command(print_job_command)


def _event(slug: str) -> Event:
    event = db.session.scalar(sa.select(Event).where(Event.slug == slug))
    if event is None:
        raise click.BadParameter(f"no event with slug {slug!r}", param_hint="--event")
    return event


def _write(output: str, pdf: bytes) -> None:
    if output == "-":
        sys.stdout.buffer.write(pdf)
    else:
        Path(output).write_bytes(pdf)
        click.echo(f"Wrote {output} ({len(pdf) // 1024} KiB).", err=True)


@click.command("badges")
@click.option("--event", "slug", required=True, help="Slug of the event.")
@click.option("--layout", default="a4-10", show_default=True, help="Badge layout name.")
@click.option("--only-new", is_flag=True, help="Only badges not printed yet.")
@click.option("--role", type=click.Choice([r.value for r in ParticipantRole]), default=None)
@click.option("--sort", type=click.Choice(["name", "organisation"]), default="name")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
@click.option("--mark/--no-mark", default=True, show_default=True, help="Mark them printed.")
@click.option("--processes", default=2, show_default=True, help="Rendering processes.")
@click.option("-o", "--output", required=True, help="PDF file to write ('-' for stdout).")
@click.pass_context
def badges_command(
    ctx: click.Context,
    slug: str,
    layout: str,
    only_new: bool,
    role: str | None,
    sort: str,
    lang: str,
    mark: bool,
    processes: int,
    output: str,
) -> None:
    """Print badges of the confirmed registrations onto a label sheet layout."""
    from eventapp.services.printing import badge_rendering, badges, calibration
    from eventapp.services.printing.badge_layouts import LAYOUTS
    from eventapp.timezones import utcnow

    if layout not in LAYOUTS:
        raise click.BadParameter(f"choose one of {', '.join(LAYOUTS)}", param_hint="--layout")
    # The rendering processes start before the app is loaded: they set up WeasyPrint while
    # this process loads the app and the registrations.
    with badge_rendering.rendering_pool(processes) as pool, _app_context(ctx):
        event = _event(slug)
        chosen, claim = badges.choose_for_printing(
            event, utcnow(), only_new=only_new, mark=mark, role=role, sort=sort
        )
        db.session.commit()
        if not chosen:
            click.echo("Nothing to print: no registration matches.", err=True)
            raise SystemExit(1)
        try:
            offset = calibration.offset_for(event, layout)
            with click.progressbar(length=len(chosen), label="Badges", file=sys.stderr) as bar:
                pdf = badge_rendering.render_badges(
                    event, chosen, LAYOUTS[layout], offset, lang, processes,
                    progress=bar.update, pool=pool,
                )  # fmt: skip
            _write(output, pdf)
        except BaseException:
            if claim:  # not printed after all
                db.session.rollback()
                badges.unmark_printed(event, claim)
                db.session.commit()
            raise
        if mark and not claim:
            badges.mark_printed(chosen, utcnow())
            db.session.commit()


def _app_context(ctx: click.Context) -> AbstractContextManager[object]:
    """Return the app context a command runs in (as flask.cli.with_appcontext sets it up)."""
    if current_app:
        return nullcontext()
    return ctx.ensure_object(ScriptInfo).load_app().app_context()


@click.command("programme")
@click.option("--event", "slug", required=True, help="Slug of the event.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
@click.option("-o", "--output", required=True, help="PDF file to write ('-' for stdout).")
@with_appcontext
def programme_command(slug: str, lang: str, output: str) -> None:
    """Print the programme booklet (tagged PDF) in German or English."""
    from eventapp.services.printing import programme_booklet

    _write(output, programme_booklet.render_programme(_event(slug), lang))


@click.command("sign-in-sheets")
@click.option("--event", "slug", required=True, help="Slug of the event.")
@click.option("--activity", "activity_id", type=int, default=None, help="Only this activity id.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
@click.option("-o", "--output", required=True, help="PDF file to write ('-' for stdout).")
@with_appcontext
def sign_in_command(slug: str, activity_id: int | None, lang: str, output: str) -> None:
    """Print sign-in sheets (Teilnehmerlisten) for the activities with enrolment."""
    from eventapp.services.printing import day_lists

    _write(output, day_lists.render_sign_in_sheets(_event(slug), lang, activity_id))


@click.command("door-signs")
@click.option("--event", "slug", required=True, help="Slug of the event.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
@click.option("-o", "--output", required=True, help="PDF file to write ('-' for stdout).")
@with_appcontext
def door_signs_command(slug: str, lang: str, output: str) -> None:
    """Print door signs: one landscape A4 page per room with its activities of the day."""
    from eventapp.services.printing import day_lists

    _write(output, day_lists.render_door_signs(_event(slug), lang))


@click.command("print-job")
@click.argument("job_id", type=int)
@with_appcontext
def print_job_command(job_id: int) -> None:
    """Run a queued print job here and now, as the worker would (e.g. while none is running)."""
    from eventapp.models import PrintJob
    from eventapp.services.printing import jobs as print_jobs

    print_jobs.run_job(job_id)
    job = db.session.get(PrintJob, job_id)
    if job is None:
        raise click.ClickException(f"No print job {job_id}.")
    click.echo(f"Print job {job_id}: {job.status.value} {job.error or ''}".rstrip())
