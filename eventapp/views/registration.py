"""Public registration: sign up, confirmation, private manage page, data copy, lost link."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import TooManyRequests
from wtforms.fields.choices import SelectChoice

from eventapp import page_cache
from eventapp.database import DatabaseBusy, end_read_phase, read_only, write_unit
from eventapp.extensions import csrf, db, limiter
from eventapp.forms import ConfirmCancelForm, Form, RegistrationForm, ResendLinkForm
from eventapp.languages import visitor_language
from eventapp.models import Event, Network, ParticipantRole, Registration, RegistrationStatus
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.programme.published import published_event_stamp
from eventapp.services.registration import registrations as service
from eventapp.services.registration import signup
from eventapp.services.registration.data_copy import data_copy
from eventapp.services.registration.links import calendar_token_shown
from eventapp.views.lookups import published_event_or_404
from eventapp.views.registration_helpers import (
    choice_rows,
    day_position,
    held_activity_ids,
    read_choices,
    slot_groups,
)
from eventapp.views.seat_marks import fill_seats, form_version, seat_mark

bp = Blueprint("registration", __name__)
# Every POST here is checked by its FlaskForm, so an expired token re-renders the form with
# the input kept instead of answering with a bare 400.
csrf.exempt(bp)

PUBLIC_ROLES = (ParticipantRole.PARTICIPANT, ParticipantRole.SPEAKER, ParticipantRole.PRESS)
SESSION_KEY = "registered"


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def participant_from(
    form: RegistrationForm, network_id: int | None, registered: Registration | None = None
) -> service.Participant:
    """Turn a validated form into the service's plain values.

    For a form without address and role (a registered person correcting their details), those
    and the consent version come from the registration.
    """
    if registered is not None:
        email, role = registered.email, ParticipantRole(registered.role)
        consent_version = registered.privacy_consent_version
    else:
        email, role = form.email.data, ParticipantRole(form.role.data)
        consent_version = current_app.config["PRIVACY_NOTICE_VERSION"]
    return service.Participant(
        salutation=form.salutation.data or "",
        title=form.title.data or "",
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        organisation=form.organisation.data or "",
        network_id=network_id,
        state=form.state.data,
        email=email,
        role=role,
        language=form.language.data,
        accessibility_needs=form.accessibility_needs.data or "",
        dietary_wishes=form.dietary_wishes.data or "",
        photo_consent=bool(form.photo_consent.data),
        privacy_consent_version=consent_version,
    )


def prepare_form(form: RegistrationForm, roles: tuple[ParticipantRole, ...]) -> RegistrationForm:
    """Fill the select boxes of a registration form."""
    from eventapp.labels import FEDERAL_STATES, PARTICIPANT_ROLE_LABELS

    form.state.choices = [
        SelectChoice("", _("Bitte wählen")),
        *(SelectChoice(s, s) for s in FEDERAL_STATES),
        SelectChoice("Ausland", _("anderes Land")),
    ]
    if form.role is not None:
        form.role.choices = [SelectChoice(r.value, str(PARTICIPANT_ROLE_LABELS[r])) for r in roles]
    form.network.render_kw = {"list": "network-list", "autocomplete": "off"}
    if not form.is_submitted():
        form.language.data = form.language.data or session.get("lang") or "de"
    return form


def network_names() -> list[str]:
    """Return all network names for the searchable list."""
    return list(db.session.scalars(sa.select(Network.name).order_by(Network.name)))


def resolve_network(form: RegistrationForm) -> tuple[bool, int | None]:
    """Map the typed network name to its id; "" means none / other (after form.validate())."""
    name = (form.network.data or "").strip()
    if not name:
        return True, None
    if form.network.errors:
        return False, None  # the field says why (a NUL could not even be looked up)
    network_id = db.session.scalar(sa.select(Network.id).where(Network.name == name))
    if network_id is None:
        form.network.errors = [
            *form.network.errors,
            _("Bitte wählen Sie ein Netzwerk aus der Liste oder lassen Sie das Feld leer."),
        ]
        return False, None
    return True, network_id


def render_form(
    event: Event,
    form: RegistrationForm,
    *,
    chosen: set[int] | None = None,
    choice_errors: list[str] | None = None,
    extra_errors: list[str] | None = None,
    status: int = 200,
    seat_mark: object = None,
) -> ResponseReturnValue:
    """Render the registration form (again) with what the person typed."""
    slots = slot_groups(event)
    return (
        render_template(
            "registration/form.html",
            event=event,
            form=form,
            slots=slots,
            chosen=chosen or set(),
            choice_errors=choice_errors or [],
            extra_errors=extra_errors or [],
            networks=network_names(),
            window=service.registration_window_state(event),
            **({"seat_mark": seat_mark} if seat_mark else {}),
        ),
        status,
    )


def form_page(slug: str, wanted: int | None) -> str:
    """Render the empty form from its copy kept per programme version, seats filled in now.

    The event itself is loaded only when the form has to be rendered anew.
    """
    version = form_version(slug)
    if version is None:
        abort(404)
    stamp, seats = version.stamp, version.seats
    key = (
        "registration-form",
        stamp.own,
        tuple(activity_id for activity_id, _capacity, _taken in seats),
        version.networks,
        service.registration_window_state(stamp),
        visitor_language(),
        session.get("lang"),
        wanted,
    )

    def render() -> str:
        event = published_event_or_404(slug)
        form = prepare_form(RegistrationForm(), PUBLIC_ROLES)
        chosen = {wanted} if wanted is not None else set()
        return str(render_form(event, form, chosen=chosen, seat_mark=seat_mark)[0])

    return fill_seats(page_cache.page(key, render), stamp.is_full, seats)


@bp.route("/<slug>/anmeldung", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register(slug: str) -> ResponseReturnValue:
    """Show the registration form and register a person."""
    if request.method in {"GET", "HEAD"}:
        return form_page(slug, whole_number(request.args.get("waehlen")))
    # Everything that only reads runs before the write unit, so the write lock
    # (SQLite: BEGIN IMMEDIATE) is held just for the seat claims and inserts. The event's
    # stamp is all the registration reads of it; the form is shown again from the event.
    with read_only():
        event = published_event_stamp(slug)
        if event is None:
            abort(404)
        form = prepare_form(RegistrationForm(), PUBLIC_ROLES)
        if service.registration_window_state(event) != "open":
            return render_form(published_event_or_404(slug), form, status=400)
        chosen, choice_errors = read_choices(request.form)
        valid = form.validate()
        network_ok, network_id = resolve_network(form)
        if form.homepage.data:
            return render_form(
                published_event_or_404(slug),
                form,
                chosen=chosen,
                extra_errors=[
                    _(
                        "Das Feld „Bitte dieses Feld leer lassen“ muss leer sein. "
                        "Nichts wurde gespeichert."
                    )
                ],
                status=400,
            )
        if not valid or not network_ok or choice_errors:
            return render_form(
                published_event_or_404(slug),
                form,
                chosen=chosen,
                choice_errors=choice_errors,
                status=400,
            )
        participant = participant_from(form, network_id)
        end_read_phase(db.session())
    email = participant.email
    try:
        write_unit(lambda: signup.register_or_send_link(event, participant, chosen))
    except DomainError as error:
        # DatabaseBusy: another writer held the lock too long. Either way nothing was stored:
        # the form comes again, as it was sent.
        with read_only():
            return render_form(
                published_event_or_404(slug),
                form,
                chosen=chosen,
                **error_target(form, error),
                status=503 if isinstance(error, DatabaseBusy) else 400,
            )
    except IntegrityError:
        # The same address registered at the very same moment in another request: it is
        # registered now, so it gets its link, and the answer is the one every address gets.
        write_unit(lambda: service.request_manage_link_later(event, email, registered_again=True))
    # A new and an already registered address get the same answer: the same redirect, the same
    # cookie, the same page. What differs (confirmed, waiting list, the link) goes by mail.
    session[SESSION_KEY] = {"event": slug}
    return redirect(url_for("registration.confirmation", slug=slug))


def error_target(form: RegistrationForm, error: DomainError) -> dict[str, list[str]]:
    """Put a service message next to its field, into the choice box, or on top."""
    if error.field == "activities":
        return {"choice_errors": [error.message]}
    field = getattr(form, error.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
        return {}
    return {"extra_errors": [error.message]}


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> ResponseReturnValue:
    """Keep the form and say how long to wait when the rate limit is reached."""
    if request.endpoint != "registration.register" or not request.view_args:
        return render_template(
            "errors/error.html",
            status=429,
            title=_("Zu viele Versuche"),
            message=_("Bitte warten Sie eine Minute und versuchen Sie es dann noch einmal."),
        ), 429
    event = published_event_or_404(request.view_args["slug"])
    form = prepare_form(RegistrationForm(), PUBLIC_ROLES)
    chosen, _errors = read_choices(request.form)
    message = _(
        "Von Ihrem Anschluss kamen gerade sehr viele Anmeldungen. Ihre Eingaben sind erhalten; "
        "bitte warten Sie eine Minute und senden Sie das Formular dann noch einmal."
    )
    return render_form(event, form, chosen=chosen, extra_errors=[message], status=429)


@bp.route("/<slug>/anmeldung/bestaetigt")
def confirmation(slug: str) -> ResponseReturnValue:
    """Say the registration was received and that its details come by mail.

    The page is the same whether the address was new or already registered, so it shows
    nothing of the registration: its status, choices and private link are in the mail.
    """
    stamp = published_event_stamp(slug)
    if stamp is None:
        abort(404)
    stored = session.get(SESSION_KEY) or {}
    if stored.get("event") != slug:
        return redirect(url_for("registration.register", slug=slug))
    return page_cache.page(
        ("registration-confirmation", stamp.own, visitor_language()),
        lambda: render_template(
            "registration/confirmation.html", event=published_event_or_404(slug)
        ),
    )


def registration_or_404(event: Event, token: str) -> Registration:
    """Return the registration behind a manage link, or answer 404."""
    registration = service.find_by_token(event, token)
    if registration is None:
        abort(404)
    return registration


@bp.route("/<slug>/verwalten/<token>", methods=["GET", "POST"])
def manage(slug: str, token: str) -> ResponseReturnValue:
    """Let the person see, change or cancel their registration through the private link."""
    event = published_event_or_404(slug)
    registration = registration_or_404(event, token)
    cancel_form = ConfirmCancelForm(prefix="cancel", meta={"csrf": False})
    choice_errors: list[str] = []
    chosen = {e.activity_id for e in registration.enrolments if e.status in service.ACTIVE}
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            outcome = _manage_action(registration, token, action, cancel_form)
        except DomainError as error:
            choice_errors = [error.message]
            chosen, _errors = read_choices(request.form)
            status = 503 if isinstance(error, DatabaseBusy) else 400
        else:
            status = 400
            if outcome is not None:
                if outcome[0]:
                    flash(outcome[1], "success")
                    return redirect(url_for("registration.manage", slug=slug, token=token))
                choice_errors = [outcome[1]]
                chosen, _errors = read_choices(request.form)
        registration = registration_or_404(event, token)
    response = Response(
        render_template(
            "registration/manage.html",
            event=event,
            registration=registration,
            rows=choice_rows(registration),
            slots=slot_groups(event, held_activity_ids(registration)),
            chosen=chosen,
            choice_errors=choice_errors,
            cancel_form=cancel_form,
            day_position=day_position(registration),
            token=token,
            calendar_token=calendar_token_shown(registration, token),
            cancelled=registration.status == RegistrationStatus.CANCELLED,
        ),
        status=status,
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _manage_action(
    registration: Registration, token: str, action: str, cancel_form: ConfirmCancelForm
) -> tuple[bool, str] | None:
    """Run one manage-page action; return (done, message), or None if the form shows errors."""
    if not Form().validate():  # checks the form token only
        return (
            False,
            _(
                "Das Formular war abgelaufen. Ihre Auswahl ist erhalten – bitte senden Sie es "
                "noch einmal."
            ),
        )
    if action == "change":
        chosen, errors = read_choices(request.form)
        if errors:
            return False, errors[0]
        write_unit(lambda: service.change_choices(registration, chosen, token))
        return True, _("Ihre Auswahl ist gespeichert. Sie bekommen eine Bestätigung per E-Mail.")
    if action == "drop":
        activity_id = whole_number(request.form.get("activity_id"))
        if activity_id is None:
            return False, _("Bitte wählen Sie aus, was Sie absagen möchten.")
        write_unit(lambda: service.cancel_enrolment(registration, activity_id, token))
        return True, _("Der Platz ist freigegeben. Vielen Dank, dass Sie abgesagt haben.")
    if action == "cancel":
        if not cancel_form.validate():
            return None
        write_unit(lambda: service.cancel_registration(registration))
        return True, _("Ihre Anmeldung ist storniert. Sie bekommen eine Bestätigung per E-Mail.")
    return False, _("Diese Aktion gibt es nicht.")


@bp.route("/<slug>/verwalten/<token>/daten.json")
def data_download(slug: str, token: str) -> ResponseReturnValue:
    """Give the person a copy of every stored detail about them (GDPR Art. 15/20)."""
    event = published_event_or_404(slug)
    registration = registration_or_404(event, token)
    body = json.dumps(data_copy(registration), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{event.slug}-meine-daten.json"'
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<slug>/link-anfordern", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def resend_link(slug: str) -> ResponseReturnValue:
    """Send the private link again; the answer is the same whether the address is known or not."""
    event = published_event_or_404(slug)
    form = ResendLinkForm()
    if form.validate_on_submit():
        write_unit(lambda: service.request_manage_link_later(event, form.email.data))
        flash(
            _(
                "Wenn diese Adresse für die Veranstaltung angemeldet ist, haben wir den Link "
                "gerade dorthin geschickt. Bitte sehen Sie auch im Spam-Ordner nach."
            ),
            "success",
        )
        return redirect(url_for("registration.resend_link", slug=event.slug))
    status = 400 if form.errors else 200
    return render_template("registration/resend.html", event=event, form=form), status


@bp.app_context_processor
def registration_helpers() -> dict[str, object]:
    """Let the public pages' registration boxes ask whether registration is open."""
    return {"registration_window": service.registration_window_state}
