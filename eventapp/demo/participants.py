"""Fictional but plausible participants for the demo event, registered through the real rules."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

import sqlalchemy as sa

from eventapp.extensions import db
from eventapp.labels import FEDERAL_STATES
from eventapp.models import Event, Network, ParticipantRole, Registration
from eventapp.services import DomainError
from eventapp.services.registration import registrations as service

# The names of FIRST_NAMES that "Frau" goes with: the demo's Anrede fits the first name.
WOMEN = frozenset(
    [
        "Anna",
        "Birgit",
        "Claudia",
        "Dagmar",
        "Elke",
        "Franziska",
        "Gabriele",
        "Heike",
        "Ines",
        "Jana",
        "Katrin",
        "Lena",
        "Monika",
        "Nadine",
        "Olga",
        "Petra",
        "Ramona",
        "Sabine",
        "Tanja",
        "Ulrike",
        "Verena",
        "Wiebke",
        "Yvonne",
        "Zeynep",
        "Aylin",
        "Hannelore",
        "Luisa",
        "Bärbel",
        "Kübra",
    ]
)


def _salutation(first_name: str, given: str) -> str:
    """No Anrede where the draw gave none, else the one that fits the first name."""
    if not given:
        return ""
    return "Frau" if first_name in WOMEN else "Herr"


FIRST_NAMES = [
    "Anna",
    "Andreas",
    "Birgit",
    "Bernd",
    "Claudia",
    "Christian",
    "Dagmar",
    "Daniel",
    "Elke",
    "Enrico",
    "Franziska",
    "Frank",
    "Gabriele",
    "Georg",
    "Heike",
    "Holger",
    "Ines",
    "Ingo",
    "Jana",
    "Jens",
    "Katrin",
    "Klaus",
    "Lena",
    "Lars",
    "Monika",
    "Markus",
    "Nadine",
    "Nils",
    "Olga",
    "Oliver",
    "Petra",
    "Peter",
    "Ramona",
    "René",
    "Sabine",
    "Stefan",
    "Tanja",
    "Thomas",
    "Ulrike",
    "Uwe",
    "Verena",
    "Volker",
    "Wiebke",
    "Wolfgang",
    "Yvonne",
    "Zeynep",
    "Mehmet",
    "Aylin",
    "Dirk",
    "Sören",
    "Jörg",
    "Bärbel",
    "Hannelore",
    "Maximilian",
    "Luisa",
    "Kübra",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Peters",
    "Möller",
    "Kaiser",
    "Fuchs",
    "Lang",
    "Weiß",
    "Jung",
    "Hahn",
    "Vogel",
    "Friedrich",
    "Günther",
    "Yılmaz",
    "Kowalski",
    "Nowak",
    "Öztürk",
    "Jansen",
    "Petersen",
    "Brandt",
    "Haas",
    "Sommer",
]
CITIES = [
    "Stendal",
    "Magdeburg",
    "Cottbus",
    "Rostock",
    "Schwerin",
    "Erfurt",
    "Gera",
    "Chemnitz",
    "Zwickau",
    "Leipzig",
    "Dresden",
    "Halle (Saale)",
    "Kassel",
    "Fulda",
    "Bielefeld",
    "Münster",
    "Oldenburg",
    "Osnabrück",
    "Lüneburg",
    "Kiel",
    "Flensburg",
    "Trier",
    "Koblenz",
    "Saarbrücken",
    "Freiburg",
    "Ulm",
    "Heilbronn",
    "Regensburg",
    "Passau",
    "Würzburg",
    "Bamberg",
    "Bremen",
]
REGIONS = [
    "Altmark",
    "Lausitz",
    "Vorpommern",
    "Ostthüringen",
    "Südwestsachsen",
    "Nordhessen",
    "Ostwestfalen",
    "Emsland",
    "Nordschwarzwald",
    "Oberfranken",
    "Niederbayern",
    "Westpfalz",
]
COMPANY_WORDS = [
    "Metallbau",
    "Elektrotechnik",
    "Pflegedienst",
    "Logistik",
    "Maschinenbau",
    "Bauunternehmen",
    "Softwarehaus",
    "Holzbau",
    "Kunststofftechnik",
    "Gebäudetechnik",
]
TITLES = ["", "", "", "", "", "", "Dr.", "Dr.", "Prof. Dr."]
DIETS = ["", "", "", "", "", "", "vegetarisch", "vegan", "glutenfrei", "laktosefrei"]
NEEDS = ["", "", "", "", "", "", "", "", "", "", "", "", "Rollstuhlplatz", "Induktionsschleife"]


def _organisation(rng: random.Random) -> str:
    """Return a plausible organisation of a skilled-labour network member."""
    city, region = rng.choice(CITIES), rng.choice(REGIONS)
    kind = rng.randrange(7)
    if kind == 0:
        return f"Agentur für Arbeit {city}"
    if kind == 1:
        return f"IHK {region}"
    if kind == 2:
        return f"Handwerkskammer {city}"
    if kind == 3:
        return f"Landkreis {region}"
    if kind == 4:
        return f"Jobcenter {city}"
    if kind == 5:
        return f"Wirtschaftsförderung {region}"
    return f"{rng.choice(LAST_NAMES)} {rng.choice(COMPANY_WORDS)} GmbH"


def _ascii(text: str) -> str:
    """Turn a name into the ASCII local part of an e-mail address."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = text.replace("ß", "ss").replace("ı", "i")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain if c.isalnum() or c in ".-")


