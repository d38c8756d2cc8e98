"""In a real browser: the scanner flow, undo, the desk on a phone, a walk-in with their badge."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from eventapp.extensions import db
from eventapp.models import Enrolment, EnrolmentStatus, Registration
from eventapp.services.printing.checkin_qr import checkin_qr_png
from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH
from tests.factories import make_activity, make_event, make_organiser, make_registration
from tests.helpers.browser import axe_violations
from tests.helpers.system import PDF_OUTPUT
from tests.pdf_reading import page_sizes_mm, qr_codes

pytestmark = pytest.mark.browser
CSRF_ON = [{"WTF_CSRF_ENABLED": True}]


def seed(app: Flask, people: int = 3) -> dict[str, Any]:
    """An event with a workshop, some confirmed people and a check-in account."""
    with app.app_context():
        event = make_event(slug="tag", title="Innovationstag 2026")
        workshop = make_activity(event, "Workshop Fachkräftesicherung", capacity=10)
        found = [
            make_registration(
                event,
                f"Vorname{i}",
                f"Nachname{i}",
                organisation="Agentur für Arbeit Frankfurt (Oder) – Regionaldirektion",
            )
            for i in range(people)
        ]
        db.session.add(
            Enrolment(registration=found[0], activity=workshop, status=EnrolmentStatus.CONFIRMED)
        )
        workshop.seats_taken = 1
        make_registration(event, "Jürgen", "Müller-Lüdenscheidt", organisation="IHK Köln")
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
        return {
            "event_id": event.id,
            "codes": [p.checkin_code for p in found],
            "ids": [p.id for p in found],
            "workshop_id": workshop.id,
        }


def log_in(page: Any) -> None:
    page.goto("/organisation/anmelden")
    page.get_by_label("E-Mail-Adresse").fill("desk@example.org")
    page.get_by_label("Passwort").fill("desk-password-1")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile("/organisation/einlass/"))


def wait_for_scan_field(page: Any) -> None:
    """A scanner types into whatever has focus: wait until the page has put it in the field."""
    # A locator, not wait_for_function: polling a string would need 'unsafe-eval' under the CSP.
    page.locator("input[name=code]:focus").wait_for()


def checked_in(app: Flask, registration_id: int) -> bool:
    with app.app_context():
        return db.session.get(Registration, registration_id).checked_in_at is not None


@pytest.mark.parametrize("app_config", CSRF_ON)
def test_scan_checks_in_focus_returns_and_undo(app: Flask, page: Any) -> None:
    data = seed(app)
    log_in(page)
    page.goto(f"/organisation/einlass/{data['event_id']}/")
    field = page.get_by_label("Code scannen")
    wait_for_scan_field(page)
    page.evaluate("window.sameDocument = true")
    answer = page.locator("#desk-answer")

    # A handheld scanner types the code and Enter.
    page.keyboard.type(data["codes"][0])
    page.keyboard.press("Enter")
    answer.get_by_text("Eingecheckt", exact=True).wait_for()
    assert "Vorname0 Nachname0" in answer.inner_text()
    assert "Workshop Fachkräftesicherung" in answer.inner_text()
    assert page.locator("#desk-count").inner_text() == "1 von 4 eingecheckt"
    assert field.input_value() == ""
    assert page.evaluate("document.activeElement.name") == "code"
    assert page.evaluate("window.sameDocument") is True  # no reload
    assert checked_in(app, data["ids"][0])

    # Scans a second apart keep up; the same badge again says when.
    for code in (data["codes"][1], data["codes"][0]):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
    answer.get_by_text("Schon eingecheckt").wait_for()
    assert checked_in(app, data["ids"][1])

    # Unknown code: red and in words.
    page.keyboard.type("FALSCH123")
    page.keyboard.press("Enter")
    answer.get_by_text("Unbekannter Code").wait_for()
    assert "answer-stop" in answer.inner_html()

    # Ctrl+Z in the empty field takes back the last check-in (Vorname1).
    page.keyboard.press("Control+z")
    answer.get_by_text("Check-in zurückgenommen").wait_for()
    assert "Vorname1 Nachname1" in answer.inner_text()
    assert not checked_in(app, data["ids"][1])
    assert page.evaluate("document.activeElement.name") == "code"
    page.screenshot(path="/tmp/desk-scan.png", full_page=True)

    # The undo button does the same, by keyboard or touch.
    page.keyboard.type(data["codes"][2])
    page.keyboard.press("Enter")
    answer.get_by_text("Eingecheckt", exact=True).wait_for()
    page.get_by_role("button", name=re.compile("Letzten Check-in zurücknehmen")).click()
    answer.get_by_text("Check-in zurückgenommen").wait_for()
    assert not checked_in(app, data["ids"][2])
    assert page.evaluate("document.activeElement.name") == "code"


@pytest.mark.parametrize("app_config", CSRF_ON)
def test_scan_works_without_javascript(app: Flask, browser: Any, live_server: Any) -> None:
    data = seed(app)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page)
        page.goto(f"/organisation/einlass/{data['event_id']}/")
        page.get_by_label("Code scannen").fill(data["codes"][1])
        page.get_by_label("Code scannen").press("Enter")
        page.locator(".answer-ok").get_by_text("Eingecheckt", exact=True).wait_for()
        assert page.get_by_label("Code scannen").input_value() == ""
        assert page.get_by_label("Code scannen").get_attribute("autofocus") is not None
        assert checked_in(app, data["ids"][1])
        page.get_by_role("button", name=re.compile("Letzten Check-in zurücknehmen")).click()
        page.get_by_text("Check-in zurückgenommen").wait_for()
        assert not checked_in(app, data["ids"][1])
    finally:
        context.close()


@pytest.mark.parametrize("width", [320, 375, 768])
def test_desk_fits_a_phone_without_sideways_scrolling(
    app: Flask, browser: Any, live_server: Any, width: int
) -> None:
    data = seed(app)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 740}, has_touch=True
    )
    page = context.new_page()
    try:
        log_in(page)
        page.goto(f"/organisation/einlass/{data['event_id']}/")
        wait_for_scan_field(page)
        page.keyboard.type(data["codes"][0])
        page.keyboard.press("Enter")
        page.locator("#desk-answer").get_by_text("Eingecheckt", exact=True).wait_for()
        page.goto(f"/organisation/einlass/{data['event_id']}/?q=mueller#results")
        assert "Jürgen Müller-Lüdenscheidt" in page.locator(".desk-results").inner_text()
        page.goto(f"/organisation/einlass/{data['event_id']}/?q=agentur")
        page.screenshot(path=f"/tmp/desk-{width}.png", full_page=True)
        wide = page.evaluate(
            f"""[...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > {width})
               .map(e => e.tagName + '.' + e.className)"""
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width, wide
        # Every check-in button is on screen, and every control is a 44 px touch target.
        for button in page.locator(".desk-results button").all():
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        small = page.evaluate(
            """[...document.querySelectorAll(
                  'main button, main input:not([type=hidden]), main select, main .button')]
               .filter(e => e.offsetParent !== null)
               .filter(e => e.getBoundingClientRect().height < 44)
               .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert small == []
        page.screenshot(path=f"/tmp/desk-{width}.png", full_page=True)
        page.goto(f"/organisation/einlass/{data['event_id']}/spontan")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


