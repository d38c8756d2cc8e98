"""The `eventapp` command: a Flask CLI group with the project's own commands."""

from __future__ import annotations

import atexit
import gc
import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from eventapp.cli import printing
from eventapp.cli.backup import backup_command, restore_command
from eventapp.cli.mail import send_mail
from eventapp.cli.worker import worker_command
from eventapp.extensions import db
from eventapp.models import Organiser, OrganiserRole
from eventapp.services.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def register(app: Flask) -> None:
    """Add the project's commands to the app's CLI."""
    # Imported with the app, not with this module: `eventapp badges` starts its rendering
    # processes before the app (and the programme services the demo needs) are loaded.
    from eventapp.cli.imports import import_command
    from eventapp.cli.programme import copy_event_command
    from eventapp.demo.event import seed_demo_command

    app.cli.add_command(create_organiser)
    app.cli.add_command(send_mail)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(purge_personal_data)
    app.cli.add_command(worker_command)
    app.cli.add_command(expire_print_files)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(copy_event_command)
    app.cli.add_command(import_command)
    printing.register(app)


@click.command("create-organiser")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in OrganiserRole]),
    default=OrganiserRole.STAFF.value,
    show_default=True,
    help="admin, staff or checkin (badge desk only).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_organiser(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create an organiser account (or reset its password and role)."""
    from eventapp.services.accounts import links

    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("not an e-mail address", param_hint="EMAIL")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise click.BadParameter(f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    organiser = db.session.scalar(sa.select(Organiser).where(Organiser.email == email))
    created = organiser is None
    if organiser is None:
        organiser = Organiser(email=email)
        db.session.add(organiser)
    organiser.name = name or organiser.name or email.split("@")[0]
    organiser.role = OrganiserRole(role)
    organiser.active = True
    organiser.set_password(password)
    if not created:  # mailed invitation or reset links must not set it once more
        links.revoke_open(organiser)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} organiser {email} ({role}).")


@click.command("purge-personal-data")
@with_appcontext
def purge_personal_data() -> None:
    """Delete personal data as the privacy notice promises (the worker does it daily too)."""
    from eventapp.services.registration.retention import RETENTION_MONTHS, purge_personal_data
    from eventapp.timezones import utcnow

    report = purge_personal_data(utcnow())
    db.session.commit()
    click.echo(
        f"Needs and dietary wishes cleared: {report.needs_cleared} registrations of past "
        f"events. Deleted {RETENTION_MONTHS} months after their event: "
        f"{report.registrations_deleted} registrations, {report.mails_deleted} mails, "
        f"{report.print_jobs_deleted} print jobs."
    )


@click.command("expire-print-files")
@with_appcontext
def expire_print_files() -> None:
    """Delete print jobs' PDFs older than PRINT_FILE_DAYS (the worker does it every minute)."""
    from eventapp.services.printing.jobs import expire_files

    count = expire_files()
    db.session.commit()
    click.echo(f"Deleted {count} print files past their keeping time.")


def _create_app() -> Flask:
    from eventapp import create_app

    # The operating system reclaims the whole heap at exit; without this, the interpreter
    # walks every object once more on the way out, about 0.2 s added to every command.
    atexit.register(gc.freeze)
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Manage eventapp: run, worker, db upgrade, seed-demo, create-organiser, send-mail, badges …"""


# Found without loading the app first: badge rendering processes start before it loads.
main.add_command(printing.badges_command)