def _pick_choices(rng: random.Random, slots: list[list[int]]) -> list[int]:
    """Choose one activity per slot, or none, with the first-listed ones most wanted."""
    chosen = []
    for slot in slots:
        if rng.random() < 0.15:
            continue
        weights = [1.0 / (rank + 1) ** 1.2 for rank in range(len(slot))]
        chosen.append(rng.choices(slot, weights=weights)[0])
    return chosen


def create_participants(
    event: Event, count: int, progress: Callable[[int], None] | None = None
) -> int:
    """Register count fictional people for the event (real rules, no mails); return how many."""
    rng = random.Random(f"{event.slug}-{count}")
    networks = db.session.scalars(sa.select(Network).order_by(Network.id)).all()
    slots = [
        [activity.id for activity in slot]
        for slot in service.time_slots(service.enrollable_activities(event))
    ]
    taken = set(
        db.session.scalars(sa.select(Registration.email).where(Registration.event_id == event.id))
    )
    created = 0
    for number in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        network = rng.choice(networks) if networks and rng.random() < 0.85 else None
        email = f"{_ascii(first)}.{_ascii(last)}{number}@example.org"
        if email in taken:
            continue
        role = ParticipantRole.PARTICIPANT
        if rng.random() < 0.03:
            role = ParticipantRole.PRESS
        person = service.Participant(
            salutation=_salutation(first, rng.choice(["Frau", "Herr", ""])),
            title=rng.choice(TITLES),
            first_name=first,
            last_name=last,
            organisation=_organisation(rng),
            network_id=network.id if network else None,
            state=network.state if network and network.state else rng.choice(FEDERAL_STATES),
            email=email,
            role=role,
            language="en" if rng.random() < 0.05 else "de",
            accessibility_needs=rng.choice(NEEDS),
            dietary_wishes=rng.choice(DIETS),
            photo_consent=rng.random() < 0.7,
            privacy_consent_version="2026-01",
        )
        choices = _pick_choices(rng, slots)
        try:
            service.register(event, person, choices, ignore_window=True, notify=False)
        except DomainError:
            # The network has reached its limit: this person comes without a network.
            person.network_id = None
            service.register(event, person, choices, ignore_window=True, notify=False)
        created += 1
        if progress is not None and created % 50 == 0:
            progress(created)
    if progress is not None:
        progress(created)
    return created
