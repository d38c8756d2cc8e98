"""Imports from CSV and XLSX: reading, columns, participants (capacities and waiting lists),
people and the programme, all rows or none; the command line."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from eventapp.extensions import db
from eventapp.models import (
    Activity,
    ActivityKind,
    Enrolment,
    EnrolmentStatus,
    Event,
    ImportKind,
    Network,
    Person,
    Registration,
    RegistrationStatus,
)
from eventapp.services.imports.columns import PARTICIPANT_COLUMNS, map_columns
from eventapp.services.imports.reading import MAX_ROWS, UnreadableFile, read_table
from eventapp.services.imports.rows import ImportOptions, ImportReport, Outcome, run_import
from eventapp.services.registration import lists
from eventapp.services.registration import registrations as service
from tests.factories import make_activity, make_event, make_room

OPTIONS = ImportOptions(consent_version="2026-01")
HEADER = "Vorname;Nachname;E-Mail;Organisation;Bundesland;Workshops"


def participants(event: Event, text: str, encoding: str = "utf-8") -> ImportReport:
    """Import participant rows into the open transaction."""
    return run_import(event, ImportKind.PARTICIPANTS, text.encode(encoding), "t.csv", OPTIONS)


def registration_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count(Registration.id))) or 0)


def xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it starts like a formula
    book.create_sheet("Zweites Blatt").append(["nicht gelesen"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- Reading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter", "detected"),
    [
        ("utf-8-sig", ";", "UTF-8 (BOM)"),
        ("utf-8", ",", "UTF-8"),
        ("cp1252", ";", "Windows-1252"),
        ("cp1252", ",", "Windows-1252"),
    ],
)
def test_read_table_detects_encoding_and_delimiter(
    encoding: str, delimiter: str, detected: str
) -> None:
    text = delimiter.join(["Vorname", "Nachname", "Organisation"]) + "\r\n"
    text += delimiter.join(["Jürgen", "Müßig", '"Straße 1, Köln; Süd"']) + "\r\n\r\n"
    table = read_table(text.encode(encoding), "liste.csv")
    assert table.encoding == detected
    assert table.delimiter == delimiter
    assert table.header == ["Vorname", "Nachname", "Organisation"]
    assert table.rows == [(2, ["Jürgen", "Müßig", "Straße 1, Köln; Süd"])]


def test_read_table_takes_the_first_sheet_of_an_xlsx_with_values_as_text() -> None:
    content = xlsx(
        [
            ["Titel", "Beginn", "Ende", "Kapazität", "Datum", "Notiz"],
            [
                "Auftakt",
                datetime(2026, 6, 11, 9, 30),  # noqa: DTZ001 (a cell holds wall-clock time)
                time(10, 15),
                40,
                date(2026, 6, 11),
                "=1+1",
            ],
        ]
    )
    table = read_table(content, "programm.xlsx")
    assert table.encoding == "XLSX"
    assert table.rows == [(2, ["Auftakt", "2026-06-11 09:30", "10:15", "40", "2026-06-11", "=1+1"])]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "x.csv", "leer"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "bild.csv", "keine Tabelle"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "alt.xls", ".xls"),
        (b"PK\x03\x04kaputt", "x.xlsx", "beschädigt"),
        (b"kein zip", "x.xlsx", "beschädigt"),
        (b"a" * (5 * 1024 * 1024 + 1), "riesig.csv", "größer als 5 MB"),
        (b"\x81\x8d\x8f\x90\x9d" * 3, "x.csv", "weder als UTF-8 noch als Windows-1252"),
        ("Name\n" + "x\n" * (MAX_ROWS + 1), "lang.csv", "mehr als"),
        (
            "Name;E-Mail\n" + "x;x@example.org\n" * 2000 + "y;y\x00@example.org\n",
            "x.csv",
            "Zeile 2002",
        ),
    ],
)
def test_read_table_refuses_what_is_no_table_with_a_message(
    content: bytes | str, filename: str, message: str
) -> None:
    raw = content.encode() if isinstance(content, str) else content
    with pytest.raises(UnreadableFile) as caught:
        read_table(raw, filename)
    assert message in caught.value.message


def test_columns_found_by_german_headings_and_english_aliases() -> None:
    header = [" VORNAME ", "last name", "e-mail address", "Lieblingsfarbe", "Bundes-Land"]
    found = map_columns(PARTICIPANT_COLUMNS, header)
    assert found.index == {"first_name": 0, "last_name": 1, "email": 2, "state": 4}
    assert found.ignored == ["Lieblingsfarbe"]
    with pytest.raises(UnreadableFile, match="„E-Mail“"):
        map_columns(PARTICIPANT_COLUMNS, ["Vorname", "Nachname"])
    with pytest.raises(UnreadableFile, match="zweimal"):
        map_columns(PARTICIPANT_COLUMNS, ["Vorname", "Nachname", "E-Mail", "Email"])


# --- Participants ---------------------------------------------------------------------------


@pytest.fixture
def workshop_day(ctx: Flask) -> tuple[Event, Activity, Activity]:
    event = make_event()
    room = make_room(event, "Saal 1", capacity=100)
    small = make_activity(
        event, "Fachkräfte sichern, Zukunft gestalten", "10:00", "11:00", room, capacity=2
    )
    other = make_activity(event, "Ausbildung digital", "11:30", "12:30", room, capacity=50)
    db.session.add(Network(name="Fachkräftenetzwerk Altmark", state="Sachsen-Anhalt"))
    db.session.commit()
    return event, small, other


def test_full_workshop_puts_people_on_the_waiting_list_in_file_order(workshop_day) -> None:
    event, small, _other = workshop_day
    rows = [HEADER] + [
        f"Person;Nummer{i};p{i}@example.org;IHK;Berlin;Fachkräfte sichern, Zukunft gestalten"
        for i in range(1, 6)
    ]
    report = participants(event, "\n".join(rows))
    assert report.ok, report.errors
    assert [r.outcome for r in report.rows] == [Outcome.NEW] * 5
    assert [r.notes for r in report.rows[1:4]] == [
        ["„Fachkräfte sichern, Zukunft gestalten“: Platz"],
        ["„Fachkräfte sichern, Zukunft gestalten“: Warteliste, Platz 1"],
        ["„Fachkräfte sichern, Zukunft gestalten“: Warteliste, Platz 2"],
    ]
    db.session.commit()
    line = db.session.execute(
        sa.select(Registration.last_name, Enrolment.status)
        .join(Enrolment, Enrolment.registration_id == Registration.id)
        .where(Enrolment.activity_id == small.id)
        .order_by(Enrolment.queued_at, Enrolment.id)
    ).all()
    assert line == [
        ("Nummer1", EnrolmentStatus.CONFIRMED),
        ("Nummer2", EnrolmentStatus.CONFIRMED),
        ("Nummer3", EnrolmentStatus.WAITLISTED),
        ("Nummer4", EnrolmentStatus.WAITLISTED),
        ("Nummer5", EnrolmentStatus.WAITLISTED),
    ]
    assert db.session.get(Activity, small.id).seats_taken == 2


def test_full_event_puts_people_on_the_day_waiting_list(workshop_day) -> None:
    event, _small, _other = workshop_day
    event.capacity = 1
    db.session.commit()
    rows = [HEADER, "A;Eins;a@example.org;IHK;BE;", "B;Zwei;b@example.org;IHK;BE;"]
    report = participants(event, "\n".join(rows))
    assert report.rows[0].notes == []
    assert report.rows[1].notes == ["Veranstaltung ausgebucht: Warteliste für den Tag, Platz 1"]


def test_row_errors_name_row_and_column_in_german_and_nothing_is_stored(workshop_day) -> None:
    event, _small, _other = workshop_day
    rows = [
        HEADER + ";Netzwerk;Rolle",
        "Erika;Muster;erika@example.org;IHK;NRW;Ausbildung digital;Fachkräftenetzwerk Altmark;",
        "Max;;kein-at-zeichen;IHK;Bayern;Gibt es nicht;;",
        "Eva;Test;ERIKA@example.org;IHK;Mars;;Unbekanntes Netz;Chefin",
        "Tom;Tab\x07;tom@example.org;IHK;BY;;;",
    ]
    report = participants(event, "\n".join(rows))
    assert not report.ok
    assert [r.number for r in report.errors] == [3, 4, 5], report.rows[0]
    assert report.rows[0].outcome == Outcome.NEW  # state left as typed, network known
    by_row = {r.number: " | ".join(r.errors) for r in report.errors}
    assert "Nachname: Bitte geben Sie Ihren Nachnamen ein." in by_row[3]
    assert "E-Mail: Bitte geben Sie eine gültige E-Mail-Adresse ein" in by_row[3]
    assert "Workshops: „Gibt es nicht“ gibt es bei dieser Veranstaltung nicht" in by_row[3]
    assert "E-Mail: Diese Adresse steht schon in Zeile 2." in by_row[4]
    assert "Bundesland: „Mars“ ist kein Bundesland" in by_row[4]
    assert "Netzwerk: „Unbekanntes Netz“ steht nicht in der Liste" in by_row[4]
    assert "Rolle: „Chefin“ ist keine Rolle" in by_row[4]
    assert "Nachname: Bitte entfernen Sie unsichtbare Steuerzeichen." in by_row[5]
    db.session.rollback()
    assert registration_count() == 0


def test_state_comes_from_the_network_when_left_empty(workshop_day) -> None:
    event, _small, _other = workshop_day
    text = (
        "Vorname;Nachname;E-Mail;Organisation;Netzwerk\n"
        "A;B;ab@example.org;IHK;fachkräftenetzwerk altmark"
    )
    report = participants(event, text)
    assert report.ok, report.errors
    db.session.commit()
    stored = db.session.scalar(sa.select(Registration))
    assert stored.state == "Sachsen-Anhalt"
    assert stored.network.name == "Fachkräftenetzwerk Altmark"


def test_hostile_cells_stay_text(workshop_day) -> None:
    event, _small, _other = workshop_day
    text = (
        "Vorname;Nachname;E-Mail;Organisation;Bundesland\n"
        '=HYPERLINK("http://böse.example");<script>alert(1)</script>;h@example.org;'
        "'@SUM(A1);BE\n"
    )
    report = participants(event, text)
    assert report.ok, report.errors
    db.session.commit()
    stored = db.session.scalar(sa.select(Registration))
    assert stored.first_name == '=HYPERLINK("http://böse.example")'
    assert stored.last_name == "<script>alert(1)</script>"
    assert stored.organisation == "@SUM(A1)"  # the export's apostrophe is dropped on import


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_reimports_as_unchanged_and_a_changed_cell_as_update(workshop_day, kind) -> None:
    event, small, other = workshop_day
    for number in range(3):  # the third waits for the small workshop
        service.register(
            event,
            service.Participant(
                first_name="Anna",
                last_name=f"Beispiel{number}",
                email=f"anna{number}@example.org",
                privacy_consent_version="2026-01",
                organisation="Handwerkskammer",
                state="Berlin",
                photo_consent=number == 1,
            ),
            [small.id, other.id],
            notify=False,
        )
    db.session.commit()
    rows = lists.export_rows(event, lists.search(event, lists.RegistrationFilter()))
    content = lists.to_csv(rows) if kind == "csv" else lists.to_xlsx(rows, "Anmeldungen")
    report = run_import(event, ImportKind.PARTICIPANTS, content, f"export.{kind}", OPTIONS)
    assert report.ok, report.errors
    assert [r.outcome for r in report.rows] == [Outcome.UNCHANGED] * 3
    db.session.rollback()
    rows[1][4] = "Handwerkskammer Berlin"  # Organisation of the first person
    content = lists.to_csv(rows) if kind == "csv" else lists.to_xlsx(rows, "Anmeldungen")
    report = run_import(event, ImportKind.PARTICIPANTS, content, f"export.{kind}", OPTIONS)
    assert [r.outcome for r in report.rows] == [
        Outcome.UPDATE,
        Outcome.UNCHANGED,
        Outcome.UNCHANGED,
    ]
    assert report.rows[0].notes == ["geändert: Organisation"]
    db.session.rollback()


def test_update_of_choices_keeps_capacity(workshop_day) -> None:
    event, small, _other = workshop_day
    first = participants(event, f"{HEADER}\nA;Eins;a@example.org;IHK;BE;Ausbildung digital")
    assert first.ok
    db.session.commit()
    text = f'{HEADER}\nA;Eins;a@example.org;IHK;BE;"{small.id}; Ausbildung digital"'
    report = participants(event, text)
    assert report.rows[0].outcome == Outcome.UPDATE
    assert report.rows[0].notes == [
        "geändert: Workshops",
        "„Fachkräfte sichern, Zukunft gestalten“: Platz",
        "„Ausbildung digital“: Platz",
    ]
    db.session.commit()
    assert db.session.get(Activity, small.id).seats_taken == 1


# --- People and programme -------------------------------------------------------------------


def test_people_are_added_updated_and_told_apart(ctx: Flask) -> None:
    event = make_event()
    db.session.add(Person(name="Dr. Anna Schmidt", email="anna@example.org", organisation="BA"))
    db.session.add(Person(name="Karl Weber", email="karl@example.org"))
    db.session.commit()
    text = (
        "Vorname,Nachname,Titel,Organisation,E-Mail\n"
        "Dr. Anna,Schmidt,,BA,anna@example.org\n"
        "Jana,Neu,Prof.,Universität,jana@example.org\n"
        "Karl,Weber,,DIHK,karl@example.org\n"
        "Karl,Weber,,DIHK,karl@example.org\n"
        "Andere,Person,,,karl.weber@example.org\n"
    )
    report = run_import(event, ImportKind.PEOPLE, text.encode("cp1252"), "p.csv", OPTIONS)
    outcomes = [r.outcome for r in report.rows]
    assert outcomes == [Outcome.UNCHANGED, Outcome.NEW, Outcome.UPDATE, Outcome.ERROR, Outcome.NEW]
    assert report.rows[2].notes == ["geändert: Organisation"]
    assert report.rows[3].errors == ["Nachname: Diese Person steht schon in Zeile 4."]
    db.session.rollback()
    text = "Name;E-Mail\nKarl Weber;k.weber@example.org\n"
    report = run_import(event, ImportKind.PEOPLE, text.encode(), "p.csv", OPTIONS)
    assert (
        "E-Mail: Unter diesem Namen ist schon eine Person mit der Adresse"
        in report.rows[0].errors[0]
    )
    db.session.rollback()


PROGRAMME = (
    "Titel;Art;Raum;Datum;Beginn;Ende;Kapazität;Referent*innen\n"
    "Eröffnung;Plenum;Saal 1;;11.06.2026 09:30;10:00;;Dr. Anna Schmidt\n"
    'Werkstatt Ausbildung;workshop;Raum 2;2026-06-11;10:15;11:45;20;"Karl Weber; Jana Neu"\n'
    "Mittagspause;Pause;;11.06.2026;12:00;13:00;;\n"
)


@pytest.fixture
def two_days(ctx: Flask) -> Event:
    event = make_event(day=date(2026, 6, 11), ends_on=date(2026, 6, 12))
    make_room(event, "Saal 1", capacity=300)
    make_room(event, "Raum 2", capacity=25)
    db.session.commit()
    return event


def test_programme_rows_become_activities_and_reimport_unchanged(two_days: Event) -> None:
    event = two_days
    report = run_import(event, ImportKind.PROGRAMME, PROGRAMME.encode(), "p.csv", OPTIONS)
    assert report.ok, report.errors
    assert [r.outcome for r in report.rows] == [Outcome.NEW] * 3
    assert report.rows[0].notes == ["11.06.2026 09:30–10:00, Saal 1"]
    db.session.commit()
    workshop = db.session.scalar(sa.select(Activity).where(Activity.kind == ActivityKind.WORKSHOP))
    assert (workshop.capacity, workshop.requires_enrolment, workshop.room.name) == (
        20,
        True,
        "Raum 2",
    )
    assert [p.name for p in workshop.speakers] == ["Karl Weber", "Jana Neu"]
    again = run_import(event, ImportKind.PROGRAMME, PROGRAMME.encode("cp1252"), "p.csv", OPTIONS)
    assert [r.outcome for r in again.rows] == [Outcome.UNCHANGED] * 3, again.rows
    db.session.rollback()
    moved = f"ID;Titel;Beginn;Ende\n{workshop.id};Werkstatt Ausbildung;2026-06-11 14:00;15:30\n"
    report = run_import(event, ImportKind.PROGRAMME, moved.encode(), "p.csv", OPTIONS)
    assert report.rows[0].outcome == Outcome.UPDATE
    assert report.rows[0].notes[0] == "geändert: Beginn, Ende"
    db.session.commit()
    assert db.session.get(Activity, workshop.id).revision == 1


def test_programme_rows_break_the_timetable_rules_with_reasons(two_days: Event) -> None:
    event = two_days
    text = (
        "Titel;Art;Raum;Beginn;Ende;Kapazität\n"
        "A;Workshop;Raum 2;11.06.2026 10:00;11:00;20\n"
        "B;Workshop;Raum 2;11.06.2026 10:30;11:30;20\n"
        "C;Vortrag;Keller;11.06.2026 10:00;9:00;abc\n"
        "D;Plenum;Saal 1;10:00;11:00;\n"
        "E;Workshop;Raum 2;12.06.2026 15:00;16:00;30\n"
    )
    report = run_import(event, ImportKind.PROGRAMME, text.encode(), "p.csv", OPTIONS)
    by_row = {r.number: " | ".join(r.errors) for r in report.errors}
    assert sorted(by_row) == [3, 4, 5, 6]
    assert "Raum: Raum „Raum 2“ ist zur selben Zeit belegt: „A“" in by_row[3]
    assert "Art: „Vortrag“ ist keine Art von Programmpunkt" in by_row[4]
    assert "Raum: Den Raum „Keller“ gibt es bei dieser Veranstaltung nicht" in by_row[4]
    assert "Kapazität: Bitte geben Sie eine ganze Zahl ein." in by_row[4]
    assert "Datum: Die Veranstaltung hat mehrere Tage" in by_row[5]
    assert "Kapazität: 30 Plätze sind mehr, als der Raum „Raum 2“ hat (25)." in by_row[6]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 0


# --- Command line ---------------------------------------------------------------------------


def test_cli_stores_all_rows_or_none(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    with app.app_context():
        event = make_event(slug="innovationstag")
        make_activity(event, "Ausbildung digital", capacity=1, requires_enrolment=True)
        db.session.commit()
    good = tmp_path / "gut.csv"
    good.write_bytes(
        f"{HEADER}\nA;Eins;a@example.org;IHK;BE;Ausbildung digital\n"
        "B;Zwei;b@example.org;IHK;BE;Ausbildung digital\n".encode("cp1252")
    )
    bad = tmp_path / "schlecht.csv"
    bad.write_bytes(good.read_bytes() + b"C;;c@example.org;IHK;BE;\n")
    args = ["import", "participants", "innovationstag"]

    result = runner.invoke(args=[*args, str(bad), "--consent-recorded"])
    assert result.exit_code == 1
    assert "Zeile     4  Fehler" in result.output
    assert "Nachname: Bitte geben Sie Ihren Nachnamen ein." in result.output
    assert "Nothing stored" in result.output

    result = runner.invoke(args=[*args, str(good)])
    assert result.exit_code != 0 and "--consent-recorded" in result.output

    result = runner.invoke(args=[*args, str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Warteliste, Platz 1" in result.output and "Dry run: 2 new" in result.output
    with app.app_context():
        assert registration_count() == 0

    result = runner.invoke(args=[*args, str(good), "--consent-recorded"])
    assert result.exit_code == 0, result.output
    assert "Imported: 2 new, 0 updated" in result.output
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Enrolment.status).order_by(Enrolment.queued_at, Enrolment.id)
        ).all()
        assert statuses == [EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED]
        assert (
            db.session.scalars(sa.select(Registration.status)).all()
            == [RegistrationStatus.CONFIRMED] * 2
        )

    garbage = tmp_path / "bild.csv"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = runner.invoke(args=[*args, str(garbage), "--consent-recorded"])
    assert result.exit_code == 1 and "keine Tabelle" in result.output
