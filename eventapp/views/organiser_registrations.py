"""Organiser pages for registrations: lists, waiting lists, edit, promote, cancel, export."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from eventapp.database import end_read_phase, write_unit
from eventapp.extensions import client_address, db
from eventapp.forms import Form, OrganiserRegistrationForm
from eventapp.labels import (
    FEDERAL_STATES,
    PARTICIPANT_ROLE_LABELS,
    REGISTRATION_STATUS_LABELS,
)
from eventapp.models import (
    Activity,
    Enrolment,
    Event,
    ExportKind,
    Network,
    OrganiserRole,
    ParticipantRole,
    Registration,
    RegistrationStatus,
)
from eventapp.organiser_forms import OrganiserCancelForm
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.audit import export_log
from eventapp.services.registration import cancellation, list_pages, lists
from eventapp.services.registration import registrations as service
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404
from eventapp.views.registration import participant_from, prepare_form, resolve_network
from eventapp.views.registration_helpers import held_activity_ids, read_choices, slot_groups

bp = Blueprint(
    "organiser_registrations",
    __name__,
    url_prefix="/organisation/veranstaltungen/<id:event_id>/anmeldungen",
)

# The list's query parameters: its filter (carried over to the export links) and its order.
FILTER_NAMES = ("q", "netzwerk", "land", "rolle", "angebot", "status")


def read_filter(source: Mapping[str, str] | None = None) -> lists.RegistrationFilter:
    """Read the list filter from the query string or a form (odd values are ignored)."""
    args = request.args if source is None else source

    def number(name: str) -> int | None:
        return whole_number(args.get(name))

    return lists.RegistrationFilter(
        text=args.get("q", "").strip()[:100],
        network_id=number("netzwerk"),
        state=args.get("land", "") if args.get("land", "") in FEDERAL_STATES else "",
        role=args.get("rolle", "") if args.get("rolle", "") in set(ParticipantRole) else "",
        activity_id=number("angebot"),
        status=args.get("status", "") if args.get("status", "") in set(RegistrationStatus) else "",
    )


def read_order(source: Mapping[str, str] | None = None) -> list_pages.ListOrder:
    """Read sort, direction, page and page size; odd values give the first page by name."""
    args = request.args if source is None else source
    sort = args.get("sortierung", "")
    per_page = whole_number(args.get("pro_seite"))
    return list_pages.ListOrder(
        sort=sort if sort in list_pages.SORTS else list_pages.DEFAULT_SORT,
        descending=args.get("richtung") == "ab",
        page=whole_number(args.get("seite")) or 1,
        per_page=per_page if per_page in list_pages.PAGE_SIZES else list_pages.DEFAULT_PAGE_SIZE,
    )


def list_args(
    wanted: lists.RegistrationFilter, order: list_pages.ListOrder
) -> dict[str, str | int]:
    """Return the query parameters that show this filter in this order (defaults left out)."""
    values: dict[str, str | int | None] = {
        "q": wanted.text,
        "netzwerk": wanted.network_id,
        "land": wanted.state,
        "rolle": wanted.role,
        "angebot": wanted.activity_id,
        "status": wanted.status,
        "sortierung": order.sort if order.sort != list_pages.DEFAULT_SORT else None,
        "richtung": "ab" if order.descending else None,
        "pro_seite": order.per_page if order.per_page != list_pages.DEFAULT_PAGE_SIZE else None,
    }
    return {name: value for name, value in values.items() if value not in ("", None)}


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def index(event_id: int) -> ResponseReturnValue:
    """List, search, filter, sort and page the event's registrations; select some for an action."""
    event = event_or_404(event_id)
    wanted = read_filter()
    shown = list_pages.list_page(event, wanted, read_order())
    networks = db.session.execute(sa.select(Network.id, Network.name).order_by(Network.name)).all()
    state = list_args(wanted, shown.order)
    return render_template(
        "organiser/registrations/index.html",
        event=event,
        wanted=wanted,
        shown=shown,
        registrations=shown.registrations,
        state=state,
        sort_state={k: v for k, v in state.items() if k not in ("sortierung", "richtung")},
        size_state={k: v for k, v in state.items() if k != "pro_seite"},
        page_sizes=list_pages.PAGE_SIZES,
        networks=networks,
        states=FEDERAL_STATES,
        activities=lists.activity_overview(event),
        confirmed=service.confirmed_count(event),
        filter_args={name: request.args[name] for name in FILTER_NAMES if request.args.get(name)},
        # Translated once for the page, not once a row.
        role_names={role: str(label) for role, label in PARTICIPANT_ROLE_LABELS.items()},
        status_names={status: str(label) for status, label in REGISTRATION_STATUS_LABELS.items()},
    )