@pytest.mark.system(*PDF_OUTPUT)
@pytest.mark.parametrize("app_config", CSRF_ON)
def test_walk_in_is_checked_in_and_badge_opens_in_a_new_tab(app: Flask, page: Any) -> None:
    data = seed(app)
    log_in(page)
    page.goto(f"/organisation/einlass/{data['event_id']}/")
    page.get_by_role("link", name="Person spontan anmelden").click()
    page.get_by_label("Vorname").fill("Gisela")
    page.get_by_label("Nachname").fill("Spontan")
    page.get_by_role("textbox", name="Organisation").fill("Jobcenter Magdeburg")
    page.get_by_label("Rolle").select_option("press")
    page.get_by_label("Workshop").select_option(str(data["workshop_id"]))
    page.get_by_label("Format des Namensschilds").select_option("a6")
    page.get_by_label("Die Person hat die Datenschutzhinweise erhalten").check()
    page.get_by_role("button", name="Anmelden, einchecken und Schild drucken").click()
    answer = page.locator("#desk-answer")
    answer.get_by_text("Eingecheckt", exact=True).wait_for()
    assert "Gisela Spontan" in answer.inner_text()
    assert "Workshop Fachkräftesicherung" in answer.inner_text()
    assert page.locator("#desk-count").inner_text() == "1 von 5 eingecheckt"
    with app.app_context():
        person = db.session.scalar(sa.select(Registration).filter_by(last_name="Spontan"))
        assert person.checked_in_at is not None
        code = person.checkin_code

    pdfs: list[Any] = []
    page.context.on(
        "response",
        lambda response: (
            pdfs.append(response)
            if response.headers.get("content-type") == "application/pdf"
            else None
        ),
    )
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=re.compile("Namensschild öffnen")).click()
    badge_tab = opened.value
    badge_tab.wait_for_load_state()
    for _ in range(50):
        if pdfs:
            break
        badge_tab.wait_for_timeout(100)
    assert pdfs, "the badge PDF never arrived"
    assert pdfs[0].url.endswith("/datei") and pdfs[0].frame.page == badge_tab
    # The same file, fetched with the desk's login (the tab's PDF viewer keeps the body).
    pdf = page.context.request.get(pdfs[0].url).body()
    assert page_sizes_mm(pdf) == [(105.0, 148.0)]
    assert [c.text for c in qr_codes(pdf, dpi=200)] == [code]


