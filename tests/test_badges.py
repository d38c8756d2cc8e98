"""Badges read back from the PDF: page size, full text, positions on the sheet, QR codes."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from eventapp import labels
from eventapp.extensions import db
from eventapp.models import Network, ParticipantRole, Registration, RegistrationStatus
from eventapp.services import DomainError
from eventapp.services.printing import badge_rendering, badges, calibration
from eventapp.services.printing.badge_layouts import LAYOUTS, BadgeLayout, TextFit
from eventapp.services.printing.documents import LocalAssetError, local_url_fetcher
from eventapp.services.printing.text_fit import PT_PER_MM, SAFETY, fit_text, text_width_em
from tests.factories import make_event, make_registration
from tests.helpers.system import CJK_FONT, PDF_OUTPUT
from tests.pdf_reading import (
    MM,
    inked_pixels,
    page_images,
    page_sizes_mm,
    page_texts,
    qr_codes,
    squeeze,
    words,
)

pytestmark = pytest.mark.system(*PDF_OUTPUT)

PEOPLE = [
    ("Erika", "Mustermann", "Agentur für Arbeit Musterstadt"),
    (
        "Maximilian-Alexander",
        "Freiherr von Schönebeck-Großkopf",
        "Industrie- und Handelskammer zu Frankfurt am Main, Geschäftsbereich Fachkräftesicherung",
    ),
    ("Ärzte-Änne", "Übelhör", "Straßenbauverwaltung Thüringen"),
    ("Hans-Jürgen", "Weißgerber-Oberschöneweide", "Handwerkskammer Düsseldorf"),
    ("Αλέξανδρος", "Παπαδόπουλος", "Ελληνική Εταιρεία Επιχειρήσεων"),
    ("Анна", "Иванова-Кузнецова", "Торгово-промышленная палата"),
    ("محمد", "العلي", "غرفة التجارة"),
    ("伟", "王", "北京大学"),
    ("Jörg", "Öztürk", ""),
    ("Zoë", "Abel", "Kommunales Jobcenter"),
    ("Li", "Wu", "X"),
    (
        "Bartholomäus",
        "Schwarzenberger-Hohenzollern-Sigmaringen",
        "Landesamt für Arbeitsschutz, Gesundheitsschutz und technische Sicherheit",
    ),
]
ROLES = list(ParticipantRole)


def make_people(event: object, count: int | None = None) -> list[Registration]:
    """Create registrations with long, umlaut and non-Latin names, all roles in turn."""
    network = Network(name="Fachkräftenetzwerk Mittelthüringen", region="Erfurt", state="Thüringen")
    db.session.add(network)
    people = []
    for i, (first, last, org) in enumerate(PEOPLE[:count]):
        people.append(
            make_registration(
                event, first, last, email=f"p{i}@example.org", organisation=org,
                role=ROLES[i % len(ROLES)], network=network if i % 2 else None,
                state="Sachsen",
            )
        )  # fmt: skip
    db.session.flush()
    return people


def badge_boxes_pt(layout: BadgeLayout, back: bool = False) -> list[tuple[float, ...]]:
    """Return each badge rectangle on a sheet in pt (x0, y0, x1, y1) from the top-left."""
    boxes = []
    for slot in range(layout.per_page):
        column, row = layout.cell(slot)
        if back:
            column = layout.back_column(column)
        x, y = layout.origin(column, row)
        w, h = layout.badge_mm
        boxes.append((x * MM, y * MM, (x + w) * MM, (y + h) * MM))
    return boxes


def embedded_fonts(pdf: bytes) -> list[str]:
    """Return the names of the embedded fonts (pdffonts); fail on a font not embedded."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    rows = out.stdout.splitlines()[2:]
    assert all(" yes " in row for row in rows), rows
    return [row.split()[0] for row in rows]


def shows(card: str, part: str) -> bool:
    """Tell whether a badge's text holds the part (right-to-left scripts come out reversed)."""
    return squeeze(part) in card or squeeze(part)[::-1] in card