@bp.route("/export.<kind>")
@role_required(OrganiserRole.STAFF)
def export(event_id: int, kind: str) -> ResponseReturnValue:
    """Download the (filtered) registrations as CSV or XLSX; the export log keeps a note of it."""
    event = event_or_404(event_id)
    if kind not in {"csv", "xlsx"}:
        abort(404)
    found = lists.search(event, read_filter())
    rows = lists.export_rows(event, found)
    if kind == "csv":
        body, content_type = lists.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = lists.to_xlsx(rows, _("Anmeldungen"))
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    end_read_phase(db.session)
    write_unit(
        lambda: export_log.record_export(
            current_user._get_current_object(),
            ExportKind.REGISTRATIONS_CSV if kind == "csv" else ExportKind.REGISTRATIONS_XLSX,
            client_address(),
            event,
            row_count=len(found),
            detail=request.query_string.decode("utf-8", "replace"),
        )
    )
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{event.slug}-anmeldungen.{kind}"'
    )
    return response


@bp.route("/angebote/<id:activity_id>/anwesenheit.<kind>")
@role_required(OrganiserRole.STAFF)
def attendance_export(event_id: int, activity_id: int, kind: str) -> ResponseReturnValue:
    """Download one workshop's list with who came and when; the export log keeps a note of it."""
    event = event_or_404(event_id)
    item = activity_or_404(event, activity_id)
    if kind not in {"csv", "xlsx"}:
        abort(404)
    rows = lists.activity_attendance_rows(event, item)
    if kind == "csv":
        body, content_type = lists.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = lists.to_xlsx(rows, _("Anwesenheit"))
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    end_read_phase(db.session)
    write_unit(
        lambda: export_log.record_export(
            current_user._get_current_object(),
            ExportKind.ATTENDANCE_CSV if kind == "csv" else ExportKind.ATTENDANCE_XLSX,
            client_address(),
            event,
            row_count=len(rows) - 1,
            detail=f"{item.title} ({item.id})",
        )
    )
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{event.slug}-anwesenheit-{item.id}.{kind}"'
    )
    return response


@bp.route("/angebote")
@role_required(OrganiserRole.STAFF)
def activities(event_id: int) -> ResponseReturnValue:
    """Show each workshop's seats, confirmed count and waiting list length."""
    event = event_or_404(event_id)
    return render_template(
        "organiser/registrations/activities.html",
        event=event,
        rows=lists.activity_overview(event),
        networks=lists.network_usage(event),
    )


def activity_or_404(event: Event, activity_id: int) -> Activity:
    """Return the event's activity or answer 404."""
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.event_id != event.id:
        abort(404)
    return activity


