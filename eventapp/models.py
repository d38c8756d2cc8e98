"""The data model: events, rooms, activities, people, networks, registrations, organisers, mail."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from eventapp.extensions import db
from eventapp.timezones import DEFAULT_ZONE, UTCDateTime, utcnow


@dataclass(frozen=True)
class KindTraits:
    """What a kind of activity means wherever it shows: pages, colours, feeds, enrolment."""

    # User-facing name, in the visitor's language.
    label: LazyString
    # Accent (left border) and background of its blocks on the timetable and programme pages.
    colour: str
    tint: str
    # The frab schedule's event type, read by schedule apps.
    frab_type: str
    # New activities of this kind take enrolments with a seat limit.
    needs_enrolment: bool = False
    # Everyone attends it: it goes into every personal calendar.
    shared_by_all: bool = False


class ActivityKind(enum.StrEnum):
    """What sort of programme item an activity is; each kind carries its traits.

    A new kind is one entry here (and a migration, as the column's CHECK constraint lists the
    values); labels, colours, feeds, exports, the API and forms read it from here.
    """

    PLENARY = "plenary", KindTraits(_l("Plenum"), "#0b4f8a", "#e3eef9", "talk", shared_by_all=True)
    WORKSHOP = (
        "workshop",
        KindTraits(_l("Workshop"), "#1d6b2f", "#e8f4ea", "workshop", needs_enrolment=True),
    )
    EXCHANGE_CIRCLE = (
        "exchange_circle",
        KindTraits(
            _l("Erfahrungsaustauschkreis"), "#6b3fa0", "#f1eaf8", "discussion", needs_enrolment=True
        ),
    )
    AWARD_CEREMONY = (
        "award_ceremony",
        KindTraits(_l("Preisverleihung"), "#0b4f8a", "#e3eef9", "ceremony", shared_by_all=True),
    )
    BREAK = "break", KindTraits(_l("Pause"), "#8a5a00", "#f3f5f8", "break", shared_by_all=True)
    NETWORKING = (
        "networking",
        KindTraits(_l("Netzwerken"), "#8a5a00", "#fff4d6", "meeting", shared_by_all=True),
    )

    # Each member carries its traits as attributes of its own (see KindTraits).
    label: LazyString
    colour: str
    tint: str
    frab_type: str
    needs_enrolment: bool
    shared_by_all: bool

    def __new__(cls, value: str, traits: KindTraits) -> ActivityKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.__dict__.update(vars(traits))
        return member

    @classmethod
    def shared_kinds(cls) -> list[ActivityKind]:
        """Return the kinds everyone attends (they go into every personal calendar)."""
        return [kind for kind in cls if kind.shared_by_all]


# Walk-ins without an e-mail address get a unique stand-in under this reserved domain (RFC 2606);
# nothing is ever sent there.
NO_EMAIL_DOMAIN = "@ohne-adresse.invalid"


class PersonRole(enum.StrEnum):
    """How a person takes part in an activity."""

    SPEAKER = "speaker"
    MODERATOR = "moderator"


class ParticipantRole(enum.StrEnum):
    """The role a registered person has on the day (printed on the badge)."""

    PARTICIPANT = "participant"
    SPEAKER = "speaker"
    PRESS = "press"
    STAFF = "staff"
    VIP = "vip"


class RegistrationStatus(enum.StrEnum):
    """Where a registration for the day stands."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class EnrolmentStatus(enum.StrEnum):
    """Where a registration's place in one activity stands."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class OrganiserRole(enum.StrEnum):
    """What an organiser account may do."""

    ADMIN = "admin"
    STAFF = "staff"
    CHECKIN = "checkin"


class MailStatus(enum.StrEnum):
    """Delivery state of a queued e-mail."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def _enum(kind: type[enum.StrEnum], length: int = 20) -> sa.Enum:
    """Store a StrEnum by value as a portable VARCHAR with a CHECK constraint."""
    return sa.Enum(
        kind,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class TimestampMixin:
    """Creation and last-change times, in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SeatCount:
    """Free places of something with an optional seat limit and a counter of seats taken."""

    if TYPE_CHECKING:
        capacity: int | None
        seats_taken: int

    @property
    def seats_left(self) -> int | None:
        """Return the free places, or None when there is no seat limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        """Tell whether every place is taken (new takers wait in line)."""
        return self.seats_left == 0


class Event(SeatCount, TimestampMixin, db.Model):
    """One Innovationstag (or any other event): its day(s), place and registration rules."""

    __tablename__ = "event"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint(
            "capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    subtitle: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    timezone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_ZONE)
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    organiser_name: Mapped[str] = mapped_column(sa.String(200), default="")
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Overall number of people for the day; None means no limit.
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    # Confirmed places for the day, counted while the event has a capacity (and counted afresh
    # whenever one is set); without a limit nothing is counted, so no registration waits for
    # this row. Organisers' over-capacity additions are not counted.
    seats_taken: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # At most this many confirmed delegates per network; None means no limit.
    per_network_limit: Mapped[int | None] = mapped_column(sa.Integer)
    published: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Bumped whenever the published programme changes; keys caches of PDFs and feeds.
    programme_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rooms: Mapped[list[Room]] = relationship(
        back_populates="event", order_by="Room.position, Room.name", cascade="all, delete-orphan"
    )
    activities: Mapped[list[Activity]] = relationship(
        back_populates="event",
        order_by="Activity.starts_at, Activity.id",
        cascade="all, delete-orphan",
    )
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )

    @property
    def days(self) -> list[date]:
        """Return each calendar day of the event."""
        count = (self.ends_on - self.starts_on).days + 1
        return [date.fromordinal(self.starts_on.toordinal() + i) for i in range(count)]

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class Room(db.Model):
    """A room at the venue with its seat count and access notes."""

    __tablename__ = "room"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "name", name="uq_room_event_name"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    capacity: Mapped[int] = mapped_column(sa.Integer)
    # Floor, step-free access, hearing loop and the like.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Column order in the timetable grid.
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="rooms")
    activities: Mapped[list[Activity]] = relationship(back_populates="room")

    def __repr__(self) -> str:
        return f"<Room {self.name}>"


