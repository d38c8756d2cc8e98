"""Check-in desk: scan badges, find people, check them in, walk-ins and their badges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from eventapp.checkin_forms import DeskNameForm, ScanForm, WalkInForm
from eventapp.database import DatabaseBusy, write_unit
from eventapp.extensions import db
from eventapp.models import (
    Event,
    ExportKind,
    OrganiserRole,
    ParticipantRole,
    PrintJob,
    PrintJobStatus,
)
from eventapp.printing_forms import DeskSearchForm, SingleBadgeForm
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.checkin import desk as badge_desk
from eventapp.services.checkin import offline, walk_in
from eventapp.services.checkin.desk import DeskAnswer, ScanOutcome
from eventapp.services.printing import jobs as print_jobs
from eventapp.timezones import to_local, utcnow
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404
from eventapp.views.printing import send_job_pdf
from eventapp.views.registration import network_names

bp = Blueprint("checkin", __name__, url_prefix="/organisation/einlass")

# Session keys: this desk's name, its last check-in (for undo), the answer to show after a
# redirect (the page without script).
DESK_NAME = "desk_name"
LAST_CHECK_IN = "desk_last_check_in"
ANSWER = "desk_answer"


def wants_json() -> bool:
    """Tell whether the desk's script asked (it wants JSON, not a redirect)."""
    return request.accept_mimetypes.best == "application/json"


def desk_name() -> str:
    """Return the name this desk's staff gave it (empty until set)."""
    return str(session.get(DESK_NAME, ""))


def count_text(event: Event) -> dict[str, Any]:
    """Return the arrival count as numbers and as the sentence the desk shows."""
    count = badge_desk.arrival_count(event)
    return {
        "checked_in": count.checked_in,
        "expected": count.expected,
        "text": _(
            "%(done)s von %(expected)s eingecheckt", done=count.checked_in, expected=count.expected
        ),
    }


def _last_check_in(event: Event) -> dict[str, Any] | None:
    last = session.get(LAST_CHECK_IN)
    return last if last and last.get("event_id") == event.id else None


def _remember(event: Event, answer: DeskAnswer) -> None:
    """Keep the answer for the next page, and a new check-in as the one undo takes back."""
    registration = answer.registration
    session[ANSWER] = {
        "event_id": event.id,
        "outcome": str(answer.outcome),
        "registration_id": registration.id if registration else None,
        "code": answer.code,
        "other_event_id": answer.other_event.id if answer.other_event else None,
        "badge_job_id": answer.badge_job_id,
    }
    if answer.outcome == ScanOutcome.CHECKED_IN and registration is not None:
        checked_in_at = registration.checked_in_at
        session[LAST_CHECK_IN] = {
            "event_id": event.id,
            "registration_id": registration.id,
            "name": registration.full_name,
            "at": checked_in_at.isoformat() if checked_in_at else None,
        }


def _stored_answer(event: Event) -> DeskAnswer | None:
    """Rebuild the answer kept for this page view (shown once)."""
    stored = session.pop(ANSWER, None)
    if not stored or stored.get("event_id") != event.id:
        return None
    registration = None
    if stored.get("registration_id"):
        try:
            registration = badge_desk.registration_of_event(event, stored["registration_id"])
        except DomainError:
            return None
    outcome = ScanOutcome(stored["outcome"])
    workshops = (
        badge_desk.workshops_on(registration, _local_today(event))
        if registration is not None and outcome in (ScanOutcome.CHECKED_IN, ScanOutcome.ALREADY)
        else []
    )
    other = db.session.get(Event, stored["other_event_id"]) if stored["other_event_id"] else None
    return DeskAnswer(
        outcome, registration, stored.get("code", ""), other, workshops, stored.get("badge_job_id")
    )


def _local_today(event: Event) -> date:
    return to_local(utcnow(), event.timezone).date()


def _answer_response(event: Event, answer: DeskAnswer, q: str = "") -> ResponseReturnValue:
    """Answer the script with the rendered answer, or the form with a redirect to the desk."""
    if wants_json():
        return jsonify(
            outcome=str(answer.outcome),
            html=render_template("checkin/_answer.html", event=event, answer=answer),
            undo_html=render_template(
                "checkin/_undo.html", event=event, last_check_in=_last_check_in(event)
            ),
            count=count_text(event),
        )
    return redirect(url_for("checkin.desk", event_id=event.id, q=q or None) + "#scan")


