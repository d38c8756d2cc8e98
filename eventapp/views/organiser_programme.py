"""Organiser area: the programme's activities and the timetable grid."""

from __future__ import annotations

import re
from datetime import date, time

import sqlalchemy as sa
from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from eventapp.database import write_unit
from eventapp.extensions import db
from eventapp.forms import ActivityForm, Form
from eventapp.models import Activity, ActivityKind, ActivityPerson, Event, OrganiserRole, Room
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.programme.checks import (
    ActivityRefused,
    ActivityValues,
    create_activity,
    delete_activity,
    split_names,
    update_activity,
)
from eventapp.services.programme.moving import Move, move_activity
from eventapp.services.programme.participant_clashes import ClashChoice
from eventapp.services.programme.scheduling import day_grids, event_conflicts
from eventapp.timezones import format_local, to_local
from eventapp.views.auth import role_required
from eventapp.views.lookups import event_or_404
from eventapp.views.organiser import bp

# Form field that shows a conflict of each kind of value.
CONFLICT_FIELDS = {
    "room": "room",
    "starts_at": "starts",
    "ends_at": "ends",
    "capacity": "capacity",
    "people": "speakers",
}


def programme_of(event: Event) -> tuple[list[Room], list[Activity]]:
    """Load the event's rooms and activities with their rooms and people in a few queries."""
    rooms = db.session.scalars(
        sa.select(Room).where(Room.event_id == event.id).order_by(Room.position, Room.name)
    ).all()
    activities = db.session.scalars(
        sa.select(Activity)
        .where(Activity.event_id == event.id)
        .order_by(Activity.starts_at, Activity.id)
        .options(
            selectinload(Activity.room),
            selectinload(Activity.people).selectinload(ActivityPerson.person),
        )
    ).all()
    return list(rooms), list(activities)


def activity_of_event_or_404(event: Event, activity_id: int) -> Activity:
    """Return the event's activity with this id, or answer 404."""
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.event_id != event.id:
        abort(404)
    return activity


@bp.route("/veranstaltungen/<id:event_id>/programm")
@role_required(OrganiserRole.STAFF)
def activities(event_id: int) -> ResponseReturnValue:
    """List the programme with each activity's conflicts."""
    event = event_or_404(event_id)
    _rooms, items = programme_of(event)
    conflicts = event_conflicts(event, items)
    by_activity: dict[int | None, list] = {}
    for conflict in conflicts:
        for activity_id in conflict.activity_ids:
            by_activity.setdefault(activity_id, []).append(conflict)
    return render_template(
        "organiser/activities.html", event=event, activities=items, conflicts=by_activity
    )


@bp.route("/veranstaltungen/<id:event_id>/zeitplan")
@role_required(OrganiserRole.STAFF)
def timetable(event_id: int) -> ResponseReturnValue:
    """Show the day(s) as a grid: rooms as columns, time running down, conflicts marked."""
    event = event_or_404(event_id)
    rooms, items = programme_of(event)
    conflicts = event_conflicts(event, items)
    titles = {a.id: a.title for a in items}
    return render_template(
        "organiser/timetable.html",
        event=event,
        grids=day_grids(event, rooms, items, conflicts),
        conflicts=conflicts,
        titles=titles,
    )


def _prepare(form: ActivityForm, event: Event, rooms: list[Room]) -> None:
    form.kind.choices = [SelectChoice(kind.value, kind.label) for kind in ActivityKind]
    form.room.choices = [SelectChoice("", _("ohne Raum – gilt für alle Räume (z. B. Pause)"))] + [
        SelectChoice(str(room.id), f"{room.name} ({room.capacity})") for room in rooms
    ]


def _fill(form: ActivityForm, activity: Activity) -> None:
    event = activity.event
    form.title.data = activity.title
    form.kind.data = activity.kind.value
    form.room.data = str(activity.room_id) if activity.room_id else ""
    form.day.data = to_local(activity.starts_at, event.timezone).date()
    form.starts.data = to_local(activity.starts_at, event.timezone).time()
    form.ends.data = to_local(activity.ends_at, event.timezone).time()
    form.capacity.data = activity.capacity
    form.requires_enrolment.data = "yes" if activity.requires_enrolment else "no"
    form.speakers.data = "\n".join(p.display_name for p in activity.speakers)
    form.moderators.data = "\n".join(p.display_name for p in activity.moderators)
    form.description.data = activity.description
    form.language.data = activity.language
    form.published.data = activity.published
    form.cancelled.data = activity.cancelled
    form.overlap_confirmed.data = activity.overlap_confirmed


