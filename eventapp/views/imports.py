"""Organiser pages for imports: upload a table, preview every row's result, confirm."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from eventapp.database import write_unit
from eventapp.extensions import csrf, db
from eventapp.import_forms import IMPORT_KIND_LABELS, ConfirmImportForm, ImportUploadForm
from eventapp.models import Event, ImportKind, OrganiserRole, PendingImport
from eventapp.services import DomainError
from eventapp.services.imports import pending as pending_imports
from eventapp.services.imports.columns import (
    PARTICIPANT_COLUMNS,
    PEOPLE_COLUMNS,
    PROGRAMME_COLUMNS,
    map_columns,
)
from eventapp.services.imports.reading import MAX_FILE_BYTES, MAX_ROWS, UnreadableFile, read_table
from eventapp.services.imports.rows import ImportOptions, ImportReport, run_import
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


class ImportRefused(DomainError):
    """At least one row cannot be imported; nothing was stored."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(_("Es wurde nichts importiert."))
        self.report = report


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
    stored = write_unit(
        lambda: pending_imports.store(
            current_user._get_current_object(), event, kind, filename, content, options
        )
    )
    return redirect(url_for(".preview", event_id=event.id, import_id=stored.id))


def _pending_or_404(event: Event, import_id: int) -> PendingImport:
    """Return the organiser's own upload, or answer 404 (anyone else's, or expired)."""
    found = pending_imports.find(current_user._get_current_object(), event, import_id)
    if found is None:
        abort(404)
    return found


def _render_preview(
    event: Event,
    stored: PendingImport,
    report: ImportReport | None,
    form: ConfirmImportForm,
    errors: list[str],
    status: int,
) -> ResponseReturnValue:
    return render_template(
        "imports/preview.html",
        event=event,
        pending=stored,
        kind_label=IMPORT_KIND_LABELS[stored.kind],
        report=report,
        form=form,
        errors=errors,
    ), status


def dry_run(event: Event, stored: PendingImport) -> tuple[ImportReport | None, list[str]]:
    """Import the upload in a transaction that is rolled back: each row's result, nothing kept."""
    kind, content, filename = stored.kind, stored.content, stored.filename
    options = pending_imports.options_of(stored)
    try:
        return run_import(event, kind, content, filename, options), []
    except UnreadableFile as error:
        return None, [error.message]
    finally:
        db.session.rollback()


@bp.route("/<id:import_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def preview(event_id: int, import_id: int) -> ResponseReturnValue:
    """Show what the import would do with each row; on confirmation, import all or nothing."""
    event = event_or_404(event_id)
    stored = _pending_or_404(event, import_id)
    form = ConfirmImportForm()
    if request.method == "GET":
        report, errors = dry_run(event, stored)
        return _render_preview(event, stored, report, form, errors, 200)
    if not form.validate():
        report, errors = dry_run(event, stored)
        errors.insert(0, _("Das Formular war abgelaufen. Bitte bestätigen Sie noch einmal."))
        return _render_preview(event, stored, report, form, errors, 400)
    options = pending_imports.options_of(stored, send_mail=bool(form.send_mail.data))
    kind, content, filename = stored.kind, stored.content, stored.filename

    def work() -> ImportReport:
        report = run_import(event, kind, content, filename, options)
        if not report.ok:
            raise ImportRefused(report)
        pending_imports.discard(db.session.get(PendingImport, import_id))
        return report

    try:
        report = write_unit(work)
    except ImportRefused as refused:
        message = _(
            "Es wurde nichts importiert: %(count)s Zeile(n) lassen sich nicht übernehmen "
            "(die Daten haben sich womöglich seit der Vorschau geändert).",
            count=len(refused.report.errors),
        )
        return _render_preview(event, stored, refused.report, form, [message], 400)
    except UnreadableFile as error:
        return _render_preview(event, stored, None, form, [error.message], 400)
    flash(
        _(
            "Import abgeschlossen: %(new)s neu, %(updated)s geändert, %(unchanged)s unverändert.",
            new=report.count("new"),
            updated=report.count("update"),
            unchanged=report.count("unchanged"),
        ),
        "success",
    )
    return redirect(_destination(event, kind))


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
    write_unit(lambda: pending_imports.discard(stored))
    flash(_("Die hochgeladene Datei ist verworfen; es wurde nichts importiert."), "info")
    return redirect(url_for(".upload", event_id=event.id))
