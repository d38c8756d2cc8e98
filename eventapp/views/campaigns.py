"""Organiser pages for campaigns (Rundmails): list with progress, write, preview, test, send."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from eventapp.campaign_forms import CampaignForm
from eventapp.database import write_unit
from eventapp.extensions import db
from eventapp.models import Event, MailCampaign, OrganiserRole
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.mail import campaign_segments as segments
from eventapp.services.mail import campaign_text
from eventapp.services.mail import campaigns as service
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404

bp = Blueprint(
    "campaigns", __name__, url_prefix="/organisation/veranstaltungen/<id:event_id>/rundmails"
)
# Most people offered in the preview's choice of recipient.
PREVIEW_CHOICES = 200
# Most registrations a selection from the list may carry.
MAX_SELECTED = 5000
ACTIONS = {"vorschau", "testmail", "pruefen", "senden"}


def campaign_or_404(event: Event, campaign_id: int) -> MailCampaign:
    """Return the event's campaign with this id, or answer 404."""
    campaign = db.session.get(MailCampaign, campaign_id)
    if campaign is None or campaign.event_id != event.id:
        abort(404)
    return campaign


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def index(event_id: int) -> ResponseReturnValue:
    """List the event's campaigns with how far each has got."""
    event = event_or_404(event_id)
    campaigns = service.event_campaigns(event)
    return render_template(
        "campaigns/index.html",
        event=event,
        campaigns=campaigns,
        progress=service.progress(campaigns),
    )


@bp.route("/<id:campaign_id>")
@role_required(OrganiserRole.STAFF)
def show(event_id: int, campaign_id: int) -> ResponseReturnValue:
    """Show one campaign: its text, who sent it to whom, and its progress."""
    event = event_or_404(event_id)
    campaign = campaign_or_404(event, campaign_id)
    progress = service.progress([campaign])[campaign.id]
    return render_template(
        "campaigns/show.html",
        event=event,
        campaign=campaign,
        progress=progress,
        running=progress.pending > 0,
    )


def read_selection() -> tuple[list[int], bool]:
    """Return the registration ids sent as `auswahl`, and whether any entry was not an id."""
    raw = request.form.getlist("auswahl")[: MAX_SELECTED + 1]
    ids = [whole_number(value) for value in raw]
    chosen = sorted({i for i in ids if i is not None})
    return chosen[:MAX_SELECTED], any(i is None for i in ids) or len(raw) > MAX_SELECTED


def prepare(form: CampaignForm, event: Event, selected: list[int]) -> None:
    """Fill the choices that depend on the event."""
    form.activity.choices = [("", _("– bitte wählen –"))] + [
        (str(a.id), a.title) for a in segments.segment_activities(event)
    ]
    form.network.choices = [("", _("– bitte wählen –"))] + [
        (str(n.id), n.name) for n in segments.segment_networks(event)
    ]
    choices = [c for c in form.segment.choices if c.value != "selected"]  # type: ignore[union-attr]
    if selected:
        label = _("Ausgewählte Anmeldungen (%(count)s)", count=len(selected))
        choices.append(SelectChoice("selected", label))
    form.segment.choices = choices


def segment_from(form: CampaignForm, selected: list[int]) -> segments.Segment:
    """Return the segment the form describes (checked against the event by the service)."""
    return segments.Segment(
        kind=form.segment.data or "",
        activity_id=whole_number(form.activity.data),
        network_id=whole_number(form.network.data),
        role=form.role.data or "",
        selected=tuple(selected),
    )


def draft_from(form: CampaignForm) -> service.Draft:
    """Return what the organiser wrote, with the browser's CRLF line ends made plain."""
    body = (form.body.data or "").replace("\r\n", "\n").replace("\r", "\n")
    return service.Draft(form.subject.data or "", body, form.language.data or "de")


def _render_form(
    event: Event,
    form: CampaignForm,
    selected: list[int],
    status: int = 200,
    **extra: object,
) -> ResponseReturnValue:
    return (
        render_template(
            "campaigns/form.html",
            event=event,
            form=form,
            selected=selected,
            placeholders=campaign_text.PLACEHOLDERS,
            **extra,
        ),
        status,
    )


