"""Organiser actions on a selection of registrations: mail, cancel, reprint badges, workshop."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from eventapp.database import write_unit
from eventapp.models import Event, OrganiserRole, Registration
from eventapp.organiser_forms import OrganiserCancelForm
from eventapp.request_numbers import whole_number
from eventapp.services.registration import bulk, list_pages
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404
from eventapp.views.organiser_registrations import list_args, read_filter, read_order

bp = Blueprint(
    "registration_bulk",
    __name__,
    url_prefix="/organisation/veranstaltungen/<id:event_id>/anmeldungen/auswahl",
)
log = logging.getLogger(__name__)

# More ids than any event has registrations: a longer list is not a selection from the page.
MOST_IDS = 20_000
ACTIONS = ("mail", "stornieren", "namensschild", "workshop")


@dataclass
class Selection:
    """The registrations an action is for, and how many chosen ids were not the event's."""

    ids: list[int]
    foreign: int = 0


def list_state() -> dict[str, str | int]:
    """Return the list's filter, order and page as sent along by the forms."""
    state = list_args(read_filter(request.form), read_order(request.form))
    page = whole_number(request.form.get("seite"))
    if page and page > 1:
        state["seite"] = page
    return state


def back_to_list(event: Event) -> Response:
    """Redirect to the list as the organiser left it."""
    return redirect(url_for("organiser_registrations.index", event_id=event.id, **list_state()))


def selected(event: Event) -> Selection:
    """Return the event's registrations chosen on the page: ticked, this page or every match."""
    scope = request.form.get("umfang", "markiert")
    if scope == "seite":
        order = read_order(request.form)
        order.page = whole_number(request.form.get("seite")) or 1
        return Selection(list_pages.page_ids(event, read_filter(request.form), order))
    if scope == "alle":
        return Selection(list_pages.matching_ids(event, read_filter(request.form)))
    raw = request.form.getlist("auswahl")[: MOST_IDS + 1]
    numbers = [n for n in (whole_number(value) for value in raw) if n is not None]
    known = list_pages.known_ids(event, numbers)
    return Selection(known, len(set(raw)) - len(known))


def report_foreign(selection: Selection) -> None:
    """Tell the organiser that some chosen entries were left out."""
    if selection.foreign:
        flash(
            ngettext(
                "%(num)d ausgewählter Eintrag gehört nicht zu dieser Veranstaltung und wurde "
                "übergangen.",
                "%(num)d ausgewählte Einträge gehören nicht zu dieser Veranstaltung und wurden "
                "übergangen.",
                selection.foreign,
            ),
            "warning",
        )


def chosen(event: Event) -> Selection | None:
    """Return the selection, having said what was left out; None (said too) when it is empty."""
    selection = selected(event)
    report_foreign(selection)
    if not selection.ids:
        flash(_("Bitte markieren Sie mindestens eine Anmeldung."), "error")
        return None
    return selection


def too_many(event: Event, selection: Selection) -> Response | None:
    """Refuse a cancellation or move of more people than one step handles."""
    if len(selection.ids) <= bulk.MOST_CHANGED_AT_ONCE:
        return None
    flash(
        _(
            "Es sind %(count)s Anmeldungen ausgewählt. Bitte stornieren oder verschieben Sie "
            "höchstens %(most)s auf einmal; grenzen Sie die Auswahl mit den Filtern ein.",
            count=len(selection.ids),
            most=bulk.MOST_CHANGED_AT_ONCE,
        ),
        "error",
    )
    return back_to_list(event)


def people_to_change(event: Event) -> list[Registration] | Response:
    """Return the chosen registrations for a cancellation or move, or the answer refusing it."""
    selection = chosen(event)
    if selection is None:
        return back_to_list(event)
    refused = too_many(event, selection)
    if refused is not None:
        return refused
    return list_pages.registrations_by_ids(event, selection.ids)


def _record(event: Event, action: str, count: int, detail: str = "") -> None:
    """Note a change to many registrations in the application log (who, what, how many)."""
    log.info(
        "bulk %s: event %s, organiser %s, %s registration(s)%s",
        action,
        event.id,
        current_user.id,
        count,
        f", {detail}" if detail else "",
    )


