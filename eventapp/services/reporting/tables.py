"""The dashboard's figures as tables: shown under each chart and downloaded as CSV, one source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _

from eventapp.services.registration.lists import safe_cell, to_csv
from eventapp.services.reporting.figures import EventFigures
from eventapp.timezones import format_local

Cell = str | int


@dataclass(frozen=True)
class FigureTable:
    """One chart's numbers: a caption, column heads and rows (the first column names the row)."""

    key: str
    caption: str
    header: list[str]
    rows: list[list[Cell]]

    def csv(self) -> bytes:
        """Return the table as CSV for spreadsheets (BOM, semicolons, formulas neutralised)."""
        return to_csv([[safe_cell(cell) for cell in row] for row in [self.header, *self.rows]])


def _day(value: object) -> str:
    return value.strftime("%d.%m.%Y")  # type: ignore[attr-defined]


def registrations_table(figures: EventFigures) -> FigureTable:
    """Return registrations per day with running totals."""
    return FigureTable(
        "anmeldungen",
        _("Anmeldungen je Tag (heute bestätigt oder auf der Warteliste)"),
        [
            _("Tag"),
            _("Bestätigt"),
            _("Warteliste"),
            _("Bestätigt, insgesamt"),
            _("Warteliste, insgesamt"),
        ],
        [
            [_day(d.day), d.confirmed, d.waitlisted, d.confirmed_total, d.waitlisted_total]
            for d in figures.registrations
        ],
    )


def activities_table(figures: EventFigures) -> FigureTable:
    """Return confirmed, waiting and free places per enrolment activity."""
    zone = figures.event.timezone
    return FigureTable(
        "angebote",
        _("Plätze je Workshop und Erfahrungsaustauschkreis"),
        [_("Angebot"), _("Beginn"), _("Plätze"), _("Bestätigt"), _("Warteliste"), _("Frei")],
        [
            [
                a.title,
                format_local(a.starts_at, zone, "%H:%M"),
                a.capacity if a.capacity is not None else _("unbegrenzt"),
                a.confirmed,
                a.waitlisted,
                a.free if a.free is not None else "–",
            ]
            for a in figures.activities
        ],
    )


def states_table(figures: EventFigures) -> FigureTable:
    """Return networks and confirmed people per Bundesland, the rest in a last row."""
    rows: list[list[Cell]] = [[s.state, s.networks, s.people] for s in figures.states]
    rows.append([_("ohne Bundesland"), "–", figures.people_without_state])
    return FigureTable(
        "bundeslaender",
        _("Vertretene Netzwerke und bestätigte Personen je Bundesland"),
        [_("Bundesland"), _("Netzwerke"), _("Personen")],
        rows,
    )


def checkins_table(figures: EventFigures) -> FigureTable:
    """Return check-ins per quarter-hour (event time) with the running total."""
    zone = figures.event.timezone
    several_days = len(figures.checkins) > 1
    rows: list[list[Cell]] = []
    for day in figures.checkins:
        for slot in day.slots:
            start = format_local(slot.starts_at, zone, "%H:%M")
            label = f"{_day(day.day)} {start}" if several_days else start
            rows.append([label, slot.count, slot.total])
    return FigureTable(
        "einlass",
        _("Einlass je Viertelstunde (Ortszeit der Veranstaltung, %(zone)s)", zone=zone),
        [_("Ab"), _("Eingecheckt"), _("Insgesamt")],
        rows,
    )


def no_shows_table(figures: EventFigures) -> FigureTable:
    """Return per enrolment activity the confirmed people and those who did not come."""
    zone = figures.event.timezone
    return FigureTable(
        "nicht-erschienen",
        _("Nicht erschienen je Workshop und Erfahrungsaustauschkreis"),
        [_("Angebot"), _("Beginn"), _("Bestätigt"), _("Nicht erschienen")],
        [
            [n.title, format_local(n.starts_at, zone, "%H:%M"), n.confirmed, n.absent]
            for n in figures.no_shows
        ],
    )


# The charts in page order, by the key used in their URLs and ids.
TABLES: dict[str, Callable[[EventFigures], FigureTable]] = {
    "anmeldungen": registrations_table,
    "angebote": activities_table,
    "bundeslaender": states_table,
    "einlass": checkins_table,
    "nicht-erschienen": no_shows_table,
}
