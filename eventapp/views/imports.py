"""Organiser pages for imports: upload a table, see every row's result, confirm.

The worker checks and imports the table (eventapp/services/imports/jobs.py); these pages show
how far it is.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from eventapp.database import write_unit
from eventapp.extensions import csrf
from eventapp.import_forms import IMPORT_KIND_LABELS, ConfirmImportForm, ImportUploadForm
from eventapp.models import Event, ImportKind, ImportStatus, OrganiserRole, PendingImport
from eventapp.services.imports import jobs as import_jobs
from eventapp.services.imports import pending as pending_imports
from eventapp.services.imports.columns import (
    PARTICIPANT_COLUMNS,
    PEOPLE_COLUMNS,
    PROGRAMME_COLUMNS,
    map_columns,
)
from eventapp.services.imports.reading import MAX_FILE_BYTES, MAX_ROWS, UnreadableFile, read_table
from eventapp.services.imports.rows import ImportOptions
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404

bp = Blueprint("imports", __name__, url_prefix="/organisation/veranstaltungen/<id:event_id>/import")
# Every POST here is checked by its FlaskForm, after the upload's size limit is raised.
csrf.exempt(bp)

COLUMNS = {
    ImportKind.PARTICIPANTS: PARTICIPANT_COLUMNS,
    ImportKind.PEOPLE: PEOPLE_COLUMNS,
    ImportKind.PROGRAMME: PROGRAMME_COLUMNS,
}
# Room for the form fields beside the file in the request body.
FORM_OVERHEAD = 256 * 1024


def _render_upload(
    event: Event, form: ImportUploadForm, file_errors: list[str], status: int
) -> ResponseReturnValue:
    return render_template(
        "imports/upload.html",
        event=event,
        form=form,
        file_errors=file_errors,
        columns=COLUMNS,
        kind_labels=IMPORT_KIND_LABELS,
        max_megabytes=MAX_FILE_BYTES // (1024 * 1024),
        max_rows=MAX_ROWS,
    ), status


@bp.route("/", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def upload(event_id: int) -> ResponseReturnValue:
    """Take a CSV or XLSX file, check that it can be read and keep it for the preview."""
    event = event_or_404(event_id)
    if request.method != "POST":
        return _render_upload(event, ImportUploadForm(), [], 200)
    request.max_content_length = MAX_FILE_BYTES + FORM_OVERHEAD
    too_big = _(
        "Die Datei ist größer als %(size)s MB. Bitte teilen Sie sie auf.",
        size=MAX_FILE_BYTES // (1024 * 1024),
    )
    try:
        form = ImportUploadForm()
        upload = request.files.get("datei")
    except RequestEntityTooLarge:
        return _render_upload(event, ImportUploadForm(formdata=None), [too_big], 413)
    valid = form.validate()
    file_errors: list[str] = []
    content = upload.read(MAX_FILE_BYTES + 1) if upload is not None else b""
    filename = (upload.filename or "") if upload is not None else ""
    if upload is None or not (filename or content):
        file_errors.append(_("Bitte wählen Sie eine Datei aus."))
    kind = ImportKind(form.kind.data) if valid else None
    if kind == ImportKind.PARTICIPANTS and not form.consent.data:
        form.consent.errors = [
            _(
                "Bitte bestätigen Sie, dass die Personen den Datenschutzhinweisen zugestimmt "
                "haben. Ohne Zustimmung lassen sich keine Anmeldungen anlegen."
            )
        ]
        valid = False
    if kind is not None and not file_errors:
        try:
            map_columns(COLUMNS[kind], read_table(content, filename).header)
        except UnreadableFile as error:
            file_errors.append(error.message)
    if not valid or file_errors or kind is None:
        return _render_upload(event, form, file_errors, 400)
    options = ImportOptions(consent_version=current_app.config["PRIVACY_NOTICE_VERSION"])
    language = str(get_locale() or "de")

    def work() -> PendingImport:
        stored = pending_imports.store(
            current_user._get_current_object(), event, kind, filename, content, options, language
        )
        import_jobs.queue_preview(stored)
        return stored

    stored = write_unit(work)
    return redirect(url_for(".preview", event_id=event.id, import_id=stored.id))


def _pending_or_404(event: Event, import_id: int) -> PendingImport:
    """Return the organiser's own upload, or answer 404 (anyone else's, or expired)."""
    found = pending_imports.find(current_user._get_current_object(), event, import_id)
    if found is None:
        abort(404)
    return found


def _render_page(
    event: Event, stored: PendingImport, form: ConfirmImportForm, errors: list[str], status: int
) -> ResponseReturnValue:
    running = stored.status in (
        ImportStatus.UPLOADED,
        ImportStatus.PREVIEWING,
        ImportStatus.IMPORTING,
    )
    if stored.error:
        errors = [*errors, stored.error]
    return render_template(
        "imports/preview.html",
        event=event,
        pending=stored,
        kind_label=IMPORT_KIND_LABELS[stored.kind],
        report=None if running else import_jobs.report_of(stored),
        running=running,
        form=form,
        errors=errors,
        destination=_destination(event, stored.kind),
    ), status


@bp.route("/<id:import_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def preview(event_id: int, import_id: int) -> ResponseReturnValue:
    """Show how far the worker has checked (or imported) the upload, its preview or result;
    on confirmation, have the worker import it (all or nothing)."""
    event = event_or_404(event_id)
    stored = _pending_or_404(event, import_id)
    form = ConfirmImportForm()
    if request.method in {"GET", "HEAD"}:
        return _render_page(event, stored, form, [], 200)
    if not form.validate():
        message = _("Das Formular war abgelaufen. Bitte bestätigen Sie noch einmal.")
        return _render_page(event, stored, form, [message], 400)
    report = import_jobs.report_of(stored)
    if stored.status != ImportStatus.PREVIEWED or report is None or not report.ok:
        if stored.status == ImportStatus.PREVIEWED:
            message = _("Es wurde nichts importiert.")
        else:
            message = _("Diese Datei lässt sich gerade nicht importieren; der Stand steht unten.")
        return _render_page(event, stored, form, [message], 400)
    send_mail = bool(form.send_mail.data)
    write_unit(lambda: import_jobs.confirm(stored, send_mail))  # sent twice: queued once
    return redirect(url_for(".preview", event_id=event.id, import_id=import_id))


def _destination(event: Event, kind: ImportKind) -> str:
    """Return the list the imported rows show up in."""
    if kind == ImportKind.PARTICIPANTS:
        return url_for("organiser_registrations.index", event_id=event.id)
    if kind == ImportKind.PEOPLE:
        return url_for("organiser.people")
    return url_for("organiser.activities", event_id=event.id)


@bp.route("/<id:import_id>/verwerfen", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def discard(event_id: int, import_id: int) -> ResponseReturnValue:
    """Forget an upload without importing it."""
    event = event_or_404(event_id)
    stored = _pending_or_404(event, import_id)
    if not ConfirmImportForm().validate():
        abort(400)
    if stored.status == ImportStatus.IMPORTING:
        flash(_("Der Import läuft schon; er lässt sich nicht mehr verwerfen."), "error")
        return redirect(url_for(".preview", event_id=event.id, import_id=import_id))
    write_unit(lambda: pending_imports.discard(stored))
    flash(_("Die hochgeladene Datei ist verworfen; es wurde nichts importiert."), "info")
    return redirect(url_for(".upload", event_id=event.id))