def text_per_badge(pdf: bytes, layout: BadgeLayout) -> dict[tuple[int, int], str]:
    """Return the text inside each badge rectangle, keyed by (page, slot); fail on stray words."""
    boxes = badge_boxes_pt(layout)
    found: dict[tuple[int, int], list[str]] = {}
    for word in words(pdf):
        slots = [
            slot
            for slot, (x0, y0, x1, y1) in enumerate(boxes)
            if x0 - 0.5 <= word.x0
            and word.x1 <= x1 + 0.5
            and y0 - 0.5 <= word.y0
            and word.y1 <= y1 + 0.5
        ]
        assert len(slots) == 1, f"{word} lies outside every badge"
        found.setdefault((word.page, slots[0]), []).append(word.text)
    return {key: squeeze("".join(parts)) for key, parts in found.items()}


def test_layouts_grid_fits_page_and_centres_cards() -> None:
    a4_10 = LAYOUTS["a4-10"]
    assert a4_10.margins == (15.0, 13.5)
    assert a4_10.origin(1, 4) == (105.0, 229.5)
    for layout in LAYOUTS.values():
        left, top = layout.margins
        assert left >= 0 and top >= 0
        x, y = layout.origin(layout.columns - 1, layout.rows - 1)
        assert x + layout.badge_mm[0] <= layout.page_mm[0] + 1e-6
        assert y + layout.badge_mm[1] <= layout.page_mm[1] + 1e-6


def test_every_safe_area_lies_inside_the_printable_part_of_the_sheet() -> None:
    for layout in LAYOUTS.values():
        assert layout.safe_margin_mm > 0, layout.name
        for slot in range(layout.per_page):
            left, top, right, bottom = layout.safe_area(*layout.cell(slot))
            width, height = layout.page_mm
            margin = layout.unprintable_mm
            assert left >= margin and top >= margin, layout.name
            assert right <= width - margin and bottom <= height - margin, layout.name


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_no_mark_of_a_badge_lies_outside_its_safe_area_or_the_printable_sheet(
    ctx: Flask, name: str
) -> None:
    """Read the rendered pages' pixels: the ring between card edge and safe area stays white."""
    event = make_event()
    layout = LAYOUTS[name]
    make_people(event, min(layout.per_page, len(PEOPLE)))
    chosen = badges.select_for_badges(event)
    pdf = badge_rendering.render_badges(event, chosen, layout, processes=1)
    dpi = 100
    tolerance = 0.3  # anti-aliasing reaches about one pixel past a shape's edge
    for number, image in enumerate(page_images(pdf, dpi)):
        back = layout.duplex and number % 2 == 1
        width, height = layout.page_mm
        margin = layout.unprintable_mm
        for strip in ((0, 0, width, margin), (0, height - margin, width, height),
                      (0, 0, margin, height), (width - margin, 0, width, height)):  # fmt: skip
            assert inked_pixels(image, strip, dpi) == 0, (name, number, "sheet edge", strip)
        for slot in range(len(chosen)):
            column, row = layout.cell(slot)
            if back:
                column = layout.back_column(column)
            x0, y0 = layout.origin(column, row)
            x1, y1 = x0 + layout.badge_mm[0], y0 + layout.badge_mm[1]
            s0, t0, s1, t1 = layout.safe_area(column, row)
            ring = (
                (x0, y0, x1, t0 - tolerance),
                (x0, t1 + tolerance, x1, y1),
                (x0, y0, s0 - tolerance, y1),
                (s1 + tolerance, y0, x1, y1),
            )
            for strip in ring:
                assert inked_pixels(image, strip, dpi) == 0, (name, number, slot, strip)


def test_network_line_leaves_out_a_region_its_name_already_says(ctx: Flask) -> None:
    event = make_event()
    named = Network(name="Fachkräfteinitiative Rhein-Neckar", region="Rhein-Neckar", state="BW")
    other = Network(name="Fachkräftebündnis Südwest", region="Landkreis Konstanz", state="BW")
    db.session.add_all([named, other])
    first = make_registration(event, "Ada", "Alt", network=named)
    second = make_registration(event, "Bea", "Berg", email="b@example.org", network=other)
    assert badges.network_text(first) == "Fachkräfteinitiative Rhein-Neckar"
    assert badges.network_text(second) == "Fachkräftebündnis Südwest · Landkreis Konstanz"