def _busy(event: Event) -> ResponseReturnValue:
    """Answer a lock timeout: nothing was stored, the desk may scan again."""
    message = _("Gerade ist viel los. Bitte scannen Sie noch einmal.")
    if wants_json():
        return jsonify(outcome="busy", message=message), 503
    flash(message, "error")
    return redirect(url_for("checkin.desk", event_id=event.id) + "#scan")


@bp.route("/")
@role_required(OrganiserRole.CHECKIN)
def home() -> ResponseReturnValue:
    """Start page of the badge desk: choose the event."""
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_on.desc())).all()
    return render_template("checkin/home.html", events=events)


@bp.route("/<id:event_id>/")
@role_required(OrganiserRole.CHECKIN)
def desk(event_id: int) -> ResponseReturnValue:
    """The desk: scan field, last answer, arrival count, search by name or organisation."""
    event = event_or_404(event_id)
    form = DeskSearchForm(request.args)
    found = badge_desk.search(event, form.q.data or "") if form.validate() else []
    return render_template(
        "checkin/desk.html",
        event=event,
        form=form,
        scan_form=ScanForm(formdata=None),
        desk_form=DeskNameForm(formdata=None, data={"desk_name": desk_name()}),
        answer=_stored_answer(event),
        last_check_in=_last_check_in(event),
        count=count_text(event),
        found=found,
        searched=bool(form.q.data),
        badge_form=SingleBadgeForm(),
    )