@bp.route("/", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def choose(event_id: int) -> ResponseReturnValue:
    """Take the selection and the chosen action to its next step."""
    event = event_or_404(event_id)
    action = request.form.get("aktion", "")
    if action not in ACTIONS:
        flash(_("Bitte wählen Sie eine Aktion für die Auswahl."), "error")
        return back_to_list(event)
    selection = chosen(event)
    if selection is None:
        return back_to_list(event)
    if action == "namensschild":
        return _reprint(event, selection)
    if action == "mail":
        people = list_pages.registrations_by_ids(event, selection.ids)
        return render_template(
            "organiser/registrations/bulk_mail.html",
            event=event,
            people=people,
            state=list_state(),
            campaign_url=url_for("campaigns.new", event_id=event.id),
        )
    refused = too_many(event, selection)
    if refused is not None:
        return refused
    people = list_pages.registrations_by_ids(event, selection.ids)
    if action == "stornieren":
        return _cancel_page(event, people, OrganiserCancelForm(formdata=None), 200)
    return _workshop_page(event, people, None, [], 200)


def _reprint(event: Event, selection: Selection) -> Response:
    """Mark the chosen badges for printing again (nothing is lost, so no confirmation step)."""
    people = list_pages.registrations_by_ids(event, selection.ids)
    result = write_unit(lambda: bulk.mark_for_reprint(event, people))
    _record(event, "badge reprint", result.marked)
    flash(
        ngettext(
            "%(num)d Namensschild kommt in den nächsten Druck neuer Namensschilder.",
            "%(num)d Namensschilder kommen in den nächsten Druck neuer Namensschilder.",
            result.marked,
        ),
        "success",
    )
    if result.not_printed_yet:
        flash(
            ngettext(
                "%(num)d Namensschild war noch nicht gedruckt; es ist ohnehin dabei.",
                "%(num)d Namensschilder waren noch nicht gedruckt; sie sind ohnehin dabei.",
                result.not_printed_yet,
            ),
            "info",
        )
    if result.without_badge:
        flash(
            ngettext(
                "%(num)d Person ist nicht bestätigt angemeldet und bekommt kein Namensschild.",
                "%(num)d Personen sind nicht bestätigt angemeldet und bekommen kein Namensschild.",
                result.without_badge,
            ),
            "info",
        )
    return back_to_list(event)


def _cancel_page(
    event: Event, people: list[Registration], form: OrganiserCancelForm, status: int
) -> ResponseReturnValue:
    return render_template(
        "organiser/registrations/bulk_cancel.html",
        event=event,
        to_cancel=[r for r in people if r.status != "cancelled"],
        already=[r for r in people if r.status == "cancelled"],
        form=form,
        state=list_state(),
    ), status


@bp.route("/stornieren", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def cancel(event_id: int) -> ResponseReturnValue:
    """Cancel the confirmed selection for the organisers; everyone gets the cancellation mail."""
    event = event_or_404(event_id)
    people = people_to_change(event)
    if isinstance(people, Response):
        return people
    form = OrganiserCancelForm()
    if not form.validate():
        return _cancel_page(event, people, form, 400)
    reason = form.reason.data or ""
    result = write_unit(lambda: bulk.cancel_many(event, people, reason))
    _record(event, "cancel", result.cancelled, f"{result.already_cancelled} already cancelled")
    flash(
        ngettext(
            "%(num)d Anmeldung ist storniert; die Person bekommt eine E-Mail.",
            "%(num)d Anmeldungen sind storniert; jede Person bekommt eine E-Mail.",
            result.cancelled,
        ),
        "success",
    )
    if result.already_cancelled:
        flash(
            ngettext(
                "%(num)d Anmeldung war bereits storniert.",
                "%(num)d Anmeldungen waren bereits storniert.",
                result.already_cancelled,
            ),
            "info",
        )
    return back_to_list(event)


def _workshop_page(
    event: Event,
    people: list[Registration],
    plan: bulk.WorkshopPlan | None,
    errors: list[str],
    status: int,
) -> ResponseReturnValue:
    return render_template(
        "organiser/registrations/bulk_workshop.html",
        event=event,
        people=people,
        plan=plan,
        choices=bulk.workshop_choices(event),
        errors=errors,
        state=list_state(),
    ), status


@bp.route("/workshop", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def workshop(event_id: int) -> ResponseReturnValue:
    """Show who would get a seat in the chosen workshop; put them in once confirmed."""
    event = event_or_404(event_id)
    people = people_to_change(event)
    if isinstance(people, Response):
        return people
    activity_id = whole_number(request.form.get("workshop"))
    activity = next((a for a in bulk.workshop_choices(event) if a.id == activity_id), None)
    if activity is None:
        message = _("Bitte wählen Sie einen Workshop aus der Liste.")
        return _workshop_page(event, people, None, [message], 400)
    if request.form.get("bestaetigt") != "ja":
        return _workshop_page(event, people, bulk.plan_workshop(activity, people), [], 200)
    result = write_unit(lambda: bulk.put_into_workshop(event, activity, people))
    _record(
        event,
        "workshop",
        result.seated + result.waitlisted,
        f"activity {activity.id}, {result.seated} seated, {result.waitlisted} waiting",
    )
    flash(
        _(
            "„%(title)s“: %(seated)s Person(en) haben einen Platz, %(waiting)s stehen auf der "
            "Warteliste; %(unchanged)s blieben unverändert. Jede Person, deren Auswahl sich "
            "geändert hat, bekommt eine E-Mail.",
            title=activity.title,
            seated=result.seated,
            waiting=result.waitlisted,
            unchanged=result.unchanged,
        ),
        "success",
    )
    return back_to_list(event)