class Person(TimestampMixin, db.Model):
    """A speaker or moderator."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # Academic or official title, e.g. "Dr." or "Staatssekretär".
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    bio: Mapped[str] = mapped_column(sa.Text, default="")

    appearances: Mapped[list[ActivityPerson]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    @property
    def display_name(self) -> str:
        """Return the name with its title, as printed in the programme."""
        return f"{self.title} {self.name}".strip()

    def __repr__(self) -> str:
        return f"<Person {self.name}>"


class ActivityPerson(db.Model):
    """A person's part (speaker or moderator) in one activity."""

    __tablename__ = "activity_person"

    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[PersonRole] = mapped_column(_enum(PersonRole), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    activity: Mapped[Activity] = relationship(back_populates="people")
    person: Mapped[Person] = relationship(back_populates="appearances")


class Activity(SeatCount, TimestampMixin, db.Model):
    """One item of the programme: a talk, workshop, exchange circle, ceremony or break."""

    __tablename__ = "activity"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        sa.CheckConstraint(
            "capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"
        ),
        sa.Index("ix_activity_event_start", "event_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identity for iCal UID and frab guid; never changes.
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("room.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[ActivityKind] = mapped_column(_enum(ActivityKind))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Seat limit; None means unlimited (no enrolment needed).
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    # Confirmed enrolments that count against the capacity, kept by the registration service.
    seats_taken: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # Participants choose this activity when registering (workshops, exchange circles).
    requires_enrolment: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="de")
    published: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    cancelled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The organiser confirmed that overlapping this activity's room is deliberate.
    overlap_confirmed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # iCal SEQUENCE: goes up when time, room, title or cancellation change.
    revision: Mapped[int] = mapped_column(sa.Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="activities")
    room: Mapped[Room | None] = relationship(back_populates="activities")
    people: Mapped[list[ActivityPerson]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="ActivityPerson.role, ActivityPerson.position",
    )
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )

    @property
    def speakers(self) -> list[Person]:
        """Return the speakers in their order."""
        return [p.person for p in self.people if p.role == PersonRole.SPEAKER]

    @property
    def moderators(self) -> list[Person]:
        """Return the moderators in their order."""
        return [p.person for p in self.people if p.role == PersonRole.MODERATOR]

    @property
    def duration_minutes(self) -> int:
        """Return the length in whole minutes."""
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.title!r}>"