def fake_camera_video(path: Path, code: str) -> Path:
    """Write a short YUV4MPEG2 video of a badge's QR code, large and centred, for Chromium."""
    from PIL import Image

    width, height = 640, 480
    qr = Image.open(io.BytesIO(checkin_qr_png(code))).convert("L")
    qr = qr.resize((qr.width * 12, qr.height * 12), Image.Resampling.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(qr, ((width - qr.width) // 2, (height - qr.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + planes + b"FRAME\n" + planes)
    return path


@pytest.mark.parametrize("app_config", CSRF_ON)
def test_camera_reads_a_badge_and_checks_the_person_in(
    app: Flask, browser: Any, live_server: Any, tmp_path: Path
) -> None:
    data = seed(app)
    video = fake_camera_video(tmp_path / "badge.y4m", data["codes"][1])
    camera_browser = browser.browser_type.launch(
        executable_path=str(CHROMIUM_PATH),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    context = camera_browser.new_context(
        base_url=live_server.url,
        locale="de-DE",
        permissions=["camera"],
        viewport={"width": 375, "height": 740},
        has_touch=True,
    )
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    scans: list[str] = []
    page.on("request", lambda r: scans.append(r.url) if r.url.endswith("/scan") else None)
    try:
        log_in(page)
        page.goto(f"/organisation/einlass/{data['event_id']}/")
        camera = page.get_by_role("button", name="Kamera")
        camera.click()
        assert camera.get_attribute("aria-pressed") == "true"
        answer = page.locator("#desk-answer")
        answer.get_by_text("Eingecheckt", exact=True).wait_for(timeout=20000)
        assert "Vorname1 Nachname1" in answer.inner_text()
        assert checked_in(app, data["ids"][1])
        assert page.locator("#desk-count").inner_text() == "1 von 4 eingecheckt"
        page.screenshot(path="/tmp/desk-camera.png", full_page=True)
        assert layout_problems(page, 375) == []
        # The badge stays in front of the camera: it is not sent again.
        page.wait_for_timeout(2000)
        assert len(scans) == 1, scans
        decoder = page.locator("#desk-camera-view").get_attribute("data-decoder")
        print(f"camera decoder used: {decoder}")
        assert decoder in ("jsqr", "barcode-detector")
        # Pressed again, the camera stops and its picture goes.
        camera.click()
        assert camera.get_attribute("aria-pressed") == "false"
        assert page.locator("#desk-camera-view").is_hidden()
        assert page.evaluate("document.querySelector('video').srcObject") is None
        assert not [p for p in problems if "Content Security Policy" in p], problems
    finally:
        context.close()
        camera_browser.close()


def layout_problems(page: Any, width: int) -> list[str]:
    """Say what scrolls sideways or is a touch target under 44 px on the desk."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    small = page.evaluate(
        """[...document.querySelectorAll(
              'main button, main input:not([type=hidden]), main select, main .button')]
           .filter(e => e.offsetParent !== null)
           .filter(e => e.getBoundingClientRect().height < 44)
           .map(e => e.outerHTML.slice(0, 80))"""
    )
    return ([f"scrolls sideways: {wide} px"] if wide > width else []) + small


@pytest.mark.parametrize("app_config", CSRF_ON)
def test_desk_keeps_scanning_offline_and_sends_when_back(
    app: Flask, browser: Any, live_server: Any
) -> None:
    data = seed(app)
    # A phone; the CSP is bypassed only to inject axe-core (the camera test keeps it).
    context = browser.new_context(
        base_url=live_server.url,
        locale="de-DE",
        viewport={"width": 320, "height": 740},
        has_touch=True,
        bypass_csp=True,
    )
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    try:
        offline_scans_are_sent_later(app, context.new_page(), data)
    finally:
        context.close()


def offline_scans_are_sent_later(app: Flask, page: Any, data: dict[str, Any]) -> None:
    log_in(page)
    desk_url = f"/organisation/einlass/{data['event_id']}/"
    page.goto(desk_url)
    page.locator("summary", has_text="Name dieses Platzes").click()
    page.get_by_label("Name dieses Platzes").fill("Nord")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("Dieser Platz heißt jetzt „Nord“").wait_for()
    # Back on the desk after the redirect to #scan, the scanner can type at once.
    wait_for_scan_field(page)
    page.goto(desk_url)
    page.locator("#desk-offline[data-list-ready='4']").wait_for(state="attached")
    wait_for_scan_field(page)
    answer, pending = page.locator("#desk-answer"), page.locator("#desk-pending")

    page.context.set_offline(True)
    for number, code in enumerate(data["codes"]):
        page.keyboard.type(code.lower())
        page.keyboard.press("Enter")
        answer.get_by_text(f"Vorname{number} Nachname{number}").wait_for()
        assert "Offline gespeichert – wird übertragen" in answer.inner_text()
    assert pending.inner_text() == "3 Check-ins warten auf Übertragung"
    # The same badge again is not kept twice.
    page.keyboard.type(data["codes"][0])
    page.keyboard.press("Enter")
    answer.get_by_text("Schon offline erfasst").wait_for()
    assert pending.inner_text() == "3 Check-ins warten auf Übertragung"
    assert not any(checked_in(app, i) for i in data["ids"])
    page.screenshot(path="/tmp/desk-offline.png", full_page=True)
    assert layout_problems(page, 320) == []
    assert axe_violations(page) == []

    page.context.set_offline(False)
    pending.wait_for(state="hidden")  # empty: nothing waits
    assert page.locator("#desk-sent").inner_text().count("eingecheckt") == 3
    assert page.locator("#desk-count").inner_text() == "3 von 4 eingecheckt"
    with app.app_context():
        people = [db.session.get(Registration, i) for i in data["ids"]]
        assert all(p.checked_in_at is not None and p.checked_in_desk == "Nord" for p in people)
    # The queue is empty for good, and an online scan goes the usual way again.
    page.goto(desk_url)
    wait_for_scan_field(page)
    page.keyboard.type(data["codes"][0])
    page.keyboard.press("Enter")
    answer.get_by_text("Schon eingecheckt").wait_for()
    assert pending.inner_text() == ""
    # Logging out forgets the names kept on the device.
    page.get_by_role("button", name=re.compile("Abmelden")).click()
    page.get_by_text("Sie sind abgemeldet.").wait_for()
    kept = page.evaluate(
        """() => new Promise((resolve) => {
            const opened = indexedDB.open("eventapp-desk", 1);
            opened.onsuccess = () => {
                const counted = opened.result.transaction("codes").objectStore("codes").count();
                counted.onsuccess = () => resolve(counted.result);
            };
        })"""
    )
    assert kept == 0