@bp.route("/<id:event_id>/scan", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def scan(event_id: int) -> ResponseReturnValue:
    """Check in the holder of a scanned code at once, and answer what happened."""
    event = event_or_404(event_id)
    form = ScanForm()
    if not form.validate():
        if wants_json():
            return jsonify(outcome="invalid", message=_("Bitte scannen Sie einen Code.")), 400
        flash(_("Bitte scannen Sie den Code vom Namensschild."), "error")
        return redirect(url_for("checkin.desk", event_id=event.id) + "#scan")
    code, desk = form.code.data, desk_name()
    try:
        answer = write_unit(lambda: badge_desk.scan(event, code, utcnow(), desk))
    except DatabaseBusy:
        return _busy(event)
    _remember(event, answer)
    return _answer_response(event, answer)


@bp.route("/<id:event_id>/einchecken", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def check_in(event_id: int) -> ResponseReturnValue:
    """Check in a person found by the search (for people without their badge)."""
    event = event_or_404(event_id)
    registration_id = whole_number(request.form.get("registration_id"))
    if registration_id is None:
        abort(400)
    q = request.form.get("q", "")[:100]
    desk = desk_name()
    try:
        answer = write_unit(
            lambda: badge_desk.answer_for(
                badge_desk.registration_of_event(event, registration_id), utcnow(), desk
            )
        )
    except DatabaseBusy:
        return _busy(event)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("checkin.desk", event_id=event.id, q=q or None))
    _remember(event, answer)
    return _answer_response(event, answer, q)


@bp.route("/<id:event_id>/zuruecknehmen", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def undo(event_id: int) -> ResponseReturnValue:
    """Take back this desk's last check-in (a wrong badge, a mistaken button)."""
    event = event_or_404(event_id)
    last = _last_check_in(event)
    if last is None:
        message = _("Es gibt keinen Check-in zum Zurücknehmen.")
        if wants_json():
            return jsonify(outcome="invalid", message=message), 409
        flash(message, "error")
        return redirect(url_for("checkin.desk", event_id=event.id) + "#scan")
    session.pop(LAST_CHECK_IN, None)
    try:
        registration = badge_desk.registration_of_event(event, last["registration_id"])
    except DomainError as error:  # deleted meanwhile
        if wants_json():
            return jsonify(outcome="invalid", message=error.message), 409
        flash(error.message, "error")
        return redirect(url_for("checkin.desk", event_id=event.id) + "#scan")
    at = datetime.fromisoformat(last["at"]) if last.get("at") else None
    write_unit(lambda: badge_desk.undo_check_in(registration, at))
    answer = DeskAnswer(ScanOutcome.UNDONE, registration)
    _remember(event, answer)
    return _answer_response(event, answer)


@bp.route("/<id:event_id>/platz", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def set_desk_name(event_id: int) -> ResponseReturnValue:
    """Name this desk (kept for the login session), shown beside each check-in it makes."""
    event = event_or_404(event_id)
    form = DeskNameForm()
    if form.validate():
        session[DESK_NAME] = form.desk_name.data or ""
        if form.desk_name.data:
            flash(_("Dieser Platz heißt jetzt „%(name)s“.", name=form.desk_name.data), "success")
        else:
            flash(_("Der Name des Platzes ist gelöscht."), "success")
    else:
        flash(_("Bitte höchstens 60 Zeichen ohne Steuerzeichen."), "error")
    return redirect(url_for("checkin.desk", event_id=event.id) + "#scan")


@bp.route("/<id:event_id>/stand.json")
@role_required(OrganiserRole.CHECKIN)
def counts(event_id: int) -> ResponseReturnValue:
    """Return the arrival count for the desk's script (polled every few seconds)."""
    response = jsonify(count_text(event_or_404(event_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Without Wi-Fi ------------------------------------------------------------------------


@bp.route("/<id:event_id>/codes.json")
@role_required(OrganiserRole.CHECKIN)
def code_list(event_id: int) -> ResponseReturnValue:
    """Return the event's codes and names, kept by the desk's script for scans without Wi-Fi."""
    event = event_or_404(event_id)
    response = jsonify(
        event_id=event.id, fetched_at=utcnow().isoformat(), codes=offline.code_list(event)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _late_text(result: offline.LateResult) -> str:
    """Say in one line what became of a check-in sent late."""
    who = result.name or result.code
    words = {
        offline.LateOutcome.CHECKED_IN: _("eingecheckt"),
        offline.LateOutcome.ALREADY: _("war schon eingecheckt"),
        offline.LateOutcome.CANCELLED: _("Anmeldung storniert – nicht eingecheckt"),
        offline.LateOutcome.WAITLISTED: _("auf der Warteliste – nicht eingecheckt"),
        offline.LateOutcome.UNKNOWN: _("unbekannter Code – nicht eingecheckt"),
        offline.LateOutcome.OTHER_EVENT: _(
            "Namensschild einer anderen Veranstaltung – nicht eingecheckt"
        ),
        offline.LateOutcome.REFUSED: _("nicht übernommen"),
    }[result.outcome]
    text = f"{who}: {words}"
    return f"{text} ({result.message})" if result.message else text


@bp.route("/<id:event_id>/nachtraege", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def late_check_ins(event_id: int) -> ResponseReturnValue:
    """Record the check-ins a desk made offline (JSON), each at the time it was scanned."""
    event = event_or_404(event_id)
    try:
        check_ins = offline.parse_batch(request.get_json(silent=True))
    except DomainError as error:
        return jsonify(message=error.message), 400
    try:
        results = write_unit(lambda: offline.record_late_check_ins(event, check_ins, utcnow()))
    except DatabaseBusy:
        message = _("Gerade ist viel los. Die Check-ins werden gleich noch einmal übertragen.")
        return jsonify(message=message), 503
    return jsonify(
        results=[
            {"code": r.code, "outcome": str(r.outcome), "text": _late_text(r)} for r in results
        ],
        count=count_text(event),
    )


# --- Badges --------------------------------------------------------------------------------


@bp.route("/<id:event_id>/schild", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def print_badge(event_id: int) -> ResponseReturnValue:
    """Print one badge (A6 or ID-1) through the worker and show it when it is ready."""
    event = event_or_404(event_id)
    form = SingleBadgeForm()
    if not form.validate_on_submit():
        flash(_("Bitte wählen Sie ein Format."), "error")
        return redirect(url_for("checkin.desk", event_id=event.id))
    registration_id, layout = form.registration_id.data, form.layout.data
    try:
        job = write_unit(lambda: _single_badge_job(event, registration_id, layout))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("checkin.desk", event_id=event.id))
    return redirect(url_for("checkin.badge", event_id=event.id, job_id=job.id))


def _single_badge_job(event: Event, registration_id: int, layout: str) -> PrintJob:
    """Queue one person's badge for the desk, in their language."""
    registration = badge_desk.registration_of_event(event, registration_id)
    return walk_in.single_badge_job(
        event, registration, layout, registration.language or "de", current_user
    )


def _badge_job_or_404(event: Event, job_id: int) -> PrintJob:
    job = walk_in.desk_badge_job(event, job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/<id:event_id>/schilder/<id:job_id>")
@role_required(OrganiserRole.CHECKIN)
def badge(event_id: int, job_id: int) -> ResponseReturnValue:
    """Wait for a single badge; the page opens the PDF once the worker has made it."""
    event = event_or_404(event_id)
    job = _badge_job_or_404(event, job_id)
    if job.status == PrintJobStatus.DONE and print_jobs.job_file(job) is not None:
        return redirect(url_for("checkin.badge_file", event_id=event.id, job_id=job.id))
    return render_template("checkin/badge.html", event=event, job=job)


@bp.route("/<id:event_id>/schilder/<id:job_id>.json")
@role_required(OrganiserRole.CHECKIN)
def badge_status(event_id: int, job_id: int) -> ResponseReturnValue:
    """Tell the waiting page's script whether the badge is ready."""
    event = event_or_404(event_id)
    job = _badge_job_or_404(event, job_id)
    response = jsonify(
        status=str(job.status),
        error=job.error or "",
        file=url_for("checkin.badge_file", event_id=event.id, job_id=job.id)
        if job.status == PrintJobStatus.DONE
        else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<id:event_id>/schilder/<id:job_id>/datei")
@role_required(OrganiserRole.CHECKIN)
def badge_file(event_id: int, job_id: int) -> ResponseReturnValue:
    """Show a single badge's PDF in the browser, ready to print."""
    event = event_or_404(event_id)
    job = _badge_job_or_404(event, job_id)
    name = f"namensschild-{job.id}.pdf"
    return send_job_pdf(event, job, ExportKind.SINGLE_BADGE, name, as_attachment=False, row_count=1)


# --- Walk-ins ------------------------------------------------------------------------------


def _walk_in_page(event: Event, form: WalkInForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "checkin/walk_in.html", event=event, form=form, network_names=network_names()
        ),
        status,
    )


def _prepare_walk_in(form: WalkInForm, event: Event) -> WalkInForm:
    """Offer the workshops that still have a free seat."""
    form.activity.choices = [
        SelectChoice("", _("keinen")),
        *(
            SelectChoice(
                str(a.id),
                _("%(title)s (%(free)s frei)", title=a.title, free=a.seats_left)
                if a.seats_left is not None
                else a.title,
            )
            for a in walk_in.workshops_with_seats(event)
        ),
    ]
    form.network.render_kw = {"list": "network-list", "autocomplete": "off"}
    return form


@bp.route("/<id:event_id>/spontan", methods=["GET", "POST"])
@role_required(OrganiserRole.CHECKIN)
def walk_in_form(event_id: int) -> ResponseReturnValue:
    """Register a walk-in in under a minute: checked in at once, badge printed by the worker."""
    event = event_or_404(event_id)
    form = _prepare_walk_in(WalkInForm(), event)
    if request.method in {"GET", "HEAD"}:
        return _walk_in_page(event, form)
    if not form.validate():
        return _walk_in_page(event, form, 400)
    from eventapp.views.registration import resolve_network

    network_ok, network_id = resolve_network(form)  # type: ignore[arg-type]
    activity = form.activity.data or ""
    activity_id = whole_number(activity)
    if not network_ok or (activity and activity_id is None):
        return _walk_in_page(event, form, 400)
    person = walk_in.WalkIn(
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        organisation=form.organisation.data,
        email=form.email.data or "",
        network_id=network_id,
        role=ParticipantRole(form.role.data),
        language=form.lang.data,
        privacy_consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
    )
    desk, layout = desk_name(), form.layout.data
    try:
        result = write_unit(
            lambda: walk_in.register_walk_in(
                event,
                person,
                activity_id,
                when=utcnow(),
                desk=desk,
                layout=layout,
                organiser=current_user,
            )
        )
    except DatabaseBusy:
        flash(_("Gerade ist viel los. Ihre Eingaben sind erhalten – bitte noch einmal."), "error")
        return _walk_in_page(event, _prepare_walk_in(form, event), 503)
    except DomainError as error:
        target = getattr(form, error.field, None) if error.field else None
        if target is not None:
            target.errors = [*target.errors, error.message]
        else:
            flash(error.message, "error")
        return _walk_in_page(event, _prepare_walk_in(form, event), 400)
    registration = result.registration
    _remember(
        event, DeskAnswer(ScanOutcome.CHECKED_IN, registration, badge_job_id=result.badge_job.id)
    )
    return redirect(url_for("checkin.desk", event_id=event.id) + "#scan")