class Network(db.Model):
    """One of the regional skilled-labour networks (Fachkräftenetzwerke)."""

    __tablename__ = "network"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    region: Mapped[str] = mapped_column(sa.String(200), default="")
    # Federal state (Bundesland), full German name.
    state: Mapped[str] = mapped_column(sa.String(60), default="", index=True)
    website: Mapped[str] = mapped_column(sa.String(300), default="")

    def __repr__(self) -> str:
        return f"<Network {self.name}>"


class Registration(TimestampMixin, db.Model):
    """One person registered for one event."""

    __tablename__ = "registration"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "email", name="uq_registration_event_email"),
        sa.Index("ix_registration_event_status", "event_id", "status"),
        sa.Index("ix_registration_event_last_name", "event_id", "last_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    salutation: Mapped[str] = mapped_column(sa.String(40), default="")
    title: Mapped[str] = mapped_column(sa.String(60), default="")
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    network_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("network.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(sa.String(60), default="")
    # Stored lower-cased; one registration per address and event.
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[ParticipantRole] = mapped_column(
        _enum(ParticipantRole), default=ParticipantRole.PARTICIPANT
    )
    # Language for e-mails and the manage page.
    language: Mapped[str] = mapped_column(sa.String(8), default="de")
    accessibility_needs: Mapped[str] = mapped_column(sa.Text, default="")
    dietary_wishes: Mapped[str] = mapped_column(sa.Text, default="")
    privacy_consent_version: Mapped[str] = mapped_column(sa.String(40))
    privacy_consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    photo_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    photo_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus), default=RegistrationStatus.CONFIRMED
    )
    # SHA-256 of the private manage-link token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # SHA-256 of the read-only calendar-feed token; feeds are looked up by it.
    calendar_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The calendar-feed token itself, independent of the manage links, so a new manage link
    # never breaks a subscribed calendar. Kept in clear (the manage page shows it): it only reads
    # what this row holds anyway. Empty for registrations from before it existed, whose feed
    # token is still derived from their first manage link.
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Random code in the badge QR code; holds no personal data.
    checkin_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # The check-in code as a QR code PNG, encoded once when the code is made (badges reuse it).
    checkin_qr_png: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # Registered by an organiser on the person's behalf (no capacity limits).
    added_by_organiser: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Confirmed beyond the event's capacity by an organiser; not counted in Event.seats_taken.
    over_capacity: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.text("false")
    )
    # Place on the event's waiting list: when the person asked for a seat for the day.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    organiser_notes: Mapped[str] = mapped_column(sa.Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    badge_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Name of the desk that checked the person in ("Eingang Nord"), as its staff set it.
    checked_in_desk: Mapped[str] = mapped_column(
        sa.String(60), default="", server_default=sa.text("''")
    )

    event: Mapped[Event] = relationship(back_populates="registrations")
    network: Mapped[Network | None] = relationship()
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        """Return title, first and last name as on a badge or list."""
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)

    @property
    def has_email(self) -> bool:
        """Tell whether the person gave an address (walk-ins may come without one)."""
        return not self.email.endswith(NO_EMAIL_DOMAIN)

    def __repr__(self) -> str:
        return f"<Registration {self.id}>"


class Enrolment(TimestampMixin, db.Model):
    """A registration's seat (or place in line) in one capacity-limited activity."""

    __tablename__ = "enrolment"
    __table_args__ = (
        sa.UniqueConstraint("registration_id", "activity_id", name="uq_enrolment_reg_activity"),
        sa.Index("ix_enrolment_activity_status_queued", "activity_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE")
    )
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activity.id", ondelete="CASCADE"))
    status: Mapped[EnrolmentStatus] = mapped_column(_enum(EnrolmentStatus))
    # Place in line: the time the choice was made (first come, first served).
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Added by an organiser beyond the seat limit; not counted in seats_taken.
    over_capacity: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    registration: Mapped[Registration] = relationship(back_populates="enrolments")
    activity: Mapped[Activity] = relationship(back_populates="enrolments")


