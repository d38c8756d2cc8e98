"""Print pages of an event: badge batches as background jobs, calibration, programme, lists."""

from __future__ import annotations

import io
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventapp.database import end_read_phase, write_unit
from eventapp.extensions import client_address, db
from eventapp.models import Event, ExportKind, OrganiserRole, PrintJob, PrintJobStatus
from eventapp.printing_forms import BadgeBatchForm, CalibrationForm, DocumentForm
from eventapp.services import DomainError
from eventapp.services.audit import export_log
from eventapp.services.printing import calibration, programme_booklet
from eventapp.services.printing import jobs as print_jobs
from eventapp.services.printing.badge_layouts import LAYOUTS
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404, published_event_or_404

bp = Blueprint("printing", __name__, url_prefix="/organisation/veranstaltungen/<id:event_id>/druck")
public_bp = Blueprint("printing_public", __name__)


def job_or_404(event: Event, job_id: int) -> PrintJob:
    """Return the event's print job with this id, or answer 404."""
    job = db.session.get(PrintJob, job_id)
    if job is None or job.event_id != event.id:
        abort(404)
    return job


def pdf_response(pdf: bytes, filename: str) -> Response:
    """Answer with a PDF download."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _page(event: Event, badge_form: BadgeBatchForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "printing/index.html",
            event=event,
            badge_form=badge_form,
            document_form=DocumentForm(),
            jobs=print_jobs.recent_jobs(event),
            calibration_form=CalibrationForm(),
            offsets=calibration.offsets_for(event),
            layouts=LAYOUTS,
        ),
        status,
    )


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def index(event_id: int) -> ResponseReturnValue:
    """Show the print page: badge batch form, recent jobs, documents, calibration."""
    return _page(event_or_404(event_id), BadgeBatchForm())


@bp.route("/namensschilder", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def start_badges(event_id: int) -> ResponseReturnValue:
    """Start a badge batch as a background job and show its progress."""
    event = event_or_404(event_id)
    form = BadgeBatchForm()
    if not form.validate_on_submit():
        return _page(event, form, 400)
    parameters = {
        "layout": form.layout.data,
        "only_new": form.selection.data == "new",
        "role": form.role.data if form.selection.data == "role" else None,
        "sort": form.sort.data,
        "lang": form.lang.data,
        "mark": True,
    }
    job = write_unit(lambda: print_jobs.create_job(event, "badges", parameters, current_user))
    return redirect(url_for("printing.job", event_id=event.id, job_id=job.id))


@bp.route("/dokument/<kind>", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def start_document(event_id: int, kind: str) -> ResponseReturnValue:
    """Start the programme, sign-in sheets or door signs as a background job."""
    event = event_or_404(event_id)
    if kind not in {"programme", "sign_in_sheets", "door_signs"}:
        abort(404)
    form = DocumentForm()
    if not form.validate_on_submit():
        return _page(event, BadgeBatchForm(), 400)
    parameters: dict[str, object] = {"lang": form.lang.data}
    if kind == "sign_in_sheets" and form.with_checkins.data:
        parameters["with_checkins"] = True
    job = write_unit(lambda: print_jobs.create_job(event, kind, parameters, current_user))
    return redirect(url_for("printing.job", event_id=event.id, job_id=job.id))


@bp.route("/auftraege/<id:job_id>")
@role_required(OrganiserRole.STAFF)
def job(event_id: int, job_id: int) -> ResponseReturnValue:
    """Show a job's progress (the page reloads itself while it runs) and its download."""
    event = event_or_404(event_id)
    job = job_or_404(event, job_id)
    available = job.status == PrintJobStatus.DONE and print_jobs.job_file(job) is not None
    return render_template(
        "printing/job.html", event=event, job=job, running=job.unfinished, available=available
    )


