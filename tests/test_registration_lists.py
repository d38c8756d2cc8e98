"""The organisers' registration list: pages, sorting, counts, and actions on a selection."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.models import (
    Enrolment,
    EnrolmentStatus,
    Network,
    Registration,
    RegistrationStatus,
)
from eventapp.services.registration import bulk
from tests.factories import make_activity, make_event, make_registration
from tests.helpers.mailbox import delivered, plain_text
from tests.helpers.statements import count_statements

LAST = ["Zander", "Ärger", "adler", "Becker", "Öztürk", "Bäcker", "Müller", "Mueller", "Weiß"]
ORGS = ["Handwerkskammer", "Ärztekammer", "Zoll", "agentur", "Jobcenter"]
NETWORKS = ["Netzwerk Altmark", "Ünternehmen Nord", "Bündnis Süd"]
ROLES = ["participant", "speaker", "press", "staff", "vip"]
STATUSES = [RegistrationStatus.CONFIRMED] * 6 + [
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
]


def seed(event: Any, count: int, offset: int = 0) -> None:
    """Add count registrations with varied names, organisations, networks, roles and places."""
    networks = [Network(name=name, state="Berlin") for name in NETWORKS]
    db.session.add_all(networks)
    workshop = make_activity(event, "Fachkräfte sichern", "10:00", "11:00", capacity=500)
    other = make_activity(event, "Ausbildung digital", "14:00", "15:00", capacity=500)
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    for i in range(count):
        n = i + offset
        status = STATUSES[n % len(STATUSES)]
        registration = make_registration(
            event,
            f"Vorname{n % 7}",
            LAST[n % len(LAST)],
            email=f"person{n}@example.org",
            organisation=ORGS[n % len(ORGS)],
            network=networks[n % 4] if n % 4 < 3 else None,
            role=ROLES[n % len(ROLES)],
            status=status,
            created_at=start + timedelta(minutes=(n * 37) % 1000),
            checked_in_at=start if n % 10 == 0 and status == "confirmed" else None,
            badge_printed_at=start if n % 3 == 0 else None,
        )
        for activity in (workshop, other)[: n % 3]:
            db.session.add(
                Enrolment(
                    registration=registration,
                    activity=activity,
                    status=EnrolmentStatus.CONFIRMED,
                    queued_at=start,
                    confirmed_at=start,
                )
            )
            activity.seats_taken += 1
    db.session.flush()


@pytest.fixture
def listed(app: Flask) -> dict[str, Any]:
    """An event with 130 registrations, and a second event with one of its own."""
    with app.app_context():
        event = make_event()
        seed(event, 130)
        other = make_event("anderertag")
        stranger = make_registration(other, "Fremd", "Person", email="fremd@example.org")
        db.session.commit()
        return {"event": event.id, "stranger": stranger.id}


def url(ids: dict[str, Any], tail: str = "/") -> str:
    return f"/organisation/veranstaltungen/{ids['event']}/anmeldungen{tail}"


def shown_ids(page: str) -> list[int]:
    """Return the registration ids of the list's rows, in order."""
    return [int(n) for n in re.findall(r'name="auswahl" value="(\d+)" form="bulk"', page)]


