"""Workshop doors: pick a workshop, scan people in, admit others while seats are free."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
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

from eventapp.checkin_forms import ScanForm
from eventapp.database import DatabaseBusy, write_unit
from eventapp.extensions import db
from eventapp.forms import Form
from eventapp.models import Activity, Event, OrganiserRole
from eventapp.request_numbers import whole_number
from eventapp.services import DomainError
from eventapp.services.checkin import desk as badge_desk
from eventapp.services.checkin import doors
from eventapp.services.checkin.attendance import attendance_by_activity
from eventapp.services.checkin.doors import DoorAnswer, DoorOutcome, SeatTaken
from eventapp.timezones import utcnow
from eventapp.views.auth import role_required
from eventapp.views.checkin import desk_name, wants_json
from eventapp.views.lookups import event_or_404

bp = Blueprint("doors", __name__, url_prefix="/organisation/einlass/<id:event_id>/workshops")

# Session keys: this door's last admission (for undo), the answer to show after a redirect.
LAST_ADMISSION = "door_last_admission"
ANSWER = "door_answer"


def workshop_or_404(event: Event, activity_id: int) -> Activity:
    """Return the event's workshop with a door, or answer 404."""
    try:
        return doors.door_workshop(event, activity_id)
    except DomainError:
        abort(404)


def door_desk(activity: Activity) -> str:
    """Return the name stored with each admission: this desk's name, else the room's."""
    return desk_name() or (activity.room.name if activity.room else activity.title)


def count_text(activity: Activity) -> dict[str, Any]:
    """Return the door's count as numbers and as the sentence the page shows."""
    count = doors.door_count(activity)
    if count.capacity is None:
        text = _("%(taken)s angemeldet, %(present)s anwesend", taken=count.confirmed,
                 present=count.present)  # fmt: skip
    else:
        text = _(
            "%(taken)s von %(capacity)s Plätzen, %(present)s anwesend",
            taken=count.confirmed,
            capacity=count.capacity,
            present=count.present,
        )
    return {"confirmed": count.confirmed, "capacity": count.capacity,
            "present": count.present, "text": text}  # fmt: skip


def _last_admission(activity: Activity) -> dict[str, Any] | None:
    last = session.get(LAST_ADMISSION)
    return last if last and last.get("activity_id") == activity.id else None


def _remember(activity: Activity, answer: DoorAnswer) -> None:
    """Keep the answer for the next page, and a new admission as the one undo takes back."""
    registration = answer.registration
    session[ANSWER] = {
        "activity_id": activity.id,
        "outcome": str(answer.outcome),
        "registration_id": registration.id if registration else None,
        "code": answer.code,
        "other_event_id": answer.other_event.id if answer.other_event else None,
        "seats_left": answer.seats_left,
        "seat": str(answer.seat),
        "checked_in_here": answer.checked_in_here,
    }
    if (
        answer.outcome == DoorOutcome.ADMITTED
        and registration is not None
        and answer.attendance is not None
    ):
        session[LAST_ADMISSION] = {
            "activity_id": activity.id,
            "registration_id": registration.id,
            "name": registration.full_name,
            "at": answer.attendance.scanned_at.isoformat(),
            "seat": str(answer.seat),
            "queued_before": answer.queued_before.isoformat() if answer.queued_before else None,
            "checked_in_here": answer.checked_in_here,
        }


def _stored_answer(event: Event, activity: Activity) -> DoorAnswer | None:
    """Rebuild the answer kept for this page view (shown once)."""
    stored = session.pop(ANSWER, None)
    if not stored or stored.get("activity_id") != activity.id:
        return None
    registration = None
    if stored.get("registration_id"):
        try:
            registration = badge_desk.registration_of_event(event, stored["registration_id"])
        except DomainError:
            return None
    other = db.session.get(Event, stored["other_event_id"]) if stored["other_event_id"] else None
    attendance = doors.attendance_of(activity, registration) if registration is not None else None
    return DoorAnswer(
        DoorOutcome(stored["outcome"]),
        registration,
        stored.get("code", ""),
        other,
        attendance,
        stored.get("seats_left"),
        SeatTaken(stored.get("seat", "")),
        checked_in_here=bool(stored.get("checked_in_here")),
    )


def _page_url(event: Event, activity: Activity) -> str:
    return url_for("doors.door", event_id=event.id, activity_id=activity.id) + "#scan"


def _answer_response(event: Event, activity: Activity, answer: DoorAnswer) -> ResponseReturnValue:
    """Answer the script with the rendered answer, or the form with a redirect to the door."""
    if wants_json():
        return jsonify(
            outcome=str(answer.outcome),
            html=render_template(
                "checkin/_door_answer.html", event=event, activity=activity, answer=answer
            ),
            undo_html=render_template(
                "checkin/_door_undo.html",
                event=event,
                activity=activity,
                last_admission=_last_admission(activity),
            ),
            count=count_text(activity),
        )
    return redirect(_page_url(event, activity))


