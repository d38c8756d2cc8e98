"""The organisers' dashboard: figures of the event as charts and tables, and their CSV files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from eventapp.database import end_read_phase, write_unit
from eventapp.extensions import client_address, db
from eventapp.models import Event, ExportKind, OrganiserRole
from eventapp.services.audit import export_log
from eventapp.services.reporting import charts
from eventapp.services.reporting.figures import event_figures
from eventapp.services.reporting.tables import TABLES
from eventapp.timezones import utcnow
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404

bp = Blueprint(
    "reporting", __name__, url_prefix="/organisation/veranstaltungen/<id:event_id>/auswertung"
)

# Seconds between the page's updates of its figures (when the script runs).
REFRESH_SECONDS = 30


def _context(event: Event) -> dict[str, Any]:
    """Count the figures and draw every chart with its table."""
    figures = event_figures(event, utcnow())
    tables = {key: build(figures) for key, build in TABLES.items()}
    drawn = {
        "anmeldungen": [charts.registrations_chart(figures)],
        "angebote": [charts.activities_chart(figures)],
        "bundeslaender": [charts.states_chart(figures)],
        "einlass": [
            charts.checkins_chart(figures, day, f"einlass-{index}")
            for index, day in enumerate(figures.checkins, start=1)
        ],
        "nicht-erschienen": [charts.no_shows_chart(figures)],
    }
    return {"event": event, "figures": figures, "tables": tables, "charts": drawn}


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def page(event_id: int) -> ResponseReturnValue:
    """Show the event's figures: registrations, seats, Länder, check-ins and no-shows."""
    event = event_or_404(event_id)
    return render_template(
        "organiser/reporting/page.html", refresh_seconds=REFRESH_SECONDS, **_context(event)
    )


@bp.route("/aktuell")
@role_required(OrganiserRole.STAFF)
def fragment(event_id: int) -> ResponseReturnValue:
    """Send the figures alone (no page around them), for the page's periodic update."""
    event = event_or_404(event_id)
    response = Response(render_template("organiser/reporting/_figures.html", **_context(event)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<key>.csv")
@role_required(OrganiserRole.STAFF)
def csv_file(event_id: int, key: str) -> ResponseReturnValue:
    """Download one chart's figures as CSV; the export log keeps a note of it."""
    event = event_or_404(event_id)
    build = TABLES.get(key)
    if build is None:
        abort(404)
    table = build(event_figures(event, utcnow()))
    body = table.csv()
    end_read_phase(db.session)
    write_unit(
        lambda: export_log.record_export(
            current_user._get_current_object(),
            ExportKind.DASHBOARD_CSV,
            client_address(),
            event,
            row_count=len(table.rows),
            detail=key,
        )
    )
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{event.slug}-{key}.csv"'
    return response
