"""`eventapp copy-event`: next year's event from this year's, on the command line."""

from __future__ import annotations

from datetime import date, datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from eventapp.extensions import db
from eventapp.models import Event
from eventapp.services.programme.copy import CopyValues, copy_event, suggested_values
from eventapp.services.programme.events import ValuesRefused


def _day(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 (a calendar day)
    except ValueError:
        raise click.BadParameter("give the day as YYYY-MM-DD, e.g. 2027-06-09") from None


@click.command("copy-event")
@click.argument("slug")
@click.option(
    "--date", "starts_on", required=True, callback=_day, help="New first day, YYYY-MM-DD."
)
@click.option("--slug", "new_slug", required=True, help="Slug of the new event (its address).")
@click.option("--title", default=None, help="Title of the new event (default: the year bumped).")
@with_appcontext
def copy_event_command(slug: str, starts_on: date, new_slug: str, title: str | None) -> None:
    """Copy an event's settings, rooms, programme and speakers to a new, unpublished event.

    Times keep their wall-clock time on the new day; the registration window moves by the same
    number of days. Participants, mails, print jobs and check-ins are never copied.
    """
    source = db.session.scalar(sa.select(Event).where(Event.slug == slug.strip().lower()))
    if source is None:
        raise click.ClickException(f"no event with the slug {slug!r}")
    proposed = suggested_values(source, starts_on)
    try:
        result = copy_event(
            source, CopyValues(starts_on=starts_on, slug=new_slug, title=title or proposed.title)
        )
    except ValuesRefused as refused:
        db.session.rollback()
        reasons = "; ".join(f"{name}: {message}" for name, message in refused.errors)
        raise click.ClickException(f"nothing copied: {reasons}") from None
    db.session.commit()
    event = result.event
    click.echo(
        f"Created {event.slug!r} ({event.title}) on {event.starts_on.isoformat()}, unpublished: "
        f"{result.rooms} rooms, {result.activities} activities"
        + (
            f" ({result.left_out_cancelled} cancelled left out)"
            if result.left_out_cancelled
            else ""
        )
        + "."
    )
