"""Programme booklet, sign-in sheets and door signs, read back from the PDF."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from pypdf.generic import IndirectObject

from eventapp.extensions import db
from eventapp.models import (
    ActivityKind,
    ActivityPerson,
    Enrolment,
    EnrolmentStatus,
    Event,
    Person,
    PersonRole,
)
from eventapp.services.checkin import doors
from eventapp.services.printing import day_lists, programme_booklet
from eventapp.timezones import utcnow
from tests.factories import at, make_activity, make_event, make_registration, make_room
from tests.helpers.system import PDF_OUTPUT
from tests.pdf_reading import MM, page_sizes_mm, page_texts, reader, squeeze, words

pytestmark = pytest.mark.system(*PDF_OUTPUT)


def build_day() -> dict[str, object]:
    """Create an event with rooms, published, cancelled and hidden activities and enrolments."""
    event = make_event(title="Innovationstag 2026", contact_email="kontakt@example.org")
    saal = make_room(event, "Großer Saal", 300, position=0, notes="Erdgeschoss, stufenlos")
    rooms = [saal] + [make_room(event, f"Raum {i}", 20, position=i) for i in range(1, 6)]
    opening = make_activity(
        event,
        "Eröffnung und Grußworte",
        "09:30",
        "10:15",
        saal,
        ActivityKind.PLENARY,
        description="Begrüßung durch das Innovationsbüro.",
    )
    speaker = Person(name="Anna Schmidt", title="Dr.", organisation="BMAS")
    db.session.add(speaker)
    db.session.add(ActivityPerson(activity=opening, person=speaker, role=PersonRole.SPEAKER))
    workshops = [
        make_activity(
            event,
            f"Workshop {i}: Fachkräfte gewinnen in der Region",
            "10:30",
            "12:00",
            rooms[i],
            capacity=2,
        )
        for i in range(1, 6)
    ]
    cancelled = make_activity(
        event,
        "Erfahrungsaustausch Pflege",
        "13:00",
        "14:00",
        rooms[1],
        ActivityKind.EXCHANGE_CIRCLE,
        cancelled=True,
    )
    hidden = make_activity(
        event, "Geheime Vorbesprechung", "08:00", "09:00", rooms[2], published=False
    )
    lunch = make_activity(event, "Mittagspause", "12:00", "13:00", None, ActivityKind.BREAK)
    people = [
        make_registration(event, first, last, organisation=org)
        for first, last, org in [
            ("Zoë", "Özdemir", "IHK Köln"),
            ("Bernd", "Abel", "HWK"),
            ("Ärzte", "Ober", "AOK"),
            ("Carla", "Zander", "Jobcenter"),
        ]
    ]
    for index, person in enumerate(people):
        status = (
            EnrolmentStatus.CONFIRMED if index < 2 or index == 2 else EnrolmentStatus.WAITLISTED
        )
        db.session.add(
            Enrolment(
                registration=person,
                activity=workshops[0],
                status=status,
                queued_at=utcnow() + timedelta(seconds=index),
            )
        )
    db.session.flush()
    return {"event": event, "rooms": rooms, "opening": opening, "workshops": workshops,
            "cancelled": cancelled, "hidden": hidden, "lunch": lunch, "people": people}  # fmt: skip


def test_programme_is_tagged_with_title_language_and_every_published_activity(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    pdf = programme_booklet.render_programme(event, "de")
    document = reader(pdf)
    root = document.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "de"
    assert root["/MarkInfo"]["/Marked"]
    assert document.metadata.title == "Programm – Innovationstag 2026"
    sizes = page_sizes_mm(pdf)
    assert sizes[0] == (210.0, 297.0)
    # Six rooms do not fit a portrait grid: the day at a glance is landscape.
    assert (297.0, 210.0) in sizes
    text = squeeze("".join(page_texts(pdf)))
    for activity in [data["opening"], *data["workshops"], data["cancelled"], data["lunch"]]:
        assert squeeze(activity.title) in text  # type: ignore[attr-defined]
    assert "GeheimeVorbesprechung" not in text
    assert "ABGESAGT" in text.upper()
    assert squeeze("Dr. Anna Schmidt") in text
    assert squeeze("Erdgeschoss, stufenlos") in text
    assert squeeze(f"2 / {len(sizes)}") in text  # the cover has no footer
    # Fonts are embedded.
    for page in document.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object() if isinstance(font, IndirectObject) else font
            descendant = font.get("/DescendantFonts")
            descriptor = (
                descendant[0].get_object()["/FontDescriptor"]
                if descendant
                else font["/FontDescriptor"]
            )
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_programme_structure_has_headings_and_table_headers(ctx: Flask) -> None:
    build_day()
    event = db.session.scalar(db.select(Event))
    pdf = programme_booklet.render_programme(event, "en")
    document = reader(pdf)
    assert document.trailer["/Root"]["/Lang"] == "en"
    kinds: set[str] = set()

    def walk(node: object, depth: int = 0) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if "/S" in node:
                kinds.add(str(node["/S"]))
            children = node.get("/K")
            if children is not None:
                for child in children if isinstance(children, list) else [children]:
                    if depth < 60:
                        walk(child, depth + 1)

    walk(document.trailer["/Root"]["/StructTreeRoot"])
    assert {"/H1", "/H2", "/H3", "/Table", "/TH", "/TD"} <= kinds
    assert "Day at a glance" in "".join(page_texts(pdf)) or "Übersicht" not in "".join(
        page_texts(pdf)
    )


def test_programme_cover_names_day_hours_venue_award_and_contact(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    event.venue, event.address = "Haus der Wirtschaft", "Breite Straße 29, 10178 Berlin"
    event.contact_phone = "030 123456"
    make_activity(
        event, "Preisverleihung „Innovative Netzwerke“", "16:00", "17:00",
        data["rooms"][0], ActivityKind.AWARD_CEREMONY,  # type: ignore[index]
    )  # fmt: skip
    db.session.flush()
    cover = squeeze(page_texts(programme_booklet.render_programme(event, "de"))[0])
    for part in ("Innovationstag 2026", "Haus der Wirtschaft", "Breite Straße 29",
                 "09:30–17:00", "Preisverleihung „Innovative Netzwerke“", "16:00–17:00",
                 "kontakt@example.org", "030 123456"):  # fmt: skip
        assert squeeze(part) in cover, part


def test_programme_grid_runs_room_less_items_across_all_rooms(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    activities = programme_booklet.published_activities(event)
    (day,) = programme_booklet.programme_days(event, activities)
    assert None not in day.rooms and len(day.rooms) == 6
    lunch_rows = [row for row in day.rows if data["lunch"] in row.spanning]
    assert len(lunch_rows) == 1 and lunch_rows[0].cells == []
    assert all(len(row.cells) == 6 for row in day.rows if not row.spanning)
    grid = page_texts(programme_booklet.render_programme(event, "de"))[1]
    assert "Mittagspause" in grid and "ohne Raum" not in grid


def test_programme_cache_follows_programme_changes(ctx: Flask, tmp_path: Path) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    first = programme_booklet.cached_programme(event, "de", tmp_path)
    assert programme_booklet.cached_programme(event, "de", tmp_path) == first
    event.programme_changed_at = utcnow() + timedelta(seconds=5)
    second = programme_booklet.cached_programme(event, "de", tmp_path)
    assert second != first and second.exists() and not first.exists()


def test_sign_in_sheet_sorts_by_last_name_and_puts_waiting_list_apart(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    workshop = data["workshops"][0]  # type: ignore[index]
    pdf = day_lists.render_sign_in_sheets(event, "de", workshop.id)
    texts = page_texts(pdf)
    assert page_sizes_mm(pdf) == [(210.0, 297.0)] * 2
    first = texts[0]
    assert "Teilnehmerliste" in first and "Unterschrift" in first and "Raum 1" in first
    assert first.index("Abel") < first.index("Ober") < first.index("Özdemir")
    assert "Zander" not in first
    assert "Warteliste" in texts[1] and "Zander" in texts[1]
    everything = day_lists.render_sign_in_sheets(event, "en")
    # Five workshops (the exchange circle is cancelled); only the first has a waiting list.
    assert len(page_sizes_mm(everything)) == 6
    assert "Signature" in page_texts(everything)[0]


def test_sign_in_sheet_with_check_ins_marks_who_was_let_in_and_when(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    workshop = data["workshops"][0]  # type: ignore[index]
    abel = data["people"][1]  # type: ignore[index]
    assert doors.record_attendance(workshop, abel, at(event, "10:27"), "Raum 1", None)
    pdf = day_lists.render_sign_in_sheets(
        event, "de", workshop.id, with_checkins=True, printed_at=at(event, "10:40")
    )
    first = page_texts(pdf)[0]
    assert "Anwesend" in first and "1 von 3 anwesend" in first and "Stand: 10:40 Uhr" in first
    placed = words(pdf)
    time = next(w for w in placed if w.text == "10:27")
    on_that_line = {w.text for w in placed if abs(w.y0 - time.y0) < 3}
    assert "Abel," in on_that_line and "Ober," not in on_that_line
    assert sum(w.text == "–" and w.x0 > time.x0 - 20 for w in placed) >= 2  # the others: not here
    # Without the option the sheet stays as it was: no column, no count.
    plain = page_texts(day_lists.render_sign_in_sheets(event, "de", workshop.id))[0]
    assert "Anwesend" not in plain and "10:27" not in plain


def test_sign_in_sheet_repeats_title_time_and_page_of_pages_on_every_page(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    workshop = data["workshops"][1]  # type: ignore[index]
    workshop.capacity = 60
    for number in range(45):
        person = make_registration(
            event, f"Vorname{number}", f"Nachname{number:02d}", email=f"s{number}@example.org"
        )
        db.session.add(
            Enrolment(registration=person, activity=workshop, status=EnrolmentStatus.CONFIRMED)
        )
    db.session.flush()
    pdf = day_lists.render_sign_in_sheets(event, "de", workshop.id)
    texts = page_texts(pdf)
    assert len(texts) >= 2
    count = len(texts)
    for number, text in enumerate(texts, start=1):
        flat = squeeze(text)
        assert squeeze(f"Teilnehmerliste: {workshop.title}") in flat, number
        assert "10:30–12:00" in text and "Raum 2" in text, number
        assert squeeze(f"Seite {number} von {count}") in flat, number
    assert "Nachname44" in texts[-1] and "Nachname44" not in texts[0]
    # Each list counts its own pages, also in a document with every list.
    everything = page_texts(day_lists.render_sign_in_sheets(event, "en"))
    assert sum(squeeze("Page 1 of") in squeeze(text) for text in everything) == 5


def test_door_signs_one_landscape_page_per_room(
    ctx: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    pdf = day_lists.render_door_signs(event, "de")
    assert page_sizes_mm(pdf) == [(297.0, 210.0)] * 6
    texts = page_texts(pdf)
    assert "Großer Saal" in texts[0] and "Eröffnung und Grußworte" in texts[0]
    assert "Erfahrungsaustausch Pflege" in texts[1] and "ABGESAGT" in texts[1].upper()
    db.session.commit()
    out = tmp_path / "signs.pdf"
    result = runner.invoke(args=["door-signs", "--event", event.slug, "-o", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert len(page_sizes_mm(out.read_bytes())) == 6
    result = runner.invoke(
        args=["programme", "--event", event.slug, "--lang", "en", "-o", str(out)]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert reader(out.read_bytes()).trailer["/Root"]["/Lang"] == "en"


def test_door_signs_name_speakers_and_moderators_in_type_read_from_two_metres(ctx: Flask) -> None:
    data = build_day()
    event: Event = data["event"]  # type: ignore[assignment]
    opening = data["opening"]
    moderator = Person(name="Jan Mertens")
    db.session.add(ActivityPerson(activity=opening, person=moderator, role=PersonRole.MODERATOR))
    db.session.flush()
    pdf = day_lists.render_door_signs(event, "de")
    first = squeeze(page_texts(pdf)[0])
    assert squeeze("Mit: Dr. Anna Schmidt") in first
    assert squeeze("Moderation: Jan Mertens") in first
    on_first = [w for w in words(pdf) if w.page == 0]
    header = next(w for w in on_first if w.text == "Zeit")
    footer = (210 - 15) * MM  # the page number sits in the bottom margin
    schedule = [w for w in on_first if header.y0 <= w.y0 and w.y1 < footer]
    assert len(schedule) > 10
    for word in schedule:
        # pdftotext's word box is the font's ascent plus descent: 1.164 em for DejaVu Sans.
        assert (word.y1 - word.y0) / 1.164 >= 15.9, word


def test_lazy_hyphenation_splits_words_like_pyphen() -> None:
    import pyphen

    from eventapp.services.printing.documents import _lazy_hyph_dict_class

    for language in ("de_DE", "en_GB"):
        path = pyphen.LANGUAGES[language]
        lazy, plain = _lazy_hyph_dict_class()(path), pyphen.HyphDict(path)
        for word in (
            "Fachkräftesicherung",
            "Erfahrungsaustauschkreis",
            "Arbeitgeberattraktivität",
            "Studienabbrecherinnen",
            "internationalisation",
        ):
            assert lazy.positions(word) == plain.positions(word), (language, word)
        assert lazy.maxlen == plain.maxlen