@bp.route("/angebote/<id:activity_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def activity(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Show an activity's confirmed list and waiting list; promote or change the capacity."""
    event = event_or_404(event_id)
    item = activity_or_404(event, activity_id)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not Form().validate():
            errors.append(_("Das Formular war abgelaufen. Bitte versuchen Sie es noch einmal."))
        else:
            try:
                message = write_unit(lambda: _activity_action(item))
                flash(message, "success")
                return redirect(request.path)
            except DomainError as error:
                errors.append(error.message)
        status = 400
        item = activity_or_404(event, activity_id)
    confirmed, waiting = lists.activity_lines(item)
    return render_template(
        "organiser/registrations/activity.html",
        event=event,
        activity=item,
        confirmed=confirmed,
        waiting=waiting,
        errors=errors,
        capacity_value=request.form.get("capacity", item.capacity if item.capacity else ""),
    ), status


def _activity_action(item: Activity) -> str:
    """Run the posted action on an activity and return the success message."""
    action = request.form.get("action", "")
    if action == "promote":
        enrolment_id = whole_number(request.form.get("enrolment_id"))
        enrolment = db.session.get(Enrolment, enrolment_id) if enrolment_id is not None else None
        if enrolment is None or enrolment.activity_id != item.id:
            raise DomainError(_("Diese Person steht nicht auf der Warteliste."))
        service.promote_by_hand(enrolment)
        return _("%(name)s ist nachgerückt.", name=enrolment.registration.full_name)
    if action == "capacity":
        value = request.form.get("capacity", "").strip()
        capacity = whole_number(value)
        if value and (capacity is None or capacity > 1_000_000):
            raise DomainError(
                _("Bitte geben Sie eine ganze Zahl ab 0 ein oder lassen Sie das Feld leer."),
                field="capacity",
            )
        promoted = service.change_capacity(item, capacity)
        return _(
            "Kapazität gespeichert; %(count)s Person(en) sind nachgerückt.", count=len(promoted)
        )
    raise DomainError(_("Diese Aktion gibt es nicht."))


def registration_or_404(event: Event, registration_id: int) -> Registration:
    """Return the event's registration or answer 404."""
    registration = db.session.scalar(
        sa.select(Registration)
        .where(Registration.id == registration_id, Registration.event_id == event.id)
        .options(selectinload(Registration.enrolments).selectinload(Enrolment.activity))
    )
    if registration is None:
        abort(404)
    return registration


def _render_edit(
    event: Event,
    form: OrganiserRegistrationForm,
    registration: Registration | None,
    chosen: set[int],
    errors: list[str],
    status: int,
) -> ResponseReturnValue:
    from eventapp.views.registration import network_names

    return render_template(
        "organiser/registrations/edit.html",
        event=event,
        form=form,
        registration=registration,
        slots=slot_groups(event, held_activity_ids(registration)),
        chosen=chosen,
        choice_errors=errors,
        networks=network_names(),
    ), status


@bp.route("/neu", methods=["GET", "POST"])
@bp.route("/<id:registration_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def edit(event_id: int, registration_id: int | None = None) -> ResponseReturnValue:
    """Register someone on their behalf (no limits) or edit a registration."""
    event = event_or_404(event_id)
    registration = (
        registration_or_404(event, registration_id) if registration_id is not None else None
    )
    form = prepare_form(
        OrganiserRegistrationForm(obj=registration if request.method == "GET" else None),
        tuple(ParticipantRole),
    )
    chosen = {
        e.activity_id
        for e in (registration.enrolments if registration else [])
        if e.status in service.ACTIVE
    }
    if request.method in {"GET", "HEAD"}:
        if registration is not None:
            form.network.data = registration.network.name if registration.network else ""
            form.role.data = str(registration.role)
            form.privacy_consent.data = True
        return _render_edit(event, form, registration, chosen, [], 200)
    chosen, errors = read_choices(request.form)
    valid = form.validate()
    network_ok, network_id = resolve_network(form)
    if not valid or not network_ok or errors:
        return _render_edit(event, form, registration, chosen, errors, 400)
    person = participant_from(form, network_id)
    notes = form.organiser_notes.data or ""
    try:
        registration, reprint = write_unit(
            lambda: _save_registration(event, registration, person, chosen, notes)
        )
    except DomainError as error:
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [error.message]
            return _render_edit(event, form, registration, chosen, [], 400)
        return _render_edit(event, form, registration, chosen, [error.message], 400)
    flash(_("Die Anmeldung von %(name)s ist gespeichert.", name=registration.full_name), "success")
    if reprint:
        flash(_("Das Namensschild kommt mit den geänderten Angaben in den nächsten Druck."), "info")
    return redirect(url_for(".edit", event_id=event.id, registration_id=registration.id))


def _save_registration(
    event: Event,
    registration: Registration | None,
    person: service.Participant,
    chosen: set[int],
    notes: str,
) -> tuple[Registration, bool]:
    """Register someone or store changes; return the registration and whether to reprint."""
    reprint = False
    if registration is None:
        registration = service.register(event, person, chosen, by_organiser=True).registration
    else:
        printed = registration.badge_printed_at is not None
        service.update_details(registration, person)
        service.change_choices(registration, chosen)
        reprint = printed and registration.badge_printed_at is None
    registration.organiser_notes = notes
    return registration, reprint


@bp.route("/<id:registration_id>/stornieren", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def cancel(event_id: int, registration_id: int) -> ResponseReturnValue:
    """Show what cancelling frees and who moves up; cancel once confirmed, with a reason."""
    event = event_or_404(event_id)
    registration = registration_or_404(event, registration_id)
    form = OrganiserCancelForm()
    if registration.status == RegistrationStatus.CANCELLED and form.is_submitted():
        flash(_("Diese Anmeldung ist bereits storniert."), "info")
        return redirect(url_for(".edit", event_id=event.id, registration_id=registration.id))
    if form.validate_on_submit():
        reason = form.reason.data or ""
        write_unit(lambda: cancellation.cancel_for_organisers(registration, reason))
        flash(
            _(
                "Die Anmeldung von %(name)s ist storniert; die Person bekommt eine E-Mail.",
                name=registration.full_name,
            ),
            "success",
        )
        return redirect(url_for(".index", event_id=event.id))
    return render_template(
        "organiser/registrations/cancel.html",
        event=event,
        registration=registration,
        form=form,
        preview=cancellation.cancellation_preview(registration),
    ), 400 if form.is_submitted() else 200
