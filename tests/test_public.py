"""Public pages: the home page, an event's programme and an activity's page."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from eventapp import page_cache
from eventapp.extensions import db
from eventapp.models import ActivityKind, ActivityPerson, Person, PersonRole
from tests.factories import make_activity, make_event, make_room
from tests.helpers.statements import count_statements


def build_programme(app: Flask, activities: int, slug: str = "testtag") -> None:
    """Create a published event with 8 rooms and the given number of activities with speakers."""
    with app.app_context():
        event = make_event(slug)
        rooms = [make_room(event, f"Raum {i}", 40, position=i) for i in range(8)]
        for index in range(activities):
            hour = 9 + index // 8
            activity = make_activity(
                event,
                f"Workshop {index}",
                f"{hour:02d}:00",
                f"{hour:02d}:45",
                room=rooms[index % 8],
            )
            person = Person(name=f"Referentin {slug} {index}")
            db.session.add(
                ActivityPerson(activity=activity, person=person, role=PersonRole.SPEAKER)
            )
        db.session.commit()


def test_home_lists_only_published_events(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_event("oeffentlich", title="Öffentlicher Tag")
        make_event("entwurf", title="Geheimer Entwurf", published=False)
        db.session.commit()
    text = client.get("/").get_data(as_text=True)
    assert "Öffentlicher Tag" in text
    assert "Geheimer Entwurf" not in text


def test_event_page_shows_published_programme(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event = make_event()
        room = make_room(event, "Konferenzraum 1.1", 30)
        workshop = make_activity(event, "Willkommenskultur", room=room, capacity=30, seats_taken=28)
        make_activity(
            event, "Entwurf eines Workshops", "12:00", "13:00", room=room, published=False
        )
        make_activity(event, "Mittagspause", "13:00", "14:00", kind=ActivityKind.BREAK)
        make_activity(event, "Abgesagtes Forum", "14:00", "15:00", room=room, cancelled=True)
        db.session.add(
            ActivityPerson(
                activity=workshop, person=Person(name="Miriam Özdemir"), role=PersonRole.SPEAKER
            )
        )
        db.session.commit()
    response = client.get("/testtag/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Willkommenskultur" in text
    assert "Miriam Özdemir" in text
    assert "noch 2 Plätze frei" in text
    assert "Workshop" in text and "Konferenzraum 1.1" in text
    assert "Entwurf eines Workshops" not in text
    assert "Abgesagt" in text
    # The list is the base structure: one heading per start time.
    assert text.count('class="pg-time-col" id="slot-') == 3 + 0
    assert "across-rooms" in text  # the break spans all rooms


def test_event_page_full_activity_says_waiting_list(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event = make_event()
        make_activity(event, "Voll", capacity=10, seats_taken=10)
        db.session.commit()
    assert "ausgebucht" in client.get("/testtag/").get_data(as_text=True)


def test_event_page_unknown_or_unpublished_is_404(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        make_event("entwurf", published=False)
        db.session.commit()
    assert client.get("/gibt-es-nicht/").status_code == 404
    assert client.get("/entwurf/").status_code == 404


def test_activity_page_shows_details(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event = make_event()
        room = make_room(event, "Saal", 100, notes="Erdgeschoss, stufenlos")
        activity = make_activity(
            event, "Ausbildung attraktiv machen", room=room, description="Worum es geht."
        )
        db.session.add(
            ActivityPerson(
                activity=activity,
                person=Person(name="Andrea Kühn", title="Prof. Dr.", organisation="HWR Berlin"),
                role=PersonRole.SPEAKER,
            )
        )
        db.session.commit()
        activity_id = activity.id
    response = client.get(f"/testtag/programm/{activity_id}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Prof. Dr. Andrea Kühn, HWR Berlin" in text
    assert "Erdgeschoss, stufenlos" in text
    assert "10:00–11:00" in text


def test_activity_page_wrong_ids_are_404(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event = make_event()
        other = make_event("anderer-tag")
        hidden = make_activity(event, "Entwurf", published=False, capacity=5)
        foreign = make_activity(other, "Fremd", capacity=5)
        db.session.commit()
        hidden_id, foreign_id = hidden.id, foreign.id
    assert client.get(f"/testtag/programm/{hidden_id}").status_code == 404
    assert client.get(f"/testtag/programm/{foreign_id}").status_code == 404
    assert client.get("/testtag/programm/999999").status_code == 404
    assert client.get("/testtag/programm/abc").status_code == 404


def test_event_page_queries_do_not_grow_with_activities(client: FlaskClient, app: Flask) -> None:
    build_programme(app, 60, "gross")
    build_programme(app, 4, "klein")
    client.get("/klein/")  # warm up
    page_cache.forget_all()  # count a first rendering of each page, not its kept copy
    with count_statements(app) as small:
        assert client.get("/klein/").status_code == 200
    with count_statements(app) as big:
        response = client.get("/gross/")
    assert response.status_code == 200
    assert "Workshop 59" in response.get_data(as_text=True)
    assert len(big) == len(small)
    assert len(big) <= 12


def test_event_page_in_english(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        event = make_event(day=date(2026, 6, 10))
        make_activity(event, "Pause", kind=ActivityKind.BREAK)
        db.session.commit()
    client.get("/sprache/en")
    text = client.get("/testtag/").get_data(as_text=True)
    assert '<h2 id="programme-title">Programme</h2>' in text
    assert "Break" in text


def test_event_page_counts_the_days_free_places(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        open_day = make_event("offen", capacity=10, seats_taken=3)
        full_day = make_event("voll", capacity=5, seats_taken=5)
        unlimited = make_event("frei")
        assert (open_day.seats_left, open_day.is_full) == (7, False)
        assert (full_day.seats_left, full_day.is_full) == (0, True)
        assert (unlimited.seats_left, unlimited.is_full) == (None, False)
        db.session.commit()
    assert "Noch 7 Plätze frei." in client.get("/offen/").text
    assert "Ausgebucht – Sie können sich" in client.get("/voll/").text
    assert "Die Veranstaltung ist ausgebucht." in client.get("/voll/anmeldung").text
    page = client.get("/frei/").text
    assert "frei." not in page and "Ausgebucht" not in page


def test_every_page_names_its_icon_and_the_old_place_leads_there(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301 and moved.headers["Location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()