class ManageLink(db.Model):
    """A further private manage link of a registration, e.g. the one a Rundmail carries.

    A registration's own link (Registration.token_hash) and these all open the same page;
    asking for a new link ("Link anfordern") ends them all. Only the SHA-256 is stored.
    """

    __tablename__ = "manage_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkshopAttendance(db.Model):
    """A person let in at a workshop's door on the day: one per person and activity."""

    __tablename__ = "workshop_attendance"
    __table_args__ = (
        # Two stewards scanning the same badge at the same moment record one attendance.
        sa.UniqueConstraint(
            "activity_id", "registration_id", name="uq_workshop_attendance_activity_registration"
        ),
        sa.Index("ix_workshop_attendance_registration", "registration_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activity.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE")
    )
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Name of the door's desk ("Saal 2, hinten"), as its steward set it.
    desk: Mapped[str] = mapped_column(sa.String(60), default="", server_default=sa.text("''"))
    # The steward's account; kept empty when the account is deleted.
    organiser_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )

    activity: Mapped[Activity] = relationship()
    registration: Mapped[Registration] = relationship()
    organiser: Mapped[Organiser | None] = relationship()

    def __repr__(self) -> str:
        return f"<WorkshopAttendance {self.activity_id}/{self.registration_id}>"


class Organiser(TimestampMixin, db.Model):
    """A login account of the organising office."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[OrganiserRole] = mapped_column(_enum(OrganiserRole), default=OrganiserRole.STAFF)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Changes on logout and password change, so old session cookies stop working.
    session_nonce: Mapped[str] = mapped_column(sa.String(32), default=lambda: uuid.uuid4().hex)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def set_password(self, password: str) -> None:
        """Store a scrypt hash of the password and end all existing sessions."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_nonce = uuid.uuid4().hex

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash (never for an invited account)."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """Tell whether a password was set (an invited account has none until it accepts)."""
        return bool(self.password_hash)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    def can(self, role: OrganiserRole) -> bool:
        """Tell whether this account holds at least the given role."""
        order = [OrganiserRole.CHECKIN, OrganiserRole.STAFF, OrganiserRole.ADMIN]
        return order.index(self.role) >= order.index(role)

    def __repr__(self) -> str:
        return f"<Organiser {self.email}>"


class AccountTokenPurpose(enum.StrEnum):
    """What a mailed account link is for."""

    INVITE = "invite"
    RESET = "reset"


class AccountToken(db.Model):
    """A single-use link to set an organiser's password: an invitation or a reset.

    Only the SHA-256 of the token is stored; the link itself exists in the mail alone.
    """

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[AccountTokenPurpose] = mapped_column(_enum(AccountTokenPurpose))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the link set a password; it never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a newer link, a revoked invitation or a deactivation made it worthless.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organiser: Mapped[Organiser] = relationship()

    def usable_at(self, moment: datetime) -> bool:
        """Tell whether the link still sets a password at that moment."""
        return self.used_at is None and self.revoked_at is None and moment < self.expires_at


class CampaignStatus(enum.StrEnum):
    """Where a mail to many participants (Rundmail) stands."""

    SENDING = "sending"
    SENT = "sent"


class MailCampaign(TimestampMixin, db.Model):
    """A mail an organiser sent to a group of participants; one outbox row per recipient."""

    __tablename__ = "mail_campaign"
    __table_args__ = (sa.Index("ix_mail_campaign_event_created", "event_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )
    # Kept as it was at the time, so the campaign still says who sent it when the account is gone.
    created_by_email: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    # The organiser's plain text with {placeholders}; never read as a template.
    body: Mapped[str] = mapped_column(sa.Text)
    # Language of the greeting and the workshop list put in for the placeholders.
    language: Mapped[str] = mapped_column(sa.String(8), default="de")
    # Who gets it: the segment's key and parameters, and its label as shown when sent.
    segment: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    segment_label: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus), default=CampaignStatus.SENDING
    )
    # Recipients fixed when it was sent.
    recipient_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The throttle's slot of its last mail: the next campaign's mails start after it.
    last_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the last of its mails was delivered or given up.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Random key of the confirmation form: a second click on "Senden" finds this campaign.
    send_key: Mapped[str] = mapped_column(sa.String(64), unique=True)

    event: Mapped[Event] = relationship()
    created_by: Mapped[Organiser | None] = relationship()


class OutboxMail(TimestampMixin, db.Model):
    """An e-mail written in the business transaction and delivered after commit."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        sa.Index("ix_outbox_mail_status_next", "status", "next_attempt_at"),
        # A campaign mails each person once, whatever is clicked or retried.
        sa.UniqueConstraint(
            "campaign_id", "registration_id", name="uq_outbox_mail_campaign_registration"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    # The complete RFC 5322 message, attachments included (empty until rendered, see below).
    message: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # What a mail rendered after commit needs besides its registration (e.g. the manage link);
    # None once the message is rendered.
    render_data: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))
    # What the mail is about: "registration", "promotion", "activity_changed", …
    kind: Mapped[str] = mapped_column(sa.String(40), default="")
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    activity_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("activity.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set (and committed) just before the message is handed to the mail server, cleared when
    # the attempt is recorded: a mail still marked when its lease is over may have left, so it is
    # never sent again on its own (an organiser decides).
    delivery_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The campaign (Rundmail) this mail belongs to; its sender is the campaign's organiser.
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mail_campaign.id", ondelete="SET NULL")
    )

    campaign: Mapped[MailCampaign | None] = relationship()