def test_list_pages_with_counts_and_links_that_keep_the_view(
    staff_client: FlaskClient, listed: dict
) -> None:
    page = staff_client.get(url(listed)).get_data(as_text=True)
    assert len(shown_ids(page)) == 50
    assert "Seite 1 von 3" in page
    with staff_client.application.app_context():
        by_status = dict(
            db.session.execute(
                sa.select(Registration.status, sa.func.count())
                .where(Registration.event_id == listed["event"])
                .group_by(Registration.status)
            ).all()
        )
        checked_in = db.session.scalar(
            sa.select(sa.func.count()).where(
                Registration.event_id == listed["event"], Registration.checked_in_at.is_not(None)
            )
        )
    for number, word in (
        (130, "Treffer"),
        (by_status["confirmed"], "bestätigt"),
        (by_status["waitlisted"], "auf der Warteliste"),
        (by_status["cancelled"], "storniert"),
        (checked_in, "eingecheckt"),
    ):
        assert f"<li><strong>{number}</strong> {word}</li>" in page
    assert 'aria-current="page"><span class="visually-hidden">Seite </span>1</a>' in page
    # Sorted and filtered: every page link keeps both; the page size is kept as well.
    view = "?q=kammer&sortierung=organisation&richtung=ab"
    page = staff_client.get(url(listed, "/" + view)).get_data(as_text=True)
    assert "Seite 1 von 2" in page
    assert 'aria-sort="descending"' in page
    links = re.findall(r'href="([^"]*anmeldungen/\?(?:[^"]*;)?seite=2(?:&|")[^"]*)', page)
    assert links
    for link in links:
        assert "q=kammer" in link and "richtung=ab" in link and "sortierung=organisation" in link
    page = staff_client.get(url(listed, "/?pro_seite=100")).get_data(as_text=True)
    assert "Seite 1 von 2" in page and "seite=2&amp;pro_seite=100" in page
    # The filter panel says how many filters are set (the static script opens it when wide).
    page = staff_client.get(url(listed, "/" + view)).get_data(as_text=True)
    assert 'data-open-wide="1"' in page and "Filter (1 aktiv)" in page


@pytest.mark.parametrize(
    ("query", "expected_page"),
    [
        ("seite=3", 3),
        ("seite=4", 3),  # past the end: the last page
        ("seite=999999999", 3),
        ("seite=9999999999999", 1),
        ("seite=abc", 1),
        ("seite=%C2%B2", 1),  # "²" is no number
        ("seite=0", 1),
        ("seite=-2", 1),
        ("seite=2&pro_seite=7", 2),
        ("pro_seite=200&seite=2", 1),
        ("sortierung=%3Cscript%3E&richtung=seitwaerts", 1),
    ],
)
def test_odd_page_values_give_a_page_never_an_error(
    staff_client: FlaskClient, listed: dict, query: str, expected_page: int
) -> None:
    response = staff_client.get(url(listed, "/?" + query))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    pages = 1 if "pro_seite=200" in query else 3
    assert f"Seite {expected_page} von {pages}" in page
    rows = shown_ids(page)
    assert len(rows) == (30 if expected_page == 3 else min(130, 200 if pages == 1 else 50))


def _german(text: str) -> str:
    for letter, plain in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        text = text.lower().replace(letter, plain)
    return text


ROLE_ORDER = ["participant", "speaker", "press", "staff", "vip"]
STATUS_ORDER = ["confirmed", "waitlisted", "cancelled"]


def expected_order(registrations: list[Registration], sort: str, descending: bool) -> list[int]:
    """Return the ids in the order the list promises (German letters, then name, then id)."""

    def name(r: Registration) -> tuple[str, str]:
        return (_german(r.last_name), _german(r.first_name))

    primary = {
        "organisation": lambda r: _german(r.organisation),
        "netzwerk": lambda r: _german(r.network.name) if r.network else "",
        "rolle": lambda r: ROLE_ORDER.index(r.role),
        "status": lambda r: STATUS_ORDER.index(r.status),
        "workshops": lambda r: sum(1 for e in r.enrolments if e.status != "cancelled"),
        "angemeldet": lambda r: r.created_at,
    }
    if sort == "name":
        ordered = sorted(registrations, key=lambda r: r.id)
        ordered = sorted(ordered, key=name, reverse=descending)
        return [r.id for r in ordered]
    ordered = sorted(registrations, key=lambda r: (*name(r), r.id))
    ordered = sorted(ordered, key=primary[sort], reverse=descending)  # stable: ties keep name
    return [r.id for r in ordered]


