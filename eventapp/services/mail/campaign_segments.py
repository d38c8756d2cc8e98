"""Who a campaign (Rundmail) goes to: the segments, their recipients and their names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from eventapp import labels
from eventapp.extensions import db
from eventapp.models import (
    NO_EMAIL_DOMAIN,
    Activity,
    Enrolment,
    EnrolmentStatus,
    Event,
    Network,
    ParticipantRole,
    Registration,
    RegistrationStatus,
)
from eventapp.services import DomainError

SEGMENT_KINDS = (
    "confirmed",
    "workshop_confirmed",
    "workshop_waiting",
    "waiting",
    "not_checked_in",
    "network",
    "role",
    "selected",
)


@dataclass(frozen=True)
class Segment:
    """Who gets a campaign: a kind and the one parameter it needs."""

    kind: str
    activity_id: int | None = None
    network_id: int | None = None
    role: str = ""
    selected: tuple[int, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """Return the segment as stored with the campaign."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind in {"workshop_confirmed", "workshop_waiting"}:
            data["activity"] = self.activity_id
        if self.kind == "network":
            data["network"] = self.network_id
        if self.kind == "role":
            data["role"] = self.role
        if self.kind == "selected":
            data["selected"] = list(self.selected)
        return data


def _with_address() -> sa.ColumnElement[bool]:
    """Registrations that gave an address (walk-ins may have none)."""
    return sa.not_(Registration.email.endswith(NO_EMAIL_DOMAIN))


def _enrolled(activity_id: int | None, status: EnrolmentStatus) -> sa.ColumnElement[bool]:
    return Registration.id.in_(
        sa.select(Enrolment.registration_id).where(
            Enrolment.activity_id == activity_id, Enrolment.status == status
        )
    )


def _condition(segment: Segment) -> sa.ColumnElement[bool]:
    """Return the WHERE condition of a segment (beyond event and address)."""
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    standing = Registration.status != RegistrationStatus.CANCELLED
    kind = segment.kind
    if kind == "confirmed":
        return confirmed
    if kind == "workshop_confirmed":
        return sa.and_(standing, _enrolled(segment.activity_id, EnrolmentStatus.CONFIRMED))
    if kind == "workshop_waiting":
        return sa.and_(standing, _enrolled(segment.activity_id, EnrolmentStatus.WAITLISTED))
    if kind == "waiting":
        waiting_somewhere = Registration.id.in_(
            sa.select(Enrolment.registration_id).where(
                Enrolment.status == EnrolmentStatus.WAITLISTED
            )
        )
        return sa.or_(
            Registration.status == RegistrationStatus.WAITLISTED,
            sa.and_(standing, waiting_somewhere),
        )
    if kind == "not_checked_in":
        return sa.and_(confirmed, Registration.checked_in_at.is_(None))
    if kind == "network":
        return sa.and_(confirmed, Registration.network_id == segment.network_id)
    if kind == "role":
        return sa.and_(confirmed, Registration.role == segment.role)
    if kind == "selected":
        return Registration.id.in_(list(segment.selected))
    raise DomainError(_("Bitte wählen Sie, wer die E-Mail bekommt."), field="segment")


def recipients_query(event: Event, segment: Segment) -> sa.Select[tuple[Registration]]:
    """Return the query of a segment's recipients, by name."""
    return (
        sa.select(Registration)
        .where(Registration.event_id == event.id, _with_address(), _condition(segment))
        .order_by(Registration.last_name, Registration.first_name, Registration.id)
    )


def recipients(event: Event, segment: Segment, limit: int | None = None) -> list[Registration]:
    """Return the registrations a campaign to this segment goes to (at most limit)."""
    query = recipients_query(event, segment)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def recipient_count(event: Event, segment: Segment) -> int:
    """Count a segment's recipients."""
    query = recipients_query(event, segment).order_by(None)
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def segment_activities(event: Event) -> list[Activity]:
    """Return the event's activities with enrolment (workshops, exchange circles), in order."""
    return list(
        db.session.scalars(
            sa.select(Activity)
            .where(Activity.event_id == event.id, Activity.requires_enrolment.is_(True))
            .order_by(Activity.starts_at, Activity.title, Activity.id)
        )
    )