@bp.route("/neu", methods=["GET", "POST"], endpoint="new")
@role_required(OrganiserRole.STAFF)
def new(event_id: int) -> ResponseReturnValue:
    """Write a campaign: preview it for one person, mail a test to oneself, confirm and send.

    A POST without an action (from the registration list's "E-Mail an Ausgewählte") only opens
    the form with those registrations chosen.
    """
    event = event_or_404(event_id)
    selected, odd_selection = read_selection()
    action = request.form.get("aktion", "") if request.method == "POST" else ""
    form = CampaignForm()
    prepare(form, event, selected)
    if action not in ACTIONS:
        if request.method == "POST" and "subject" not in request.form and selected:
            form.segment.data = "selected"
        if request.method == "GET" or "body" not in request.form:
            form.body.data = form.body.data or form.body.default
        errors = [_("Einige ausgewählte Anmeldungen waren ungültig.")] if odd_selection else []
        return _render_form(event, form, selected, extra_errors=errors)
    if not form.validate():
        return _render_form(event, form, selected, 400)
    segment = segment_from(form, selected)
    draft = draft_from(form)
    errors = campaign_text.check(draft.subject, draft.body)
    try:
        segments.check_segment(event, segment)
    except DomainError as error:
        errors[error.field or "segment"] = error.message
    if errors or odd_selection:
        for name, message in errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        extra = [_("Einige ausgewählte Anmeldungen waren ungültig.")] if odd_selection else []
        return _render_form(event, form, selected, 400, extra_errors=extra)
    people = segments.recipients(event, segment, limit=PREVIEW_CHOICES)
    count = segments.recipient_count(event, segment)
    if not people:
        form.segment.errors = [_("Diese Auswahl enthält niemanden mit E-Mail-Adresse.")]
        return _render_form(event, form, selected, 400)
    chosen = whole_number(request.form.get("vorschau_fuer"))
    sample = next((p for p in people if p.id == chosen), people[0])
    if action == "vorschau":
        subject, text = service.preview(draft, sample)
        return _render_form(
            event,
            form,
            selected,
            people=people,
            count=count,
            sample=sample,
            preview_subject=subject,
            preview_text=text,
        )
    if action == "testmail":
        write_unit(lambda: service.queue_test_mail(draft, sample, current_user))
        flash(
            _(
                "Die Testmail (so, wie %(name)s sie bekäme) geht an %(address)s.",
                name=sample.full_name,
                address=current_user.email,
            ),
            "success",
        )
        return _render_form(event, form, selected, people=people, count=count, sample=sample)
    if action == "pruefen":
        return render_template(
            "campaigns/confirm.html",
            event=event,
            form=form,
            selected=selected,
            count=count,
            segment_label=segments.segment_label(event, segment),
            send_key=service.new_send_key(),
            with_link="verwaltungslink" in campaign_text.used(draft.body),
        )
    return _send(event, form, selected, segment, draft)


def _send(
    event: Event,
    form: CampaignForm,
    selected: list[int],
    segment: segments.Segment,
    draft: service.Draft,
) -> ResponseReturnValue:
    """Send the confirmed campaign once, however often the button is pressed."""
    send_key = request.form.get("send_key", "")
    if not (20 <= len(send_key) <= 64 and send_key.isascii() and send_key.isprintable()):
        return _render_form(
            event, form, selected, 400, extra_errors=[_("Bitte bestätigen Sie den Versand.")]
        )
    try:
        campaign = write_unit(lambda: service.send(event, segment, draft, current_user, send_key))
    except IntegrityError:  # the same form sent twice at the same moment: the other one won
        campaign = service.campaign_for_key(send_key)
        if campaign is None:
            raise
    except DomainError as error:
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [error.message]
            return _render_form(event, form, selected, 400)
        return _render_form(event, form, selected, 400, extra_errors=[error.message])
    if campaign.event_id != event.id:
        abort(404)
    flash(
        ngettext(
            "Die Rundmail an %(num)s Person wird gesendet.",
            "Die Rundmail an %(num)s Personen wird gesendet.",
            campaign.recipient_count,
        ),
        "success",
    )
    return redirect(url_for("campaigns.show", event_id=event.id, campaign_id=campaign.id))