@pytest.mark.parametrize(
    "sort", ["name", "organisation", "netzwerk", "rolle", "status", "workshops", "angemeldet"]
)
def test_every_column_sorts_both_ways_in_german_order(
    staff_client: FlaskClient, listed: dict, sort: str
) -> None:
    with staff_client.application.app_context():
        registrations = list(
            db.session.scalars(
                sa.select(Registration).where(Registration.event_id == listed["event"])
            )
        )
        for r in registrations:
            _ = r.network, r.enrolments
        expected = {d: expected_order(registrations, sort, d) for d in (False, True)}
    for descending in (False, True):
        query = f"?sortierung={sort}&pro_seite=50" + ("&richtung=ab" if descending else "")
        seen: list[int] = []
        for number in (1, 2, 3):
            page = staff_client.get(url(listed, f"/{query}&seite={number}")).get_data(as_text=True)
            seen += shown_ids(page)
        assert seen == expected[descending], (sort, descending)
        sorted_header = "descending" if descending else "ascending"
        assert f'aria-sort="{sorted_header}"' in page
    if sort == "name":  # Ä sorts with A, ß as ss, lower-case names among the others
        page = staff_client.get(url(listed, "/?pro_seite=200")).get_data(as_text=True)
        names = re.findall(r'">([^<,]+), Vorname', page)
        assert names.index("adler") < names.index("Ärger") < names.index("Bäcker")


def test_list_page_statements_do_not_grow_with_rows_shown(
    staff_client: FlaskClient, listed: dict, app: Flask
) -> None:
    staff_client.get(url(listed, "/?pro_seite=50"))  # warm up: login lookups, caches
    with count_statements(app) as few:
        assert len(shown_ids(staff_client.get(url(listed, "/?pro_seite=50")).get_data(True))) == 50
    with count_statements(app) as many:
        page = staff_client.get(url(listed, "/?pro_seite=200")).get_data(as_text=True)
        assert len(shown_ids(page)) == 130
    assert len(few) == len(many), (len(few), len(many))
    with count_statements(app) as sorted_by_network:
        staff_client.get(url(listed, "/?pro_seite=200&sortierung=netzwerk&angebot=1"))
    assert len(sorted_by_network) == len(few)


def post_selection(
    client: FlaskClient, ids: dict, action: str, chosen: list[Any], **more: str
) -> Any:
    data: dict[str, Any] = {"aktion": action, "auswahl": [str(c) for c in chosen], **more}
    return client.post(url(ids, "/auswahl/"), data=data)


def ids_where(app: Flask, event_id: int, *conditions: Any) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Registration.id)
                .where(Registration.event_id == event_id, *conditions)
                .order_by(Registration.id)
            )
        )


def test_reprint_marks_printed_badges_and_ignores_foreign_ids(
    staff_client: FlaskClient, listed: dict, app: Flask
) -> None:
    printed = ids_where(
        app,
        listed["event"],
        Registration.badge_printed_at.is_not(None),
        Registration.status == "confirmed",
    )[:3]
    fresh = ids_where(
        app,
        listed["event"],
        Registration.badge_printed_at.is_(None),
        Registration.status == "confirmed",
    )[:1]
    chosen = [*printed, *fresh, listed["stranger"], "abc", "²", "99999999999"]
    response = post_selection(staff_client, listed, "namensschild", chosen, q="x", seite="2")
    assert response.status_code == 302
    assert "q=x" in response.headers["Location"] and "seite=2" in response.headers["Location"]
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 Namensschilder kommen in den nächsten Druck" in page
    assert "1 Namensschild war noch nicht gedruckt" in page
    assert "4 ausgewählte Einträge gehören nicht zu dieser Veranstaltung" in page
    with app.app_context():
        stranger = db.session.get(Registration, listed["stranger"])
        assert stranger.badge_printed_at is None  # untouched: was never printed
        assert all(db.session.get(Registration, i).badge_printed_at is None for i in printed)


def test_empty_or_odd_selection_answers_with_a_message(
    staff_client: FlaskClient, listed: dict
) -> None:
    odd = (("stornieren", []), ("workshop", [listed["stranger"]]), ("x", [1]), ("mail", []))
    for action, chosen in odd:
        response = post_selection(staff_client, listed, action, chosen)
        assert response.status_code == 302
        page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Bitte markieren Sie" in page or "Bitte wählen Sie eine Aktion" in page


