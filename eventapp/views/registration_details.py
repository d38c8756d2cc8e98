"""A registered person corrects their own details through the private manage link."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from eventapp.database import DatabaseBusy, write_unit
from eventapp.extensions import csrf
from eventapp.forms import DetailsForm
from eventapp.models import Registration, RegistrationStatus
from eventapp.services import DomainError
from eventapp.services.registration import registrations as service
from eventapp.views.lookups import published_event_or_404
from eventapp.views.registration import (
    error_target,
    network_names,
    participant_from,
    prepare_form,
    registration_or_404,
    resolve_network,
)

bp = Blueprint("registration_details", __name__)
# The form checks its own token, so an expired one shows the form again with the input kept.
csrf.exempt(bp)


def _form_for(registration: Registration) -> DetailsForm:
    """Return the details form, filled from the registration unless something was sent."""
    form = prepare_form(DetailsForm(obj=registration), ())
    if not form.is_submitted():
        form.network.data = registration.network.name if registration.network else ""
    return form


@bp.route("/<slug>/verwalten/<token>/angaben", methods=["GET", "POST"])
def edit(slug: str, token: str) -> ResponseReturnValue:
    """Show the person's details in a form and store their corrections."""
    event = published_event_or_404(slug)
    registration = registration_or_404(event, token)
    form = _form_for(registration)
    errors: list[str] = []
    status = 200
    if registration.status == RegistrationStatus.CANCELLED:
        errors = [_("Diese Anmeldung ist storniert; ihre Angaben lassen sich nicht mehr ändern.")]
        status = 409 if form.is_submitted() else 200
    elif form.is_submitted():
        status = 400
        valid = form.validate()
        network_ok, network_id = resolve_network(form)
        if valid and network_ok:
            participant = participant_from(form, network_id, registration)
            try:
                reprint = write_unit(
                    lambda: service.correct_details(registration, participant, token)
                )
            except DomainError as error:
                errors = error_target(form, error).get("extra_errors", [])
                status = 503 if isinstance(error, DatabaseBusy) else 400
            else:
                message = _("Ihre Angaben sind gespeichert.")
                if reprint:
                    message += " " + _("Ihr Namensschild wird mit den neuen Angaben gedruckt.")
                flash(message, "success")
                return redirect(url_for("registration.manage", slug=slug, token=token))
    response = Response(
        render_template(
            "registration/details.html",
            event=event,
            registration=registration,
            form=form,
            errors=errors,
            networks=network_names(),
            token=token,
        ),
        status=status,
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