def _values(form: ActivityForm) -> ActivityValues | None:
    """Turn the checked form into values, or mark the room field and return None."""
    raw_room = (form.room.data or "").strip()
    room_id = whole_number(raw_room)
    if raw_room and room_id is None:
        form.room.errors = [*form.room.errors, _("Bitte wählen Sie einen Raum aus der Liste.")]
        return None
    return ActivityValues(
        title=form.title.data,
        kind=ActivityKind(form.kind.data),
        day=form.day.data,
        starts=form.starts.data,
        ends=form.ends.data,
        room_id=room_id,
        capacity=form.capacity.data,
        requires_enrolment={"yes": True, "no": False}.get(form.requires_enrolment.data),
        speakers=split_names(form.speakers.data or ""),
        moderators=split_names(form.moderators.data or ""),
        description=form.description.data or "",
        language=form.language.data,
        published=form.published.data,
        cancelled=form.cancelled.data,
        overlap_confirmed=form.overlap_confirmed.data,
        participant_clash_choice=clash_choice(form),
    )


def clash_choice(form: ActivityForm) -> ClashChoice | None:
    """Return the chosen way to save participants' clashes, if one was chosen."""
    value = form.participant_clash_choice.data or ""
    return ClashChoice(value) if value in set(ClashChoice) else None


def _show_conflicts(form: ActivityForm, refusal: ActivityRefused) -> None:
    moderators = {n.lower() for n in split_names(form.moderators.data or "")}
    clashes = [c for c in refusal.conflicts if c.is_participant_clash]
    if clashes and clash_choice(form) is None:
        form.participant_clash_choice.errors = [
            ngettext(
                "%(num)d Person hätte dann zwei Angebote zur selben Zeit. Bitte wählen Sie, wie "
                "gespeichert werden soll.",
                "%(num)d Personen hätten dann zwei Angebote zur selben Zeit. Bitte wählen Sie, "
                "wie gespeichert werden soll.",
                len({c.person_name for c in clashes}),
            )
        ]
    for conflict in refusal.conflicts:
        if conflict.is_participant_clash:
            continue  # listed with the choice, not on a field
        name = CONFLICT_FIELDS.get(conflict.field, "title")
        if conflict.field == "people" and conflict.person_name.lower() in moderators:
            name = "moderators"
        field = getattr(form, name)
        field.errors = [*field.errors, conflict.message]


def _edit_activity(event: Event, activity: Activity | None) -> ResponseReturnValue:
    rooms, _items = programme_of(event)
    form = ActivityForm()
    _prepare(form, event, rooms)
    if activity is not None and not form.is_submitted():
        _fill(form, activity)
    elif activity is None and not form.is_submitted():
        form.day.data = event.starts_on
    refusal: ActivityRefused | None = None
    if form.validate_on_submit():
        values = _values(form)
        if values is not None:
            try:
                saved = write_unit(
                    lambda: (
                        create_activity(event, values)
                        if activity is None
                        else update_activity(activity, values)
                    )
                )
            except ActivityRefused as error:
                refusal = error
                _show_conflicts(form, error)
            else:
                flash(_("„%(title)s“ ist gespeichert.", title=saved.title), "success")
                if request.form.get("next") == "timetable":
                    return redirect(url_for("organiser.timetable", event_id=event.id))
                return redirect(url_for("organiser.activities", event_id=event.id))
    status = 400 if form.is_submitted() else 200
    overlaps = [c for c in refusal.conflicts if c.is_overlap] if refusal else []
    clashes = [c for c in refusal.conflicts if c.is_participant_clash] if refusal else []
    ask_confirmation = bool(overlaps) or bool(activity and activity.overlap_confirmed)
    return render_template(
        "organiser/activity_form.html",
        event=event,
        activity=activity,
        form=form,
        overlaps=overlaps,
        participant_clashes=clashes,
        ask_confirmation=ask_confirmation,
    ), status