def test_bulk_cancel_confirms_then_cancels_with_reason_by_mail(
    staff_client: FlaskClient, listed: dict, app: Flask
) -> None:
    confirmed = ids_where(app, listed["event"], Registration.status == "confirmed")[:3]
    cancelled = ids_where(app, listed["event"], Registration.status == "cancelled")[:1]
    chosen = [*confirmed, *cancelled, listed["stranger"]]
    response = post_selection(staff_client, listed, "stornieren", chosen, sortierung="status")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "3 Anmeldungen stornieren?" in page and "Bereits storniert" in page
    assert "Fremd" not in page and "gehört nicht zu dieser Veranstaltung" in page
    assert f'name="auswahl" value="{listed["stranger"]}"' not in page
    assert 'name="sortierung" value="status"' in page
    with app.app_context():
        assert all(
            db.session.get(Registration, i).status == "confirmed" for i in confirmed
        )  # nothing changed yet
    hidden = re.findall(r'name="auswahl" value="(\d+)"', page)
    # A reason too long is sent back with the selection kept.
    response = staff_client.post(
        url(listed, "/auswahl/stornieren"), data={"auswahl": hidden, "reason": "x" * 1001}
    )
    assert response.status_code == 400
    assert "höchstens 1000 Zeichen" in response.get_data(as_text=True)
    assert f'value="{hidden[0]}"' in response.get_data(as_text=True)
    response = staff_client.post(
        url(listed, "/auswahl/stornieren"),
        data={"auswahl": hidden, "reason": "Nur für Mitglieder.", "sortierung": "status"},
    )
    assert response.status_code == 302 and "sortierung=status" in response.headers["Location"]
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 Anmeldungen sind storniert" in page and "1 Anmeldung war bereits storniert" in page
    with app.app_context():
        assert all(db.session.get(Registration, i).status == "cancelled" for i in confirmed)
        assert db.session.get(Registration, listed["stranger"]).status == "confirmed"
    mails = [m for m in delivered(app) if "Organisationsteam storniert" in m["Subject"]]
    assert len(mails) == 3
    assert all("Nur für Mitglieder." in plain_text(m) for m in mails)


