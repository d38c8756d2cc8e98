"""Organiser area: events, rooms and people; the programme lives in organiser_programme."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from eventapp.database import write_unit
from eventapp.extensions import db
from eventapp.forms import EventForm, Form, PersonForm, RoomForm
from eventapp.models import Activity, Event, OrganiserRole, Person, Room
from eventapp.organiser_forms import CopyEventForm
from eventapp.services import DomainError
from eventapp.services.programme.copy import CopyValues, copy_event, suggested_values
from eventapp.services.programme.events import (
    EventValues,
    ValuesRefused,
    delete_room,
    save_event,
    save_person,
    save_room,
)
from eventapp.services.registration import retention
from eventapp.timezones import DEFAULT_ZONE, to_local
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404

bp = Blueprint("organiser", __name__, url_prefix="/organisation")


def show_refusal(form: Form, error: ValuesRefused) -> None:
    """Put a service's messages next to the form's fields."""
    for name, message in error.errors:
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


@bp.route("/")
@role_required(OrganiserRole.STAFF)
def dashboard() -> ResponseReturnValue:
    """List all events with links to plan them."""
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_on.desc())).all()
    counts = dict(
        db.session.execute(
            sa.select(Activity.event_id, sa.func.count()).group_by(Activity.event_id)
        ).all()
    )
    return render_template("organiser/dashboard.html", events=events, counts=counts)


def _event_values(form: EventForm) -> EventValues:
    return EventValues(
        title=form.title.data or "",
        slug=form.slug.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        timezone=(form.timezone.data or DEFAULT_ZONE).strip(),
        subtitle=form.subtitle.data or "",
        description=form.description.data or "",
        venue=form.venue.data or "",
        address=form.address.data or "",
        organiser_name=form.organiser_name.data or "",
        contact_email=form.contact_email.data or "",
        contact_phone=form.contact_phone.data or "",
        registration_opens_at=form.registration_opens_at.data,
        registration_closes_at=form.registration_closes_at.data,
        capacity=form.capacity.data,
        per_network_limit=form.per_network_limit.data,
        published=form.published.data,
    )


def _edit_event(event: Event | None) -> ResponseReturnValue:
    form = EventForm(obj=event)
    if event is not None and not form.is_submitted():
        for name in ("registration_opens_at", "registration_closes_at"):
            moment = getattr(event, name)
            getattr(form, name).data = (
                to_local(moment, event.timezone).replace(tzinfo=None) if moment else None
            )
    if form.validate_on_submit():
        values = _event_values(form)
        try:
            saved = write_unit(lambda: save_event(event, values))
        except ValuesRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Die Veranstaltung ist gespeichert."), "success")
            return redirect(url_for("organiser.event_overview", event_id=saved.id))
    status = 400 if form.is_submitted() else 200
    template = "organiser/event_form.html" if event else "organiser/event_new.html"
    return render_template(template, form=form, event=event), status


@bp.route("/veranstaltungen/neu", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def event_new() -> ResponseReturnValue:
    """Create an event."""
    return _edit_event(None)


@bp.route("/veranstaltungen/<id:event_id>/")
@role_required(OrganiserRole.STAFF)
def event_overview(event_id: int) -> ResponseReturnValue:
    """Show an event's key facts and where to plan it."""
    event = event_or_404(event_id)
    activity_count = db.session.scalar(
        sa.select(sa.func.count()).where(Activity.event_id == event.id)
    )
    return render_template(
        "organiser/event_overview.html",
        event=event,
        activity_count=activity_count,
        deletion_day=retention.deletion_day(event),
    )