def _refuse(
    event: Event, activity: Activity, message: str, status: int = 400
) -> ResponseReturnValue:
    """Answer a request the door cannot act on, with a message and nothing stored."""
    if wants_json():
        return jsonify(outcome="invalid", message=message), status
    flash(message, "error")
    return redirect(_page_url(event, activity))


def _busy(event: Event, activity: Activity) -> ResponseReturnValue:
    return _refuse(
        event, activity, _("Gerade ist viel los. Bitte scannen Sie noch einmal."), status=503
    )


@bp.route("/")
@role_required(OrganiserRole.CHECKIN)
def choose(event_id: int) -> ResponseReturnValue:
    """Choose the workshop whose door this steward keeps."""
    event = event_or_404(event_id)
    return render_template("checkin/doors.html", event=event, figures=attendance_by_activity(event))


@bp.route("/<id:activity_id>/")
@role_required(OrganiserRole.CHECKIN)
def door(event_id: int, activity_id: int) -> ResponseReturnValue:
    """The door: scan field, last answer (with an admit button), seats and people present."""
    event = event_or_404(event_id)
    activity = workshop_or_404(event, activity_id)
    return render_template(
        "checkin/door.html",
        event=event,
        activity=activity,
        scan_form=ScanForm(formdata=None),
        answer=_stored_answer(event, activity),
        last_admission=_last_admission(activity),
        count=count_text(activity),
        desk=door_desk(activity),
    )


@bp.route("/<id:activity_id>/", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def scan(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Let the holder of a scanned code in if enrolled, or say where they stand."""
    event = event_or_404(event_id)
    activity = workshop_or_404(event, activity_id)
    form = ScanForm()
    if not form.validate():
        return _refuse(event, activity, _("Bitte scannen Sie den Code vom Namensschild."))
    code, desk, steward = form.code.data, door_desk(activity), current_user._get_current_object()
    try:
        answer = write_unit(lambda: doors.scan(activity, code, utcnow(), desk, steward))
    except DatabaseBusy:
        return _busy(event, activity)
    _remember(activity, answer)
    return _answer_response(event, activity, answer)


@bp.route("/<id:activity_id>/einlassen", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def admit(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Give a free seat to the person just scanned (waiting or not enrolled) and let them in."""
    event = event_or_404(event_id)
    activity = workshop_or_404(event, activity_id)
    registration_id = whole_number(request.form.get("registration_id"))
    if not Form().validate() or registration_id is None:
        return _refuse(event, activity, _("Bitte scannen Sie das Namensschild noch einmal."))
    desk, steward = door_desk(activity), current_user._get_current_object()
    try:
        answer = write_unit(
            lambda: doors.admit(
                activity,
                badge_desk.registration_of_event(event, registration_id),
                utcnow(),
                desk,
                steward,
            )
        )
    except DatabaseBusy:
        return _busy(event, activity)
    except DomainError as error:
        return _refuse(event, activity, error.message)
    _remember(activity, answer)
    return _answer_response(event, activity, answer)


@bp.route("/<id:activity_id>/zuruecknehmen", methods=["POST"])
@role_required(OrganiserRole.CHECKIN)
def undo(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Take back this door's last admission (a wrong badge, a mistaken button)."""
    event = event_or_404(event_id)
    activity = workshop_or_404(event, activity_id)
    last = _last_admission(activity)
    if last is None or not Form().validate():
        return _refuse(event, activity, _("Es gibt keinen Einlass zum Zurücknehmen."), 409)
    session.pop(LAST_ADMISSION, None)
    try:
        registration = badge_desk.registration_of_event(event, last["registration_id"])
    except DomainError as error:  # deleted meanwhile
        return _refuse(event, activity, error.message, 409)
    queued_before = last.get("queued_before")
    try:
        write_unit(
            lambda: doors.undo_admission(
                activity,
                registration,
                datetime.fromisoformat(last["at"]),
                SeatTaken(last.get("seat", "")),
                datetime.fromisoformat(queued_before) if queued_before else None,
                bool(last.get("checked_in_here")),
            )
        )
    except DatabaseBusy:
        return _busy(event, activity)
    answer = DoorAnswer(DoorOutcome.UNDONE, registration)
    _remember(activity, answer)
    return _answer_response(event, activity, answer)


@bp.route("/<id:activity_id>/stand.json")
@role_required(OrganiserRole.CHECKIN)
def counts(event_id: int, activity_id: int) -> ResponseReturnValue:
    """Return the door's count for the page's script (polled every few seconds)."""
    event = event_or_404(event_id)
    response = jsonify(count_text(workshop_or_404(event, activity_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