def segment_networks(event: Event) -> list[Network]:
    """Return the networks with at least one confirmed registration for the event."""
    has_people = sa.select(Registration.network_id).where(
        Registration.event_id == event.id,
        Registration.status == RegistrationStatus.CONFIRMED,
        Registration.network_id.is_not(None),
    )
    return list(
        db.session.scalars(
            sa.select(Network).where(Network.id.in_(has_people)).order_by(Network.name)
        )
    )


def check_segment(event: Event, segment: Segment) -> None:
    """Raise a DomainError (on the segment's field) unless the segment fits the event."""
    if segment.kind not in SEGMENT_KINDS:
        raise DomainError(_("Bitte wählen Sie, wer die E-Mail bekommt."), field="segment")
    if segment.kind in {"workshop_confirmed", "workshop_waiting"}:
        activity = db.session.get(Activity, segment.activity_id) if segment.activity_id else None
        if activity is None or activity.event_id != event.id or not activity.requires_enrolment:
            raise DomainError(_("Bitte wählen Sie einen Workshop."), field="activity")
    if segment.kind == "network" and (
        segment.network_id is None or db.session.get(Network, segment.network_id) is None
    ):
        raise DomainError(_("Bitte wählen Sie ein Netzwerk."), field="network")
    if segment.kind == "role" and segment.role not in set(ParticipantRole):
        raise DomainError(_("Bitte wählen Sie eine Rolle."), field="role")
    if segment.kind == "selected":
        if not segment.selected:
            raise DomainError(_("Es sind keine Anmeldungen ausgewählt."), field="segment")
        found = db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.event_id == event.id, Registration.id.in_(list(segment.selected))
            )
        )
        if found != len(set(segment.selected)):
            raise DomainError(
                _("Einige ausgewählte Anmeldungen gehören nicht zu dieser Veranstaltung."),
                field="segment",
            )


def segment_label(event: Event, segment: Segment) -> str:
    """Describe a segment in the organiser's words, e.g. "Warteliste von Workshop A"."""
    kind = segment.kind
    if kind in {"workshop_confirmed", "workshop_waiting"}:
        activity = db.session.get(Activity, segment.activity_id) if segment.activity_id else None
        title = activity.title if activity else "?"
        if kind == "workshop_confirmed":
            return _("Bestätigt in „%(title)s“", title=title)
        return _("Warteliste von „%(title)s“", title=title)
    if kind == "network":
        network = db.session.get(Network, segment.network_id) if segment.network_id else None
        return _("Bestätigte aus dem Netzwerk „%(name)s“", name=network.name if network else "?")
    if kind == "role":
        role = labels.PARTICIPANT_ROLE_LABELS.get(ParticipantRole(segment.role), segment.role)
        return _("Bestätigte mit der Rolle „%(role)s“", role=role)
    if kind == "selected":
        return _("Ausgewählte Anmeldungen (%(count)s)", count=len(segment.selected))
    return str(SEGMENT_LABELS.get(kind, kind))


SEGMENT_LABELS = {
    "confirmed": _l("Alle bestätigten Anmeldungen"),
    "workshop_confirmed": _l("Bestätigte eines Workshops"),
    "workshop_waiting": _l("Warteliste eines Workshops"),
    "waiting": _l("Alle auf einer Warteliste (für den Tag oder ein Angebot)"),
    "not_checked_in": _l("Bestätigte, die noch nicht eingecheckt sind"),
    "network": _l("Bestätigte eines Netzwerks"),
    "role": _l("Bestätigte mit einer Rolle"),
    "selected": _l("Ausgewählte Anmeldungen"),
}