def test_bulk_cancel_of_too_many_at_once_is_refused(
    staff_client: FlaskClient, listed: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MOST_CHANGED_AT_ONCE", 100)
    response = staff_client.post(
        url(listed, "/auswahl/"), data={"aktion": "stornieren", "umfang": "alle"}
    )
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Es sind 130 Anmeldungen ausgewählt" in page


def test_this_page_and_all_matches_select_what_the_list_shows(
    staff_client: FlaskClient, listed: dict, app: Flask
) -> None:
    page = staff_client.get(url(listed, "/?sortierung=organisation&seite=2")).get_data(True)
    on_page = shown_ids(page)
    response = staff_client.post(
        url(listed, "/auswahl/"),
        data={"aktion": "workshop", "umfang": "seite", "sortierung": "organisation", "seite": "2"},
    )
    assert response.status_code == 200
    carried = [int(n) for n in re.findall(r'name="auswahl" value="(\d+)"', response.get_data(True))]
    assert sorted(carried) == sorted(on_page)
    response = staff_client.post(
        url(listed, "/auswahl/"), data={"aktion": "workshop", "umfang": "alle", "q": "zoll"}
    )
    carried = re.findall(r'name="auswahl" value="(\d+)"', response.get_data(True))
    with app.app_context():
        zoll = ids_where(app, listed["event"], Registration.organisation == "Zoll")
    assert sorted(int(n) for n in carried) == zoll


def test_bulk_move_into_workshop_seats_until_full_then_waitlists(
    staff_client: FlaskClient, app: Flask
) -> None:
    with app.app_context():
        event = make_event()
        morning = make_activity(event, "Frühschicht", "10:00", "11:00", capacity=10)
        target = make_activity(event, "Parallel-Workshop", "10:30", "11:30", capacity=2)
        people = [
            make_registration(event, f"Vorname{i}", f"Person{i}", email=f"p{i}@example.org")
            for i in range(4)
        ]
        waiting_day = make_registration(
            event, "Warte", "Tag", email="wt@example.org", status=RegistrationStatus.WAITLISTED
        )
        start = datetime(2026, 5, 1, tzinfo=UTC)
        db.session.add(
            Enrolment(registration=people[0], activity=morning, status="confirmed", queued_at=start)
        )
        morning.seats_taken = 1
        db.session.commit()
        ids = {"event": event.id}
        chosen = [p.id for p in people] + [waiting_day.id]
        target_id, morning_id, first = target.id, morning.id, people[0].id
    step = post_selection(staff_client, ids, "workshop", chosen)
    assert step.status_code == 200 and "Bitte wählen" in step.get_data(True)
    data = {"auswahl": [str(c) for c in chosen], "workshop": "abc"}
    assert staff_client.post(url(ids, "/auswahl/workshop"), data=data).status_code == 400
    data["workshop"] = str(target_id)
    plan = staff_client.post(url(ids, "/auswahl/workshop"), data=data)
    text = plan.get_data(as_text=True)
    assert plan.status_code == 200
    assert "Bekommen einen Platz (2)" in text and "Kommen auf die Warteliste (3)" in text
    assert "gibt dafür ab:" in text and "Frühschicht" in text
    assert "wartet noch auf einen Platz für den Tag" in text
    with app.app_context():
        assert db.session.get(type(target), target_id).seats_taken == 0  # nothing changed yet
    data["bestaetigt"] = "ja"
    done = staff_client.post(url(ids, "/auswahl/workshop"), data=data)
    assert done.status_code == 302
    page = staff_client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 Person(en) haben einen Platz, 3 stehen auf der Warteliste" in page
    with app.app_context():
        workshop = db.session.get(type(target), target_id)
        assert workshop.seats_taken == 2 == workshop.capacity
        statuses = db.session.scalars(
            sa.select(Enrolment.status)
            .where(Enrolment.activity_id == target_id)
            .order_by(Enrolment.registration_id)
        ).all()
        assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted", "waitlisted"]
        left = db.session.scalar(
            sa.select(Enrolment).where(
                Enrolment.activity_id == morning_id, Enrolment.registration_id == first
            )
        )
        assert left.status == "cancelled"
        assert db.session.get(type(morning), morning_id).seats_taken == 0
    changed = [m for m in delivered(app) if "Auswahl wurde geändert" in m["Subject"]]
    assert len(changed) == 5
    # Sending the same confirmation again changes nobody: all are in already.
    again = staff_client.post(url(ids, "/auswahl/workshop"), data=data)
    page = staff_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "0 Person(en) haben einen Platz, 0 stehen" in page


def test_mail_button_hands_the_selection_to_the_campaign_page(
    app: Flask, client: FlaskClient
) -> None:
    from tests.conftest import login
    from tests.factories import make_organiser

    with app.app_context():
        event = make_event()
        people = [
            make_registration(event, "A", f"B{i}", email=f"ab{i}@example.org") for i in range(3)
        ]
        make_organiser("staff@example.org", "staff-password-1", role="staff")
        db.session.commit()
        ids = {"event": event.id}
        chosen = [p.id for p in people[:2]]
    login(client, "staff@example.org", "staff-password-1")
    assert "E-Mail schreiben" in client.get(url(ids)).get_data(as_text=True)
    step = post_selection(client, ids, "mail", chosen)
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and "E-Mail an 2 Personen schreiben" in page
    assert f'action="/organisation/veranstaltungen/{ids["event"]}/rundmails/neu"' in page
    hidden = re.findall(r'name="auswahl" value="(\d+)"', page)
    form = client.post(
        f"/organisation/veranstaltungen/{ids['event']}/rundmails/neu", data={"auswahl": hidden}
    ).get_data(as_text=True)
    assert "Ausgewählte Anmeldungen (2)" in form
    carried = re.findall(r'name="auswahl" value="(\d+)"', form)
    assert sorted(int(n) for n in carried) == sorted(chosen)
