"""The demo Innovationstag: rooms, programme, speakers and the network directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from eventapp.demo.networks import AWARD_WINNERS_2014, NETWORK_DIRECTORY
from eventapp.extensions import db
from eventapp.models import Activity, ActivityKind, Event, Network, Person, Room
from eventapp.services.programme.checks import ActivityValues, create_activity
from eventapp.timezones import DEFAULT_ZONE, from_local, to_local, utcnow
from eventapp.urls import event_url

DEMO_SLUG = "innovationstag-2014"

# (name, seats, notes); the column order of the timetable follows this list.
ROOMS: list[tuple[str, int, str]] = [
    ("Plenarsaal", 400, "Erdgeschoss, stufenlos erreichbar, Induktionsschleife"),
    ("Konferenzraum 1.1", 60, "1. Obergeschoss, Aufzug"),
    ("Konferenzraum 1.2", 45, "1. Obergeschoss, Aufzug"),
    ("Konferenzraum 2.1", 40, "2. Obergeschoss, Aufzug"),
    ("Konferenzraum 2.2", 30, "2. Obergeschoss, Aufzug"),
    ("Seminarraum 3.1", 24, "3. Obergeschoss, Aufzug"),
    ("Seminarraum 3.2", 20, "3. Obergeschoss, Aufzug"),
]

# (name, title, organisation); all but the state secretary are fictional.
PEOPLE: list[tuple[str, str, str]] = [
    ("Thorben Albrecht", "Staatssekretär", "Bundesministerium für Arbeit und Soziales"),
    ("Katrin Behrens", "Dr.", "Innovationsbüro Fachkräfte für die Region"),
    ("Jan Mertens", "", "Innovationsbüro Fachkräfte für die Region"),
    ("Sabine Vogt", "", "Innovationsbüro Fachkräfte für die Region"),
    ("Markus Feldmann", "", "Innovationsbüro Fachkräfte für die Region"),
    ("Andrea Kühn", "Prof. Dr.", "Hochschule für Wirtschaft und Recht Berlin"),
    ("Stefan Hollmann", "", "IHK Aachen"),
    ("Miriam Özdemir", "", "Welcome Center Region Hannover"),
    ("Thomas Brandt", "", "Handwerkskammer Cottbus"),
    ("Claudia Neumann", "", "Agentur für Arbeit Regensburg"),
    ("Piotr Nowak", "", "Netzwerk „Cleveres Köpfchen – Główka pracuje“"),
    ("Julia Wendt", "", "Jobcenter Rhein-Sieg"),
    ("Henrik Lorenz", "Dr.", "Kreishandwerkerschaft Südwestfalen"),
    ("Elena Schäfer", "", "Innovationsbüro Fachkräfte für die Region"),
]

W, E = ActivityKind.WORKSHOP, ActivityKind.EXCHANGE_CIRCLE


@dataclass(frozen=True)
class DemoItem:
    """One programme item of the demo day, at wall-clock times in Berlin."""

    title: str
    kind: ActivityKind
    starts: str
    ends: str
    room: str | None = None
    capacity: int | None = None
    speakers: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    description: str = ""


WINNER_LIST = ", ".join(name for name, _region, _state in AWARD_WINNERS_2014)

PROGRAMME: list[DemoItem] = [
    DemoItem(
        "Ankommen, Registrierung und Begrüßungskaffee",
        ActivityKind.BREAK,
        "09:00",
        "10:00",
        description="Badge-Ausgabe im Foyer, Kaffee und erste Gespräche.",
    ),
    DemoItem(
        "Begrüßung und Einführung in den Tag",
        ActivityKind.PLENARY,
        "10:00",
        "10:20",
        "Plenarsaal",
        speakers=("Dr. Katrin Behrens",),
        moderators=("Jan Mertens",),
        description="Das Innovationsbüro begrüßt die Netzwerke und stellt das Programm vor.",
    ),
    DemoItem(
        "Fachkräftesicherung weiter ausbauen – Rede des Bundesministeriums für Arbeit und Soziales",
        ActivityKind.PLENARY,
        "10:20",
        "10:50",
        "Plenarsaal",
        speakers=("Staatssekretär Thorben Albrecht",),
        description=(
            "Wie die Bundesregierung ihre Aktivitäten zur Fachkräftesicherung ausbaut und "
            "gemeinsam mit den Expertinnen und Experten in den Regionen neue Impulse setzt."
        ),
    ),
    DemoItem(
        "Preisverleihung „Innovative Netzwerke 2014“",
        ActivityKind.AWARD_CEREMONY,
        "10:50",
        "11:50",
        "Plenarsaal",
        speakers=("Staatssekretär Thorben Albrecht",),
        moderators=("Jan Mertens",),
        description=(
            "Das BMAS zeichnet fünf herausragend innovative Netzwerke zur Fachkräftesicherung "
            f"aus: {WINNER_LIST}."
        ),
    ),
    DemoItem("Mittagspause", ActivityKind.BREAK, "11:50", "12:45"),
    # First round of workshops and exchange circles.
    DemoItem(
        "Fachkräftesicherung in kleinen und mittleren Unternehmen",
        W,
        "12:45",
        "14:15",
        "Konferenzraum 1.1",
        60,
        speakers=("Claudia Neumann",),
        moderators=("Sabine Vogt",),
        description="Wie Netzwerke Betriebe ohne eigene Personalabteilung erreichen und beraten.",
    ),
    DemoItem(
        "Ausbildung attraktiv machen: Wege zu mehr Bewerberinnen und Bewerbern",
        W,
        "12:45",
        "14:15",
        "Konferenzraum 1.2",
        45,
        speakers=("Thomas Brandt",),
        moderators=("Markus Feldmann",),
        description="Berufsorientierung, Praktika und Ausbildungsbotschafter in der Region.",
    ),
    DemoItem(
        "Studienabbrecherinnen und Studienabbrecher als Fachkräfte gewinnen",
        W,
        "12:45",
        "14:15",
        "Konferenzraum 2.1",
        40,
        speakers=("Stefan Hollmann",),
        moderators=("Elena Schäfer",),
        description=(
            "Verkürzte Ausbildung nach dem Vorbild von SWITCH: Ansprache, Anrechnung, Partner."
        ),
    ),
    DemoItem(
        "Erfahrungsaustausch: Netzwerkmanagement und Finanzierung",
        E,
        "12:45",
        "14:15",
        "Konferenzraum 2.2",
        30,
        moderators=("Jan Mertens",),
        description="Wie Netzwerke ihre Arbeit nach dem Ende einer Förderung verstetigen.",
    ),
    DemoItem(
        "Erfahrungsaustausch: Fachkräftesicherung im ländlichen Raum",
        E,
        "12:45",
        "14:15",
        "Seminarraum 3.1",
        24,
        moderators=("Dr. Henrik Lorenz",),
        description="Mobilität, Wohnen und Rückkehrerinitiativen abseits der Ballungsräume.",
    ),
    DemoItem("Kaffeepause", ActivityKind.BREAK, "14:15", "14:45"),
    # Second round.
    DemoItem(
        "Zuwanderung und Anerkennung ausländischer Berufsabschlüsse",
        W,
        "14:45",
        "16:15",
        "Konferenzraum 1.1",
        60,
        speakers=("Miriam Özdemir",),
        moderators=("Sabine Vogt",),
        description="Anerkennungsberatung, Sprachförderung und Begleitung in den ersten Monaten.",
    ),
    DemoItem(
        "Willkommenskultur in Betrieben und Kommunen",
        W,
        "14:45",
        "16:15",
        "Konferenzraum 1.2",
        45,
        speakers=("Julia Wendt",),
        moderators=("Elena Schäfer",),
        description="Was neue Fachkräfte und ihre Familien brauchen, damit sie bleiben.",
    ),
    DemoItem(
        "Arbeitgeberattraktivität: Mit kleinen Mitteln als Arbeitgeber sichtbar werden",
        W,
        "14:45",
        "16:15",
        "Konferenzraum 2.1",
        40,
        speakers=("Prof. Dr. Andrea Kühn",),
        moderators=("Markus Feldmann",),
        description="Arbeitgebermarken, Regionalmarketing und gemeinsame Auftritte von Betrieben.",
    ),
    DemoItem(
        "Demografischer Wandel: Ältere Beschäftigte halten und gewinnen",
        W,
        "14:45",
        "16:15",
        "Konferenzraum 2.2",
        30,
        speakers=("Dr. Henrik Lorenz",),
        description="Gesund älter werden im Betrieb, Wissenstransfer und flexible Übergänge.",
    ),
    DemoItem(
        "Erfahrungsaustausch: Grenzüberschreitende Fachkräftegewinnung",
        E,
        "14:45",
        "16:15",
        "Seminarraum 3.1",
        24,
        speakers=("Piotr Nowak",),
        moderators=("Jan Mertens",),
        description="Deutsch-polnische Ausbildung und Sprachförderung nach „Cleveres Köpfchen“.",
    ),
    DemoItem(
        "Erfahrungsaustausch: Frauen in MINT-Berufen",
        E,
        "14:45",
        "16:15",
        "Seminarraum 3.2",
        20,
        moderators=("Claudia Neumann",),
        description="Netzwerke berichten, wie sie junge Frauen für technische Berufe gewinnen.",
    ),
    DemoItem(
        "Abschluss im Plenum: Ergebnisse der Workshops und Ausblick",
        ActivityKind.PLENARY,
        "16:30",
        "17:00",
        "Plenarsaal",
        speakers=("Dr. Katrin Behrens",),
        moderators=("Jan Mertens",),
    ),
    DemoItem(
        "Ausklang und Netzwerken",
        ActivityKind.NETWORKING,
        "17:00",
        "18:30",
        description="Gespräche bei einem kleinen Imbiss im Foyer.",
    ),
]


def default_demo_day(today: date) -> date:
    """Return the first Tuesday at least 60 days after today."""
    day = today + timedelta(days=60)
    return day + timedelta(days=(1 - day.weekday()) % 7)


@dataclass
class SeedResult:
    """How many things a seed run created."""

    event: Event
    created_event: bool = False
    rooms: int = 0
    people: int = 0
    activities: int = 0
    networks: int = 0


def seed_networks() -> int:
    """Add the award winners and the directory, skipping networks that exist by name."""
    existing = set(db.session.scalars(sa.select(Network.name)))
    added = 0
    for name, region, state in [*AWARD_WINNERS_2014, *NETWORK_DIRECTORY]:
        if name not in existing:
            db.session.add(Network(name=name, region=region, state=state))
            existing.add(name)
            added += 1
    db.session.flush()
    return added


def _demo_event(day: date | None) -> tuple[Event, bool]:
    event = db.session.scalar(sa.select(Event).where(Event.slug == DEMO_SLUG))
    if event is not None:
        return event, False
    today = to_local(utcnow(), DEFAULT_ZONE).date()
    day = day or default_demo_day(today)
    event = Event(
        slug=DEMO_SLUG,
        title="3. Innovationstag",
        subtitle="Fachkräftesicherung weiter ausbauen – mit der Preisverleihung "
        "„Innovative Netzwerke 2014“",
        description=(
            "Der Innovationstag bietet den bundesweit fast 600 Netzwerken zur "
            "Fachkräftesicherung Gelegenheit zum Erfahrungsaustausch: mit Workshops, "
            "Erfahrungsaustauschkreisen und der Auszeichnung innovativer Netzwerke durch das "
            "Bundesministerium für Arbeit und Soziales."
        ),
        starts_on=day,
        ends_on=day,
        timezone=DEFAULT_ZONE,
        venue="Haus der Deutschen Wirtschaft",
        address="Breite Straße 29, 10178 Berlin",
        organiser_name="Innovationsbüro Fachkräfte für die Region (DIHK Service GmbH)",
        contact_email="kontakt@fachkraeftebuero.de",
        contact_phone="030 20308-6201",
        registration_opens_at=from_local(today - timedelta(days=14), time(9, 0), DEFAULT_ZONE),
        registration_closes_at=from_local(day - timedelta(days=2), time(23, 59), DEFAULT_ZONE),
        capacity=420,
        per_network_limit=3,
        published=True,
    )
    db.session.add(event)
    db.session.flush()
    return event, True


def seed_demo(day: date | None = None) -> SeedResult:
    """Create the demo Innovationstag; a second run adds nothing that exists already."""
    event, created = _demo_event(day)
    result = SeedResult(event=event, created_event=created)
    result.networks = seed_networks()
    rooms = {room.name: room for room in event.rooms}
    for position, (name, capacity, notes) in enumerate(ROOMS):
        if name not in rooms:
            rooms[name] = Room(
                event=event, name=name, capacity=capacity, notes=notes, position=position
            )
            db.session.add(rooms[name])
            result.rooms += 1
    known = set(db.session.scalars(sa.select(Person.name)))
    for name, title, organisation in PEOPLE:
        if name not in known:
            db.session.add(Person(name=name, title=title, organisation=organisation))
            result.people += 1
    db.session.flush()
    titles = set(db.session.scalars(sa.select(Activity.title).where(Activity.event_id == event.id)))
    for item in PROGRAMME:
        if item.title in titles:
            continue
        hours = [time.fromisoformat(item.starts), time.fromisoformat(item.ends)]
        create_activity(
            event,
            ActivityValues(
                title=item.title,
                kind=item.kind,
                day=event.starts_on,
                starts=hours[0],
                ends=hours[1],
                room_id=rooms[item.room].id if item.room else None,
                capacity=item.capacity,
                speakers=list(item.speakers),
                moderators=list(item.moderators),
                description=item.description,
            ),
        )
        result.activities += 1
    return result


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when any event exists.")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Day of a newly created demo event (default: first Tuesday 60 days ahead).",
)
@click.option(
    "--participants", type=click.IntRange(min=0), default=0, help="Also register N people."
)
@with_appcontext
def seed_demo_command(if_empty: bool, day: object, participants: int) -> None:
    """Load the demo Innovationstag (idempotent) and, optionally, fictional participants."""
    if if_empty and db.session.scalar(sa.select(Event.id).limit(1)) is not None:
        click.echo("Events exist already; demo not loaded.")
        return
    result = seed_demo(day.date() if day is not None else None)  # type: ignore[attr-defined]
    db.session.commit()
    event = result.event
    click.echo(
        f"{'Created' if result.created_event else 'Kept'} {event.title} on "
        f"{event.starts_on.isoformat()} ({event_url(event)}): {result.rooms} rooms, "
        f"{result.activities} activities, {result.people} people, "
        f"{result.networks} networks added."
    )
    if participants:
        from eventapp.demo.participants import create_participants

        with click.progressbar(length=participants, label="Registering participants") as bar:
            # The callback receives how many people are registered so far.
            done = create_participants(event, participants, lambda n: bar.update(n - bar.pos))
        from eventapp.demo.history import add_demo_history

        history = add_demo_history(event)
        db.session.commit()
        click.echo(f"{done} participants registered.")
        click.echo(
            f"Registration times spread over the registration window; "
            f"{history.checked_in} people checked in on the morning of the event day."
        )