class ActivityChangeNotice(db.Model):
    """A pending or sent notice that a published activity moved, changed room or was cancelled.

    Holds the values from before the first edit not yet told, so several edits in a row become
    one message, and an edit that is undone sends none.
    """

    __tablename__ = "activity_change_notice"
    __table_args__ = (sa.Index("ix_activity_change_notice_pending", "sent_at", "last_change_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    old_title: Mapped[str] = mapped_column(sa.String(200))
    old_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    old_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    old_room_id: Mapped[int | None] = mapped_column(sa.Integer)
    # Room name at the time, kept in case the room is renamed or deleted.
    old_room_name: Mapped[str] = mapped_column(sa.String(120), default="")
    old_cancelled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    first_change_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_change_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the notice was turned into mails (or dropped because nothing changed in the end).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(sa.Integer, default=0)
    # What the mails said changed, e.g. "time,room"; empty when the edits were undone.
    changes: Mapped[str] = mapped_column(sa.String(60), default="")

    activity: Mapped[Activity] = relationship()


class ActivityCalendarEntry(db.Model):
    """An activity's serialized VEVENT in one language, so any process builds feeds from it.

    A table of its own rather than columns on Activity: there is one entry per language, and
    activity lists never load these kilobytes. The fingerprint covers every input of the
    VEVENT, so an entry whose fingerprint differs from the current one is never served.
    """

    __tablename__ = "activity_calendar_entry"

    activity_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    # SHA-256 (hex) of everything that shapes the VEVENT, the format version included.
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # The VEVENT exactly as icalendar serialized it (CRLF line ends, folded lines).
    vevent: Mapped[bytes] = mapped_column(sa.LargeBinary)


class PrintJobStatus(enum.StrEnum):
    """Where a background print job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PrintJob(TimestampMixin, db.Model):
    """A document rendered by the worker; its progress is polled, its PDF kept in the database."""

    __tablename__ = "print_job"
    __table_args__ = (sa.Index("ix_print_job_event_created", "event_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    # "badges", "programme", "sign_in_sheets" or "door_signs".
    kind: Mapped[str] = mapped_column(sa.String(30))
    # Layout, selection, sort, language … as chosen on the form.
    parameters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[PrintJobStatus] = mapped_column(
        _enum(PrintJobStatus), default=PrintJobStatus.QUEUED
    )
    done: Mapped[int] = mapped_column(sa.Integer, default=0)
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    # Registrations this job marked as printed, so the mark can be undone.
    marked_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    marks_undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Renewed every few seconds while a worker renders the job; a stale one means the worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How often a worker started rendering it (a job lost twice is given up).
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    event: Mapped[Event] = relationship()
    created_by: Mapped[Organiser | None] = relationship()
    file: Mapped[PrintJobFile | None] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )

    @property
    def unfinished(self) -> bool:
        """Tell whether the job still waits or runs."""
        return self.status in {PrintJobStatus.QUEUED, PrintJobStatus.RUNNING}


class PrintJobFile(db.Model):
    """A finished print job's PDF, kept in the database so every host can serve it."""

    __tablename__ = "print_job_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("print_job.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The file is deleted after this moment (PRINT_FILE_DAYS after it was made).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    job: Mapped[PrintJob] = relationship(back_populates="file")


class PrinterCalibration(db.Model):
    """A printer's offset for one badge layout of an event, in mm (right and down positive)."""

    __tablename__ = "printer_calibration"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "layout", name="uq_printer_calibration_event_layout"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    layout: Mapped[str] = mapped_column(sa.String(40))
    x_mm: Mapped[float] = mapped_column(sa.Float, default=0.0)
    y_mm: Mapped[float] = mapped_column(sa.Float, default=0.0)


class AccessibilityFeedback(TimestampMixin, db.Model):
    """A message sent through the accessibility statement's feedback form (BITV 2.0 § 12b)."""

    __tablename__ = "accessibility_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(sa.Text)
    # Where the barrier was met, in the sender's words (a page, a document, a step).
    page: Mapped[str] = mapped_column(sa.String(500), default="")
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    # For an answer; empty when the sender wants none.
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    language: Mapped[str] = mapped_column(sa.String(5), default="de")


class ExportKind(enum.StrEnum):
    """What an organiser took away with personal data in it."""

    REGISTRATIONS_CSV = "registrations_csv"
    REGISTRATIONS_XLSX = "registrations_xlsx"
    BADGES = "badges"
    PROGRAMME = "programme"
    SIGN_IN_SHEETS = "sign_in_sheets"
    DOOR_SIGNS = "door_signs"
    SINGLE_BADGE = "single_badge"
    ATTENDANCE_CSV = "attendance_csv"
    ATTENDANCE_XLSX = "attendance_xlsx"
    # Figures without personal data, logged all the same: who took which numbers when.
    DASHBOARD_CSV = "dashboard_csv"


class ExportLog(db.Model):
    """One export by an organiser (list, spreadsheet, print file): who, when, from where, what."""

    __tablename__ = "export_log"
    __table_args__ = (sa.Index("ix_export_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    organiser_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )
    # Kept as it was at the time, so the entry still says who when the account is gone.
    organiser_email: Mapped[str] = mapped_column(sa.String(254))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id", ondelete="SET NULL"))
    # The client's address (the real one behind TRUSTED_PROXIES).
    client_address: Mapped[str] = mapped_column(sa.String(64))
    # An ExportKind value; a plain string so a new kind needs no schema change.
    kind: Mapped[str] = mapped_column(sa.String(40))
    # How many people (rows, badges) the export held, when known.
    row_count: Mapped[int | None] = mapped_column(sa.Integer)
    # The filter or print job behind it, e.g. "q=müller&status=confirmed" or "job 12".
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    organiser: Mapped[Organiser | None] = relationship()
    event: Mapped[Event | None] = relationship()


class AccountLog(db.Model):
    """One change to an organiser account by an admin (or by a mailed link): who, what, when."""

    __tablename__ = "account_log"
    __table_args__ = (sa.Index("ix_account_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organiser.id", ondelete="SET NULL"))
    # Kept as they were at the time, so the entry still says who when an account is gone.
    actor_email: Mapped[str] = mapped_column(sa.String(254))
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )
    account_email: Mapped[str] = mapped_column(sa.String(254))
    # What happened: "invited", "role_changed", "deactivated", … (a plain string).
    action: Mapped[str] = mapped_column(sa.String(40))
    # E.g. the roles before and after a change.
    detail: Mapped[str] = mapped_column(sa.String(200), default="")
    # The client's address (the real one behind TRUSTED_PROXIES).
    client_address: Mapped[str] = mapped_column(sa.String(64), default="")


class ImportKind(enum.StrEnum):
    """What an uploaded table holds."""

    PARTICIPANTS = "participants"
    PEOPLE = "people"
    PROGRAMME = "programme"


class ImportStatus(enum.StrEnum):
    """Where an uploaded table stands: checked and imported by the worker, not the request."""

    UPLOADED = "uploaded"
    PREVIEWING = "previewing"
    PREVIEWED = "previewed"
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"


class PendingImport(db.Model):
    """An uploaded table, its preview and its import, both run by the worker.

    Kept in the database, so any host shows its progress and takes the confirmation; deleted
    when it expires.
    """

    __tablename__ = "pending_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only the organiser who uploaded the file sees its preview and confirms it.
    organiser_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    kind: Mapped[ImportKind] = mapped_column(_enum(ImportKind))
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # Choices made with the upload (mails, the participants' recorded consent).
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The upload is deleted after this moment.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[ImportStatus] = mapped_column(
        _enum(ImportStatus), default=ImportStatus.UPLOADED, server_default="uploaded"
    )
    # Rows checked (or imported) so far of all rows, while the worker runs.
    done: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int] = mapped_column(default=0, server_default="0")
    # The last run's report (each row's outcome), shown as the preview or the result.
    result: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    # Renewed by the running worker; a stale one means its worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))

    event: Mapped[Event] = relationship()