@bp.route("/veranstaltungen/<id:event_id>/einstellungen", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def event_edit(event_id: int) -> ResponseReturnValue:
    """Change an event's title, days, place, contact and registration rules."""
    return _edit_event(event_or_404(event_id))


@bp.route("/veranstaltungen/<id:event_id>/als-vorlage", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def event_copy(event_id: int) -> ResponseReturnValue:
    """Start a new event from this one: settings, rooms, programme and speakers on a new day."""
    source = event_or_404(event_id)
    form = CopyEventForm()
    if not form.is_submitted():
        proposed = suggested_values(source)
        form.starts_on.data, form.slug.data = proposed.starts_on, proposed.slug
        form.title.data = proposed.title
    if form.validate_on_submit():
        values = CopyValues(
            starts_on=form.starts_on.data, slug=form.slug.data, title=form.title.data
        )
        try:
            result = write_unit(lambda: copy_event(source, values))
        except ValuesRefused as error:
            show_refusal(form, error)
        else:
            flash(
                _(
                    "„%(title)s“ ist angelegt (nicht veröffentlicht): %(rooms)s Räume und "
                    "%(count)s Programmpunkte übernommen. Bitte prüfen Sie Zeiten und Texte, "
                    "bevor Sie veröffentlichen.",
                    title=result.event.title,
                    rooms=result.rooms,
                    count=result.activities,
                ),
                "success",
            )
            return redirect(url_for("organiser.event_overview", event_id=result.event.id))
    status = 400 if form.is_submitted() else 200
    return render_template("organiser/event_copy.html", event=source, form=form), status


# --- Rooms ---------------------------------------------------------------------------------


@bp.route("/veranstaltungen/<id:event_id>/raeume", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def rooms(event_id: int) -> ResponseReturnValue:
    """List the event's rooms and add a new one."""
    event = event_or_404(event_id)
    return _edit_room(event, None)


def _edit_room(event: Event, room: Room | None) -> ResponseReturnValue:
    """Show and save the form for a new room (room None) or an existing one."""
    form = RoomForm(obj=room)
    if form.validate_on_submit():
        name, capacity = form.name.data, form.capacity.data
        notes, position = form.notes.data or "", form.position.data or 0
        try:
            write_unit(lambda: save_room(event, room, name, capacity, notes, position))
        except ValuesRefused as error:
            show_refusal(form, error)
        else:
            saved = _("Der Raum ist angelegt.") if room is None else _("Der Raum ist gespeichert.")
            flash(saved, "success")
            return redirect(url_for("organiser.rooms", event_id=event.id))
    status = 400 if form.is_submitted() else 200
    if room is None:
        return render_template("organiser/rooms.html", event=event, form=form), status
    return render_template("organiser/room_form.html", event=event, room=room, form=form), status


def room_of_event_or_404(event: Event, room_id: int) -> Room:
    """Return the event's room with this id, or answer 404."""
    room = db.session.get(Room, room_id)
    if room is None or room.event_id != event.id:
        abort(404)
    return room


@bp.route("/veranstaltungen/<id:event_id>/raeume/<id:room_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def room_edit(event_id: int, room_id: int) -> ResponseReturnValue:
    """Change a room's name, seats, notes or column position."""
    event = event_or_404(event_id)
    room = room_of_event_or_404(event, room_id)
    return _edit_room(event, room)


@bp.route("/veranstaltungen/<id:event_id>/raeume/<id:room_id>/loeschen", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def room_delete(event_id: int, room_id: int) -> ResponseReturnValue:
    """Remove a room no activity uses."""
    event = event_or_404(event_id)
    room = room_of_event_or_404(event, room_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        write_unit(lambda: delete_room(room))
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Der Raum ist gelöscht."), "success")
    return redirect(url_for("organiser.rooms", event_id=event.id))


# --- People --------------------------------------------------------------------------------


@bp.route("/personen")
@role_required(OrganiserRole.STAFF)
def people() -> ResponseReturnValue:
    """List speakers and moderators."""
    persons = db.session.scalars(sa.select(Person).order_by(Person.name)).all()
    return render_template("organiser/people.html", people=persons)


@bp.route("/personen/<id:person_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def person_edit(person_id: int) -> ResponseReturnValue:
    """Change a speaker's or moderator's name, title and organisation."""
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    form = PersonForm(obj=person)
    if form.validate_on_submit():
        details = (
            form.name.data,
            form.title.data or "",
            form.organisation.data or "",
            form.email.data or "",
            form.bio.data or "",
        )
        try:
            write_unit(lambda: save_person(person, *details))
        except ValuesRefused as error:
            show_refusal(form, error)
        else:
            flash(_("Die Angaben sind gespeichert."), "success")
            return redirect(url_for("organiser.people"))
    status = 400 if form.is_submitted() else 200
    return render_template("organiser/person_form.html", person=person, form=form), status


from eventapp.views import organiser_programme  # noqa: E402,F401  (adds the programme routes)
