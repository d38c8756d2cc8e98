"""Admin pages that show what organisers did with personal data."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from eventapp.models import OrganiserRole
from eventapp.services.audit import export_log
from eventapp.views.auth import role_required

bp = Blueprint("audit", __name__, url_prefix="/organisation/protokoll")


@bp.route("/exporte")
@role_required(OrganiserRole.ADMIN)
def exports() -> ResponseReturnValue:
    """List the latest exports: who took which list or print file, when and from where."""
    return render_template(
        "audit/exports.html",
        entries=export_log.recent_exports(),
        limit=export_log.PAGE_SIZE,
        zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
    )
