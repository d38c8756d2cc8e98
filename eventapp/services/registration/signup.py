"""The public form's registration: the rules of registrations.register() in a few statements.

When the invitation goes out, hundreds of people send the form within minutes, so this path
writes its rows with prebuilt Core statements instead of the ORM's unit of work, and reads
the event from its stamp instead of loading it. The rules are the ones the organisers' and
the import's registrations follow, shared with them: the window, the choice check, the
network limit, the place for the day, the seats (claimed in the same order, so the same locks
are taken in the same order), the statuses and the mails.

An address registered before and cancelled since registers again through
registrations.register(), which revives its row; that is rare.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from eventapp.extensions import db
from eventapp.models import Activity, Enrolment, Event, Registration, RegistrationStatus
from eventapp.prebuilt import PrebuiltStatement
from eventapp.services import DomainError
from eventapp.services.mail import registration_mail as notices
from eventapp.services.programme.published import (
    EventStamp,
    enrollable_activities_of_event_query,
)
from eventapp.services.registration import registrations, waitlist
from eventapp.services.registration.tokens import (
    new_checkin_code,
    new_feed_token,
    new_token,
    token_hash,
)
from eventapp.timezones import utcnow

_REGISTRATION = Registration.__table__
_ENROLMENT = Enrolment.__table__
_ACTIVITY = Activity.__table__
_EVENT = Event.__table__

# The wanted activities among those offered for enrolment, with what the choice check reads.
_OFFERED = (
    enrollable_activities_of_event_query()
    .with_only_columns(
        _ACTIVITY.c.id, _ACTIVITY.c.title, _ACTIVITY.c.starts_at, _ACTIVITY.c.ends_at
    )
    .where(_ACTIVITY.c.id.in_(sa.bindparam("ids", expanding=True)))
)
# The event's registration of an address, if any (any status).
_BY_EMAIL_QUERY = sa.select(
    _REGISTRATION.c.id,
    _REGISTRATION.c.status,
    _REGISTRATION.c.language,
    _REGISTRATION.c.calendar_token,
).where(
    _REGISTRATION.c.event_id == sa.bindparam("event_id"),
    _REGISTRATION.c.email == sa.bindparam("email"),
)
# The same with the day's limit as take_day_place reads it, for a day without a limit as
# loaded: one statement where there would be two.
_BY_EMAIL_AND_DAY_LIMIT_QUERY = waitlist.with_day_limit(
    sa.select(*_BY_EMAIL_QUERY.selected_columns).select_from(
        _EVENT.outerjoin(
            _REGISTRATION,
            sa.and_(
                _REGISTRATION.c.event_id == _EVENT.c.id,
                _REGISTRATION.c.email == sa.bindparam("email"),
            ),
        )
    )
)
_BY_EMAIL = PrebuiltStatement(_BY_EMAIL_QUERY)
_BY_EMAIL_AND_DAY_LIMIT = PrebuiltStatement(_BY_EMAIL_AND_DAY_LIMIT_QUERY)
_INSERT_REGISTRATION = PrebuiltStatement(sa.insert(_REGISTRATION).returning(_REGISTRATION.c.id))
_INSERT_ENROLMENT = PrebuiltStatement(sa.insert(_ENROLMENT))


class Known(NamedTuple):
    """What the form's registration reads of an address registered before."""

    id: int
    status: RegistrationStatus
    language: str
    calendar_token: str | None


def register_or_send_link(
    event: EventStamp, person: registrations.Participant, activity_ids: Iterable[int]
) -> None:
    """Register a new address; for one already registered, have the worker mail its link instead.

    The answer must not tell whether an address is registered: both pass the same checks
    (window, choices, network limit) and raise the same errors, and both then write in the
    same transaction — a new address its registration and confirmation mail, a registered one
    a fresh link and the "you are already registered" mail — so they take about the same time.
    Nothing else of the second attempt is stored.
    """
    if registrations.registration_window_state(event) != "open":
        raise DomainError(_("Die Anmeldung ist derzeit nicht geöffnet."))
    # Made before the first query, which (SQLite) takes the write lock for the rest.
    code = new_checkin_code()
    manage_token, feed_token = new_token(), new_feed_token()
    session = db.session
    connection = session.connection()
    wanted = sorted(set(activity_ids))
    offered = {}
    if wanted:
        rows = connection.execute(_OFFERED, {"event_id": event.id, "ids": wanted})
        offered = {row.id: row for row in rows}
    chosen = registrations.checked_choice(offered, wanted)
    email = person.email.strip().lower()
    # Checked before the address is refused, so a registered address meets the same errors;
    # and before the event's row is locked, in the order of every registration's locks.
    registrations.check_network_limit(event, person.network_id, None)
    known, limited = _registered_and_day_limit(connection, event, email)
    if known is not None and known.status != RegistrationStatus.CANCELLED:
        registrations.renew_manage_link(
            notices.Recipient(known.id, email, known.language),
            event.title,
            known.calendar_token is None,
            registered_again=True,
        )
        return
    if known is not None:  # registered before and cancelled: the row comes back to life
        registrations.register(session.get(Event, event.id), person, [a.id for a in chosen])
        return

    seated = waitlist.take_day_place(event, limited=limited)
    now = utcnow()  # after the seat UPDATE: the place in line follows the lock order
    status, over_capacity = registrations.day_status(seated, by_organiser=False)
    values: dict[str, Any] = registrations.detail_values(person, email, now) | {
        "event_id": event.id,
        "checkin_code": code,
        "token_hash": token_hash(manage_token),
        **feed_token,
        "added_by_organiser": False,
        "cancelled_at": None,
        "queued_at": now,
        "status": status,
        "over_capacity": over_capacity,
    }
    registration_id = int(_INSERT_REGISTRATION.run(connection, **values).value())
    # The mail is rendered after commit, from what the transaction stored.
    notices.confirmation_to(
        notices.Recipient(registration_id, email, person.language), event.title, manage_token
    )
    # Workshop seats last: a seat's row lock (PostgreSQL) is then held only until the commit.
    for activity in chosen:
        seated = status == RegistrationStatus.CONFIRMED and waitlist.claim_seat(
            Activity, activity.id
        )
        _INSERT_ENROLMENT.run(
            connection,
            registration_id=registration_id,
            activity_id=activity.id,
            **waitlist.seat_values(seated, over_capacity=False, now=utcnow()),
        )


def _registered_and_day_limit(
    connection: sa.Connection, event: EventStamp, email: str
) -> tuple[Known | None, bool]:
    """Return the event's registration of the address (None: none) and whether the day is limited.

    A day without a limit as loaded has its limit read again under the event's lock, along
    with the address, as waitlist.take_day_place would read it on its own.
    """
    if event.capacity is not None:
        row = _BY_EMAIL.run(connection, event_id=event.id, email=email).first
        return (None if row is None else Known(*row)), True
    row = _BY_EMAIL_AND_DAY_LIMIT.run(connection, event_id=event.id, email=email).first
    if row is None:
        raise sa.exc.NoResultFound("the event is gone")
    *registered, limit = row
    return (None if registered[0] is None else Known(*registered)), limit is not None
