"""Participants' clashes: moving an activity onto another that some of its people also hold."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import Activity, Enrolment, EnrolmentStatus, Registration
from eventapp.services.mail.change_notices import flush_change_notices
from eventapp.services.programme.checks import ActivityRefused
from eventapp.services.programme.participant_clashes import ClashChoice
from eventapp.services.programme.scheduling import ConflictKind
from eventapp.services.registration import registrations as service
from eventapp.timezones import to_local, utcnow
from tests.helpers import inline_parts
from tests.helpers.clashes import build, manage_url, move_a_onto_b
from tests.helpers.mailbox import delivered, plain_text
from tests.helpers.programme import edit


def statuses(ids: dict[str, Any], activity: str) -> dict[str, EnrolmentStatus]:
    """Return each person's enrolment status in activity a or b."""
    found = {}
    for i in range(4):
        enrolment = db.session.scalar(
            sa.select(Enrolment).where(
                Enrolment.registration_id == ids[f"p{i}"], Enrolment.activity_id == ids[activity]
            )
        )
        if enrolment is not None:
            found[f"p{i}"] = enrolment.status
    return found


def test_moving_onto_a_held_activity_is_blocked_with_the_people(app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        with pytest.raises(ActivityRefused) as refused:
            move_a_onto_b(ids)
        db.session.rollback()
        clashes = [c for c in refused.value.conflicts if c.is_participant_clash]
        assert {c.person_name for c in clashes} == {
            "Vorname0 Nachname0",
            "Vorname1 Nachname1",
            "Vorname3 Nachname3",
        }
        assert all(c.kind == ConflictKind.PARTICIPANT_OVERLAP for c in clashes)
        assert all(c.activity_ids == (ids["a"], ids["b"]) for c in clashes)
        first = next(c for c in clashes if c.person_name == "Vorname0 Nachname0")
        assert first.message == (
            "Vorname0 Nachname0 hätte zur selben Zeit auch „Workshop B“ (11:30–12:30): "
            "hier Platz bestätigt, dort Platz bestätigt."
        )
        assert refused.value.needs_confirmation
        activity = db.session.get(Activity, ids["a"])
        assert to_local(activity.starts_at, "Europe/Berlin").time() == time(10, 0)


def test_moves_without_clash_and_cancelled_others_save_at_once(app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        edit(db.session.get(Activity, ids["a"]), starts=time(9, 0), ends=time(10, 30))
        b = db.session.get(Activity, ids["b"])
        edit(b, cancelled=True)
        move_a_onto_b(ids)  # B is called off: nobody holds two things at once
        assert to_local(db.session.get(Activity, ids["a"]).starts_at, "Europe/Berlin").time() == (
            time(11, 30)
        )


def test_keep_both_saves_and_is_not_asked_again(app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        move_a_onto_b(ids, participant_clash_choice=ClashChoice.KEEP_BOTH)
        assert statuses(ids, "a") == {
            "p0": EnrolmentStatus.CONFIRMED,
            "p1": EnrolmentStatus.CONFIRMED,
            "p2": EnrolmentStatus.WAITLISTED,
            "p3": EnrolmentStatus.WAITLISTED,
        }
        # A later edit of the title does not ask about the clashes already kept.
        edit(db.session.get(Activity, ids["a"]), title="Workshop A (neu)")
        # Moving further so that it still overlaps asks nothing new either.
        edit(db.session.get(Activity, ids["a"]), starts=time(11, 45), ends=time(12, 30))


def test_keep_both_mails_the_change_notice_naming_the_clash(app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        move_a_onto_b(ids, participant_clash_choice=ClashChoice.KEEP_BOTH)
        assert flush_change_notices(utcnow() + timedelta(minutes=11)) == 4
        db.session.commit()
    notices = {m["To"]: plain_text(m) for m in delivered(app) if "Programmänderung" in m["Subject"]}
    assert set(notices) == {f"person{i}@example.org" for i in range(4)}
    clash = "Achtung: „Workshop A“ findet jetzt gleichzeitig mit „Workshop B“ (11:30–12:30 Uhr)"
    assert clash in notices["person0@example.org"]
    assert clash in notices["person3@example.org"]
    assert "Achtung" not in notices["person2@example.org"]


def test_waitlist_choice_moves_double_seats_and_passes_the_seat_on(app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        move_a_onto_b(ids, participant_clash_choice=ClashChoice.WAITLIST)
        a_now = statuses(ids, "a")
        # p0 held both seats: now waiting for A, keeps B. p1 only waits for B: keeps A.
        assert a_now["p0"] == EnrolmentStatus.WAITLISTED
        assert a_now["p1"] == EnrolmentStatus.CONFIRMED
        # The freed seat goes to the next in line without a clash (p2), not p3 (waits for B too).
        assert a_now["p2"] == EnrolmentStatus.CONFIRMED
        assert a_now["p3"] == EnrolmentStatus.WAITLISTED
        assert statuses(ids, "b")["p0"] == EnrolmentStatus.CONFIRMED
        activity = db.session.get(Activity, ids["a"])
        assert activity.seats_taken == 2
        # p0 now waits at the end of the line, behind p3.
        waiting = sorted(
            (e for e in activity.enrolments if e.status == EnrolmentStatus.WAITLISTED),
            key=lambda e: (e.queued_at, e.id),
        )
        assert [e.registration_id for e in waiting] == [ids["p3"], ids["p0"]]
        assert flush_change_notices(utcnow() + timedelta(minutes=11)) == 4
        db.session.commit()
    mails = delivered(app)
    moved = [m for m in mails if "Sie stehen jetzt auf der Warteliste" in m["Subject"]]
    assert [m["To"] for m in moved] == ["person0@example.org"]
    text = plain_text(moved[0])
    assert "das Organisationsteam hat „Workshop A“ verlegt" in text
    assert "von 11:30 bis 12:30 Uhr" in text
    assert "Damit überschneidet es sich mit „Workshop B“ (11:30–12:30 Uhr)" in text
    assert "Warteliste, Platz 2" in text
    promoted = [m for m in mails if "nachgerückt" in m["Subject"]]
    assert [m["To"] for m in promoted] == ["person2@example.org"]
    # The moved person gets the change notice too (they wait for A now).
    notices = [m["To"] for m in mails if "Programmänderung: Workshop A" in m["Subject"]]
    assert "person0@example.org" in notices


def activity_form(ids: dict[str, Any], **fields: str) -> dict[str, str]:
    data = {
        "title": "Workshop A",
        "kind": "workshop",
        "room": "",
        "day": "2026-06-10",
        "starts": "11:30",
        "ends": "12:30",
        "capacity": "2",
        "requires_enrolment": "auto",
        "speakers": "",
        "moderators": "",
        "description": "",
        "language": "de",
        "published": "y",
    }
    data.update(fields)
    return data


def test_planner_form_lists_the_people_and_saves_with_a_choice(
    staff_client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    url = f"/organisation/veranstaltungen/{ids['event']}/programm/{ids['a']}"
    blocked = staff_client.post(url, data=activity_form(ids))
    assert blocked.status_code == 400
    page = blocked.text
    assert "Überschneidung bei Teilnehmenden" in page
    assert "Vorname0 Nachname0 hätte zur selben Zeit auch „Workshop B“" in page
    assert "Vorname2 Nachname2" not in page
    assert "3 Personen hätten dann zwei Angebote zur selben Zeit." in page
    assert 'href="#participant_clash_choice"' in page
    assert 'name="participant_clash_choice" type="radio" value="waitlist"' in page
    assert inline_parts(page) == []
    saved = staff_client.post(url, data=activity_form(ids, participant_clash_choice="waitlist"))
    assert saved.status_code == 302
    with app.app_context():
        assert statuses(ids, "a")["p0"] == EnrolmentStatus.WAITLISTED


def test_participants_form_shows_both_and_saving_unchanged_keeps_both(
    client: FlaskClient, app: Flask
) -> None:
    ids = build(app)
    with app.app_context():
        move_a_onto_b(ids, participant_clash_choice=ClashChoice.KEEP_BOTH)
    page = client.get(manage_url(ids, "p0")).text
    a, b = ids["a"], ids["b"]
    assert f'type="checkbox" name="slot-{a}" id="choice-{a}" value="{a}"' in page
    assert f'type="checkbox" name="slot-{a}" id="choice-{b}" value="{b}"' in page
    assert page.count("checked>") >= 2
    assert f'id="choice-{a}" value="{a}" aria-describedby="choice-{a}-seats" checked' in page
    assert f'id="choice-{b}" value="{b}" aria-describedby="choice-{b}-seats" checked' in page
    assert (
        "„Workshop A“ (11:30–12:30 Uhr) und „Workshop B“ (11:30–12:30 Uhr) finden nach einer "
        "Programmänderung gleichzeitig statt." in page
    )
    # The browser sends both checked boxes; nothing is dropped.
    response = client.post(
        manage_url(ids, "p0"), data={"action": "change", f"slot-{a}": [str(a), str(b)]}
    )
    assert response.status_code == 302
    with app.app_context():
        assert statuses(ids, "a")["p0"] == EnrolmentStatus.CONFIRMED
        assert statuses(ids, "b")["p0"] == EnrolmentStatus.CONFIRMED
    # Unticking one gives that seat up.
    client.post(manage_url(ids, "p0"), data={"action": "change", f"slot-{a}": [str(b)]})
    with app.app_context():
        assert statuses(ids, "a")["p0"] == EnrolmentStatus.CANCELLED
        assert statuses(ids, "b")["p0"] == EnrolmentStatus.CONFIRMED
        # A new overlapping choice is still refused.
        registration = db.session.get(Registration, ids["p0"])
        with pytest.raises(Exception, match="gleichzeitig"):
            service.change_choices(registration, [a, b])
        db.session.rollback()


def test_organisers_edit_form_keeps_both_too(staff_client: FlaskClient, app: Flask) -> None:
    ids = build(app)
    with app.app_context():
        move_a_onto_b(ids, participant_clash_choice=ClashChoice.KEEP_BOTH)
    page = staff_client.get(
        f"/organisation/veranstaltungen/{ids['event']}/anmeldungen/{ids['p0']}"
    ).text
    assert f'type="checkbox" name="slot-{ids["a"]}" id="choice-{ids["b"]}"' in page
    assert "finden nach einer Programmänderung gleichzeitig statt" in page