@bp.route("/auftraege/<id:job_id>/datei")
@role_required(OrganiserRole.STAFF)
def download(event_id: int, job_id: int) -> ResponseReturnValue:
    """Send a finished job's PDF."""
    event = event_or_404(event_id)
    job = job_or_404(event, job_id)
    name = f"{event.slug}-{job.kind.replace('_', '-')}-{job.id}.pdf"
    return send_job_pdf(
        event, job, ExportKind(job.kind), name, as_attachment=True, row_count=job.total or None
    )


def send_job_pdf(
    event: Event,
    job: PrintJob,
    kind: ExportKind,
    name: str,
    *,
    as_attachment: bool,
    row_count: int | None,
) -> ResponseReturnValue:
    """Send a finished job's stored PDF (404 once gone) and log who took it."""
    stored = print_jobs.job_file(job) if job.status == PrintJobStatus.DONE else None
    if stored is None:
        abort(404)
    end_read_phase(db.session)
    write_unit(
        lambda: export_log.record_export(
            current_user._get_current_object(),
            kind,
            client_address(),
            event,
            row_count=row_count,
            detail=name,
        )
    )
    return send_file(
        io.BytesIO(stored.content),
        mimetype="application/pdf",
        as_attachment=as_attachment,
        download_name=name,
        last_modified=stored.created_at,
    )


@bp.route("/auftraege/<id:job_id>/zuruecknehmen", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def undo(event_id: int, job_id: int) -> ResponseReturnValue:
    """Take back the printed marks of a badge job (for a misprint)."""
    event = event_or_404(event_id)
    job = job_or_404(event, job_id)
    try:
        count = write_unit(lambda: print_jobs.undo_marks(job))
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(
            ngettext(
                "%(num)d Schild gilt wieder als nicht gedruckt.",
                "%(num)d Schilder gelten wieder als nicht gedruckt.",
                count,
            ),
            "success",
        )
    return redirect(url_for("printing.job", event_id=event.id, job_id=job.id))


@bp.route("/kalibrierung", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def calibrate(event_id: int) -> ResponseReturnValue:
    """Store a printer offset for one layout."""
    event = event_or_404(event_id)
    form = CalibrationForm()
    if form.validate_on_submit():
        layout, x_mm, y_mm = form.layout.data, float(form.x_mm.data), float(form.y_mm.data)
        try:
            write_unit(lambda: calibration.set_offset(event, layout, x_mm, y_mm))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Die Verschiebung wurde gespeichert."), "success")
            return redirect(url_for("printing.index", event_id=event.id) + "#calibration")
    return (
        render_template(
            "printing/index.html",
            event=event,
            badge_form=BadgeBatchForm(),
            document_form=DocumentForm(),
            jobs=print_jobs.recent_jobs(event),
            calibration_form=form,
            offsets=calibration.offsets_for(event),
            layouts=LAYOUTS,
        ),
        400,
    )


@bp.route("/kalibrierung/<layout>.pdf")
@role_required(OrganiserRole.STAFF)
def calibration_page(event_id: int, layout: str) -> ResponseReturnValue:
    """Send the calibration test page of a layout with the stored offset applied."""
    event = event_or_404(event_id)
    if layout not in LAYOUTS:
        abort(404)
    language = request.args.get("lang", "de")
    if language not in current_app.config["LANGUAGES"]:
        language = "de"
    pdf = calibration.render_test_page(
        LAYOUTS[layout], calibration.offset_for(event, layout), language
    )
    return pdf_response(pdf, f"kalibrierung-{layout}.pdf")


@public_bp.route("/<slug>/programm.pdf")
def public_programme(slug: str) -> ResponseReturnValue:
    """Send the published programme as PDF, from the cache while the programme is unchanged."""
    event = published_event_or_404(slug)
    language = request.args.get("lang", "de")
    if language not in current_app.config["LANGUAGES"]:
        language = "de"
    folder = Path(current_app.instance_path) / "programme-cache"
    path = programme_booklet.cached_programme(event, language, folder)
    response = send_file(
        path, mimetype="application/pdf", download_name=f"{event.slug}-programm-{language}.pdf"
    )
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