def test_german_sort_key_puts_umlauts_with_their_vowel() -> None:
    names = ["Zander", "Özdemir", "Ober", "Ärger", "Arndt", "Straßer", "Strasser", "Busch"]
    assert sorted(names, key=badges.german_sort_key)[:3] == ["Ärger", "Arndt", "Busch"]
    assert badges.german_sort_key("Straßer") == badges.german_sort_key("Strasser")
    ordered = sorted(names, key=badges.german_sort_key)
    assert ordered.index("Ober") < ordered.index("Özdemir") < ordered.index("Zander")


def test_fit_text_shrinks_then_wraps_within_width() -> None:
    fit = TextFit(20, 11, 2)
    short = fit_text("Erika", 60, fit, True)
    assert short.size_pt == 20 and short.lines == ("Erika",)
    long = fit_text("Schwarzenberger-Hohenzollern-Sigmaringen von und zu Altenburg", 60, fit, True)
    assert long.size_pt <= 11
    assert len(long.lines) >= 2
    assert squeeze("".join(long.lines)) == squeeze(
        "Schwarzenberger-Hohenzollern-Sigmaringen von und zu Altenburg"
    )
    for line in long.lines:
        assert text_width_em(line, True) * long.size_pt <= 60 * PT_PER_MM * SAFETY


