"""Mail texts rendered per language: the same text as the app's own template rendering."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, render_template, template_rendered
from flask_babel import force_locale

from eventapp.extensions import db
from eventapp.models import Enrolment, EnrolmentStatus, Network
from eventapp.services.mail import texts
from eventapp.services.mail.registration_mail import active_choices
from tests.factories import make_activity, make_event, make_registration, make_room

# The templates the worker renders for each person, with the flags that change what they say.
PERSONAL = {
    "email/registration_confirmed.txt": [{}],
    "email/registration_changed.txt": [{}, {"manage_url": ""}],
    "email/registration_details_changed.txt": [{}],
    "email/registration_cancelled.txt": [{}, {"by_organiser": True, "reason": "Doppelt"}],
    "email/manage_link.txt": [{}, {"registered_again": True}],
    "email/promoted.txt": [{}, {"for_the_day": True}],
    "email/moved_to_waitlist.txt": [{}],
    "email/activity_changed.txt": [{}],
}


def _context(status: str) -> dict[str, Any]:
    event = make_event(contact_email="team@example.org", contact_phone="030 123")
    room = make_room(event, "Saal Ä")
    first = make_activity(event, title="Fachkräfte „sichern“", room=room, capacity=5)
    second = make_activity(event, title="Ausbildung", start="10:30", end="12:00", capacity=5)
    network = Network(name="Fachkräftenetzwerk Altmark", region="Altmark", state="Sachsen-Anhalt")
    db.session.add(network)
    registration = make_registration(
        event, salutation="Frau", title="Dr.", network=network, status=status, queued_at=None
    )
    held = Enrolment(registration=registration, activity=first, status=EnrolmentStatus.CONFIRMED)
    waiting = Enrolment(
        registration=registration, activity=second, status=EnrolmentStatus.WAITLISTED
    )
    db.session.add_all([held, waiting])
    db.session.flush()
    return {
        "registration": registration,
        "event": event,
        "choices": active_choices(registration),
        "event_position": 4,
        "manage_url": "https://example.org/testtag/verwalten/abc",
        "resend_url": "https://example.org/testtag/link",
        "promoted": [held],
        "moved": waiting,
        "clashing": [first],
        "activity": first,
        "activity_url": "https://example.org/testtag/programm/1",
        "lines": [{"label": "Zeit", "old": "10:00", "new": "11:00"}],
        "clashes": [second],
    }


@pytest.mark.parametrize("status", ["confirmed", "waitlisted"])
def test_mail_texts_read_as_the_app_renders_them_in_both_languages(ctx: Flask, status: str) -> None:
    context = _context(status)
    for template, variants in PERSONAL.items():
        for variant in variants:
            for language in ("de", "en"):
                values = context | variant
                with force_locale(language):
                    expected = render_template(template, **values)
                assert texts.render(template, language, **values) == expected, (template, variant)


def test_mail_text_is_in_the_persons_language_and_announced_as_rendered(ctx: Flask) -> None:
    context = _context("confirmed")
    rendered: list[str] = []

    def note(sender: Flask, template: Any, context: dict, **extra: Any) -> None:
        rendered.append(template.name)

    with template_rendered.connected_to(note, ctx):
        german = texts.render("email/registration_confirmed.txt", "de", **context)
        english = texts.render("email/registration_confirmed.txt", "en", **context)
    assert german.startswith("Sehr geehrte Frau Dr. Mustermann,")
    assert "Ihre Teilnahme ist bestätigt" in german and "Mittwoch, 10. Juni 2026" in german
    assert english.startswith("Dear Dr. Mustermann,")
    assert "Your attendance is confirmed" in english and "Wednesday, June 10, 2026" in english
    assert rendered == ["email/registration_confirmed.txt"] * 2