@bp.route("/veranstaltungen/<id:event_id>/programm/neu", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def activity_new(event_id: int) -> ResponseReturnValue:
    """Add an activity to the programme."""
    return _edit_activity(event_or_404(event_id), None)


@bp.route("/veranstaltungen/<id:event_id>/programm/<id:activity_id>", methods=["GET", "POST"])
@role_required(OrganiserRole.STAFF)
def activity_edit(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Change an activity: time, room, seats, people, publication, cancellation."""
    event = event_or_404(event_id)
    return _edit_activity(event, activity_of_event_or_404(event, activity_id))


@bp.route("/veranstaltungen/<id:event_id>/programm/<id:activity_id>/loeschen", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def activity_delete(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Remove an activity nobody has a place in."""
    event = event_or_404(event_id)
    activity = activity_of_event_or_404(event, activity_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        write_unit(lambda: delete_activity(activity))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(
            url_for("organiser.activity_edit", event_id=event.id, activity_id=activity_id)
        )
    flash(_("Der Programmpunkt ist gelöscht."), "success")
    return redirect(url_for("organiser.activities", event_id=event.id))


# --- Moving an activity on the timetable grid (drag and drop, keyboard) -------------------

_WALL_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class MoveInputError(Exception):
    """The moved position could not be read; the message is for the organiser."""


def _move_of(event: Event, rooms: list[Room]) -> Move:
    """Read room, day, start and the confirmation choices of a move from the posted form."""
    raw_room = (request.form.get("room") or "").strip()
    room_id = whole_number(raw_room)
    if raw_room and (room_id is None or room_id not in {room.id for room in rooms}):
        raise MoveInputError(_("Bitte wählen Sie einen Raum dieser Veranstaltung."))
    raw_day = (request.form.get("day") or "").strip()
    try:
        day = date.fromisoformat(raw_day) if _ISO_DAY.fullmatch(raw_day) else None
    except ValueError:
        day = None
    if day is None or day not in event.days:
        raise MoveInputError(_("Bitte wählen Sie einen Tag der Veranstaltung."))
    wall = _WALL_TIME.fullmatch((request.form.get("starts") or "").strip())
    if wall is None:
        raise MoveInputError(_("Bitte geben Sie den Beginn als Uhrzeit an, z. B. 10:15."))
    starts = time(int(wall.group(1)), int(wall.group(2)))
    if starts.minute % 5:
        raise MoveInputError(_("Programmpunkte beginnen in 5-Minuten-Schritten, z. B. 10:15."))
    raw_choice = request.form.get("participant_clash_choice") or ""
    if raw_choice and raw_choice not in set(ClashChoice):
        raise MoveInputError(
            _("Bitte wählen Sie, wie mit den Überschneidungen bei Teilnehmenden umgegangen wird.")
        )
    return Move(
        room_id=room_id if raw_room else None,
        day=day,
        starts=starts,
        overlap_confirmed=request.form.get("confirm") == "1",
        participant_clash_choice=ClashChoice(raw_choice) if raw_choice else None,
    )


def _position_of(activity: Activity) -> dict[str, str]:
    """Describe where an activity stands, as the move endpoint takes it back (for undo)."""
    zone_name = activity.event.timezone
    return {
        "room": str(activity.room_id) if activity.room_id else "",
        "day": format_local(activity.starts_at, zone_name, "%Y-%m-%d"),
        "starts": format_local(activity.starts_at, zone_name, "%H:%M"),
    }


def _conflict_answer(event: Event, activity: Activity, refusal: ActivityRefused) -> Response:
    """Answer a refused move with its conflicts and whether confirming would save it."""
    clashes = [c for c in refusal.conflicts if c.is_participant_clash]
    answer = jsonify(
        outcome="conflicts",
        message=_("„%(title)s“ wurde nicht verschoben.", title=activity.title),
        conflicts=[
            {
                "message": c.message,
                "kind": "participant"
                if c.is_participant_clash
                else ("overlap" if c.is_overlap else "rule"),
            }
            for c in refusal.conflicts
        ],
        can_confirm=refusal.needs_confirmation,
        needs_clash_choice=bool(clashes),
        edit_url=url_for(
            "organiser.activity_edit", event_id=event.id, activity_id=activity.id, next="timetable"
        ),
    )
    answer.status_code = 409
    return answer


def _refused(message: str, status: int = 400) -> Response:
    answer = jsonify(outcome="invalid", message=message)
    answer.status_code = status
    return answer


@bp.route("/veranstaltungen/<id:event_id>/programm/<id:activity_id>/verschieben", methods=["POST"])
@role_required(OrganiserRole.STAFF)
def activity_move(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Move an activity to another room or start (timetable drag and drop): JSON in, JSON out.

    The move goes through the edit form's update: conflicts come back (409) without saving,
    unless confirmed as the form confirms them; change notices follow as for a form edit.
    """
    event = event_or_404(event_id)
    activity = activity_of_event_or_404(event, activity_id)
    rooms, _items = programme_of(event)
    try:
        move = _move_of(event, rooms)
    except MoveInputError as error:
        return _refused(str(error))
    previous = _position_of(activity)
    try:
        write_unit(lambda: move_activity(activity, move))
    except ActivityRefused as refusal:
        return _conflict_answer(event, activity, refusal)
    except DomainError as error:
        return _refused(error.message)
    zone_name = event.timezone
    span = (
        f"{format_local(activity.starts_at, zone_name, '%H:%M')}–"
        f"{format_local(activity.ends_at, zone_name, '%H:%M')}"
    )
    room_name = activity.room.name if activity.room else _("alle Räume")
    return jsonify(
        outcome="saved",
        message=_(
            "„%(title)s“ verschoben nach %(room)s, %(span)s.",
            title=activity.title,
            room=room_name,
            span=span,
        ),
        activity_id=activity.id,
        position=_position_of(activity),
        previous=previous,
    )