@pytest.mark.system(CJK_FONT)
def test_a4_10_sheet_has_every_name_in_full_inside_its_card_and_qr_codes(ctx: Flask) -> None:
    event = make_event(title="Innovationstag 2026")
    people = make_people(event)
    assert len(people) == len(PEOPLE)
    chosen = badges.select_for_badges(event)
    pdf = badge_rendering.render_badges(event, chosen, LAYOUTS["a4-10"], processes=1)

    assert page_sizes_mm(pdf) == [(210.0, 297.0), (210.0, 297.0)]
    layout = LAYOUTS["a4-10"]
    cards = text_per_badge(pdf, layout)
    for index, person in enumerate(chosen):
        card = cards[(index // layout.per_page, index % layout.per_page)]
        for part in (person.first_name, person.last_name, person.organisation):
            assert shows(card, part), (part, card)
        assert squeeze("Innovationstag 2026 · 10. Juni 2026") in card
        role = str(labels.PARTICIPANT_ROLE_LABELS[person.role]).upper()
        assert squeeze(role) in card.upper()
    assert any(squeeze("Fachkräftenetzwerk Mittelthüringen") in c for c in cards.values())
    # Chinese names are drawn with a CJK font, not as empty boxes; all fonts are embedded.
    fonts = embedded_fonts(pdf)
    assert any("CJK" in name for name in fonts) and any("DejaVu" in name for name in fonts)

    # Each QR code holds only the check-in code and sits in the card of its slot.
    codes = qr_codes(pdf)
    order = [r.checkin_code for r in chosen]
    assert sorted(c.text for c in codes) == sorted(order)
    layout = LAYOUTS["a4-10"]
    for code in codes:
        index = order.index(code.text)
        assert code.page == index // layout.per_page
        x, y = layout.origin(*layout.cell(index % layout.per_page))
        assert x < code.x_mm < x + layout.badge_mm[0]
        assert y < code.y_mm < y + layout.badge_mm[1]


@pytest.mark.parametrize("name", ["a4-4", "a6", "id1"])
def test_other_layouts_have_page_size_and_all_codes(ctx: Flask, name: str) -> None:
    event = make_event()
    make_people(event, 5)
    chosen = badges.select_for_badges(event, sort="organisation")
    layout = LAYOUTS[name]
    pdf = badge_rendering.render_badges(event, chosen, layout, processes=1)
    pages = -(-len(chosen) // layout.per_page)
    assert page_sizes_mm(pdf) == [layout.page_mm] * pages
    assert sorted(c.text for c in qr_codes(pdf)) == sorted(r.checkin_code for r in chosen)
    cards = text_per_badge(pdf, layout)
    for index, person in enumerate(chosen):
        card = cards[(index // layout.per_page, index % layout.per_page)]
        assert shows(card, person.first_name) and shows(card, person.last_name), card


def test_duplex_back_pages_are_mirrored_behind_their_fronts(ctx: Flask) -> None:
    event = make_event()
    make_people(event, 3)
    chosen = badges.select_for_badges(event)
    layout = LAYOUTS["a6-duplex"]
    pdf = badge_rendering.render_badges(event, chosen, layout, processes=1)
    assert page_sizes_mm(pdf) == [(210.0, 297.0)] * 2
    codes = qr_codes(pdf)
    front = {c.text: c for c in codes if c.page == 0}
    back = {c.text: c for c in codes if c.page == 1}
    assert set(front) == set(back) == {r.checkin_code for r in chosen}
    for code, spot in front.items():
        # Mirrored left-right about the sheet's centre, same height.
        assert back[code].x_mm == pytest.approx(210 - spot.x_mm, abs=2)
        assert back[code].y_mm == pytest.approx(spot.y_mm, abs=2)


def test_calibration_offset_shifts_every_badge(ctx: Flask) -> None:
    event = make_event()
    make_people(event, 2)
    chosen = badges.select_for_badges(event)
    layout = LAYOUTS["a4-10"]
    plain = {
        c.text: c
        for c in qr_codes(badge_rendering.render_badges(event, chosen, layout, processes=1))
    }
    shifted_pdf = badge_rendering.render_badges(
        event, chosen, layout, badges.Offset(3, -2), processes=1
    )
    for code in qr_codes(shifted_pdf):
        assert code.x_mm == pytest.approx(plain[code.text].x_mm + 3, abs=0.5)
        assert code.y_mm == pytest.approx(plain[code.text].y_mm - 2, abs=0.5)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_calibration_page_prints_only_where_the_printer_can_and_explains_itself(
    ctx: Flask, name: str
) -> None:
    layout = LAYOUTS[name]
    offset = badges.Offset(1.5, -1)
    pdf = calibration.render_test_page(layout, offset, "de")
    dpi = 100
    (image,) = page_images(pdf, dpi)
    width, height = layout.page_mm
    margin = layout.unprintable_mm - 0.3
    for strip in ((0, 0, width, margin), (0, height - margin, width, height),
                  (0, 0, margin, height), (width - margin, 0, width, height)):  # fmt: skip
        assert inked_pixels(image, strip, dpi) == 0, strip
    sheet = calibration.calibration_sheet(layout, offset)
    assert sheet.crosses, "no cross left to measure against"
    reach = calibration.CROSS_ARM_MM
    for cross in sheet.crosses:
        assert margin + reach <= cross.x <= width - margin - reach
        assert margin + reach <= cross.y <= height - margin - reach
    page_words = [w for w in words(pdf) if not w.text.isdigit() and w.text != "mm"]
    for word in page_words:
        for cross in sheet.crosses:
            # No word of the instructions lies on a cross.
            apart = (
                word.x1 / MM < cross.x - reach or word.x0 / MM > cross.x + reach
                or word.y1 / MM < cross.y - reach or word.y0 / MM > cross.y + reach
            )  # fmt: skip
            assert apart, (word, cross)
    text = squeeze(page_texts(pdf)[0])
    assert squeeze("rechts 1,5 mm, unten -1 mm") in text
    assert squeeze("„Drucker kalibrieren“") in text
    if layout.per_page > 1:
        assert squeeze("gegen das Licht") in text


def test_selection_only_new_role_and_undo_printed(ctx: Flask) -> None:
    event = make_event()
    people = make_people(event, 6)
    people[5].status = RegistrationStatus.CANCELLED
    assert len(badges.select_for_badges(event)) == 5
    marked = badges.mark_printed(people[:2], datetime(2026, 6, 1, tzinfo=UTC))
    assert {r.id for r in badges.select_for_badges(event, only_new=True)} == {
        p.id for p in people[2:5]
    }
    speakers = badges.select_for_badges(event, role="speaker")
    assert [r.role for r in speakers] == [ParticipantRole.SPEAKER]
    assert [r.id for r in badges.select_for_badges(event, registration_id=people[3].id)] == [
        people[3].id
    ]
    assert badges.unmark_printed(event, marked) == 2
    assert len(badges.select_for_badges(event, only_new=True)) == 5
    with pytest.raises(DomainError):
        badge_rendering.render_badges(event, [], LAYOUTS["a4-10"])


@pytest.mark.parametrize(
    ("count", "chunks"), [(30, [30]), (1000, [500, 500]), (1500, [380, 380, 380, 360])]
)
def test_chunks_are_whole_sheets_and_share_the_work_evenly(count: int, chunks: list[int]) -> None:
    size = badge_rendering.chunk_size(count, LAYOUTS["a4-10"], processes=2, largest=500)
    assert [min(size, count - start) for start in range(0, count, size)] == chunks


def test_rendering_in_a_process_pool_merges_chunks_in_order(ctx: Flask) -> None:
    event = make_event()
    make_people(event, 12)
    chosen = badges.select_for_badges(event)
    done: list[int] = []
    pdf = badge_rendering.render_badges(
        event, chosen, LAYOUTS["a4-4"], processes=2, progress=done.append, chunk_badges=4
    )
    assert len(page_sizes_mm(pdf)) == 3
    assert sum(done) == 12
    cards = text_per_badge(pdf, LAYOUTS["a4-4"])
    for index, registration in enumerate(chosen):
        assert shows(cards[(index // 4, index % 4)], registration.last_name)


def test_badge_uses_the_qr_code_stored_with_the_registration(ctx: Flask) -> None:
    from eventapp.services.printing.checkin_qr import checkin_qr_png
    from eventapp.services.registration import registrations

    event = make_event()
    registered = registrations.register(
        event,
        registrations.Participant(
            first_name="Erika", last_name="Mustermann", email="erika@example.org",
            privacy_consent_version="2026-01", organisation="IHK Musterstadt",
        ),
        [],
        ignore_window=True,
    ).registration  # fmt: skip
    # Registering draws no image (the web request stays light): the badge encodes the code.
    assert registered.checkin_qr_png is None
    # Another stored image shows that the badge draws a stored PNG, not a fresh encoding.
    other = make_registration(event, "Max", "Abel", checkin_qr_png=checkin_qr_png("STORED42"))
    db.session.flush()
    pdf = badge_rendering.render_badges(
        event, badges.select_for_badges(event), LAYOUTS["a6"], processes=1
    )
    assert sorted(c.text for c in qr_codes(pdf)) == sorted([registered.checkin_code, "STORED42"])
    assert other.checkin_code != "STORED42"


def test_cli_badges_writes_pdf_and_marks_printed(
    app: Flask, runner: FlaskCliRunner, tmp_path: object
) -> None:
    with app.app_context():
        event = make_event(slug="tag")
        make_people(event, 3)
        db.session.commit()
    out = tmp_path / "badges.pdf"  # type: ignore[operator]
    result = runner.invoke(args=["badges", "--event", "tag", "--layout", "a4-10", "-o", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert page_sizes_mm(out.read_bytes()) == [(210.0, 297.0)]
    again = runner.invoke(args=["badges", "--event", "tag", "--only-new", "-o", str(out)])
    assert again.exit_code == 1
    assert "Nothing to print" in again.output
    bad = runner.invoke(args=["badges", "--event", "tag", "--layout", "a3", "-o", str(out)])
    assert bad.exit_code == 2


def test_cli_only_new_prints_and_claims_the_unprinted_badges(
    app: Flask, runner: FlaskCliRunner, tmp_path: object
) -> None:
    with app.app_context():
        event = make_event(slug="tag")
        first, *others = make_people(event, 3)
        first.badge_printed_at = datetime(2026, 5, 1, tzinfo=UTC)
        codes = sorted(r.checkin_code for r in others)
        db.session.commit()
    out = tmp_path / "neu.pdf"  # type: ignore[operator]
    result = runner.invoke(args=["badges", "--event", "tag", "--only-new", "-o", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert sorted(c.text for c in qr_codes(out.read_bytes())) == codes
    with app.app_context():
        assert all(r.badge_printed_at for r in db.session.scalars(sa.select(Registration)))


def test_documents_never_fetch_from_the_network() -> None:
    with pytest.raises(LocalAssetError):
        local_url_fetcher("http://example.org/logo.png")
    with pytest.raises(LocalAssetError):
        local_url_fetcher("file:///etc/passwd")
    assert local_url_fetcher("data:text/plain,hi").read() == b"hi"
