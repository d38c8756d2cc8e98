"""Campaigns (Rundmails): recipients per segment, placeholders, preview, test mail, throttled
sending over real SMTP, nothing sent twice, access control and hostile text."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from eventapp.extensions import db
from eventapp.models import (
    NO_EMAIL_DOMAIN,
    CampaignStatus,
    Enrolment,
    EnrolmentStatus,
    MailCampaign,
    MailStatus,
    Network,
    Organiser,
    OutboxMail,
    ParticipantRole,
    RegistrationStatus,
)
from eventapp.services import DomainError
from eventapp.services.mail import (
    campaign_segments,
    campaign_text,
    campaigns,
    outbox,
)
from eventapp.tasks import sweep
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_organiser, make_registration
from tests.smtp_server import SmtpServer, text_of

QUEUED_ONLY = [{"TASK_QUEUE_IMMEDIATE": False}]


@dataclass
class Day:
    """Ids of a small event with one of every kind of participant."""

    event_id: int
    other_event_id: int
    workshop_id: int
    network_id: int
    people: dict[str, int]


def build_day() -> Day:
    """An event with confirmed, waiting, cancelled, checked-in, press and address-less people."""
    event = make_event()
    other = make_event(slug="anderer-tag", title="Anderer Tag")
    workshop = make_activity(event, "Fachkräfte sichern", capacity=1)
    network = Network(name="Fachkräftenetzwerk Altmark", region="Altmark", state="Sachsen-Anhalt")
    db.session.add(network)
    db.session.flush()
    people = {
        "wolf": make_registration(
            event, "Alex", "Wolf", salutation="Frau", title="Dr.", network_id=network.id
        ),
        "berg": make_registration(event, "Bo", "Berg", salutation="Herr"),
        "dorn": make_registration(event, "Dana", "Dorn", role=ParticipantRole.PRESS),
        "eich": make_registration(event, "Eli", "Eich", status=RegistrationStatus.WAITLISTED),
        "fink": make_registration(event, "Fee", "Fink", status=RegistrationStatus.CANCELLED),
        "gans": make_registration(event, "Gil", "Gans", checked_in_at=utcnow()),
        "walkin": make_registration(event, "Hal", "Horn", email=f"x1{NO_EMAIL_DOMAIN}"),
        "other": make_registration(other, "Ida", "Igel"),
    }
    db.session.add_all(
        [
            Enrolment(
                registration=people["wolf"],
                activity=workshop,
                status=EnrolmentStatus.CONFIRMED,
            ),
            Enrolment(
                registration=people["berg"],
                activity=workshop,
                status=EnrolmentStatus.WAITLISTED,
            ),
        ]
    )
    db.session.flush()
    return Day(
        event.id,
        other.id,
        workshop.id,
        network.id,
        {name: r.id for name, r in people.items()},
    )


@pytest.fixture
def day(app: Flask) -> Day:
    with app.app_context():
        built = build_day()
        db.session.commit()
        return built


def names(day: Day, segment: campaign_segments.Segment) -> set[str]:
    from eventapp.models import Event

    event = db.session.get(Event, day.event_id)
    ids = {r.id for r in campaign_segments.recipients(event, segment)}
    assert campaign_segments.recipient_count(event, segment) == len(ids)
    return {name for name, i in day.people.items() if i in ids}


def test_recipients_of_each_segment(app: Flask, day: Day) -> None:
    segment = campaign_segments.Segment
    with app.app_context():
        assert names(day, segment("confirmed")) == {"wolf", "berg", "dorn", "gans"}
        assert names(day, segment("workshop_confirmed", activity_id=day.workshop_id)) == {"wolf"}
        assert names(day, segment("workshop_waiting", activity_id=day.workshop_id)) == {"berg"}
        assert names(day, segment("waiting")) == {"berg", "eich"}
        assert names(day, segment("not_checked_in")) == {"wolf", "berg", "dorn"}
        assert names(day, segment("network", network_id=day.network_id)) == {"wolf"}
        assert names(day, segment("role", role="press")) == {"dorn"}
        chosen = (day.people["fink"], day.people["walkin"], day.people["dorn"])
        assert names(day, segment("selected", selected=chosen)) == {"fink", "dorn"}


def test_segment_must_fit_the_event(app: Flask, day: Day) -> None:
    from eventapp.models import Event

    with app.app_context():
        event = db.session.get(Event, day.event_id)
        foreign = campaign_segments.Segment("selected", selected=(day.people["other"],))
        with pytest.raises(DomainError, match="gehören nicht zu dieser Veranstaltung"):
            campaign_segments.check_segment(event, foreign)
        with pytest.raises(DomainError) as error:
            campaign_segments.check_segment(
                event, campaign_segments.Segment("workshop_waiting", activity_id=999)
            )
        assert error.value.field == "activity"
        with pytest.raises(DomainError):
            campaign_segments.check_segment(event, campaign_segments.Segment("role", role="king"))


def test_placeholders_are_filled_once_and_unknown_ones_named() -> None:
    values = {"vorname": "{name}", "name": "Wolf"}
    assert campaign_text.fill("Hallo {vorname} {name} {{ x }} {unbekannt}", values) == (
        "Hallo {name} Wolf {{ x }} {unbekannt}"
    )
    errors = campaign_text.check("Hallo {verwaltungslink}", "Text {foo} und {bar} {anrede}")
    assert "nur im Text" in errors["subject"]
    assert "{bar}, {foo}" in errors["body"] and "Unbekannte Platzhalter" in errors["body"]
    assert campaign_text.check("{vorname}", "{anrede}, {workshops} {verwaltungslink}") == {}


def form(day: Day, **overrides: str) -> dict[str, str]:
    data = {
        "segment": "confirmed",
        "activity": str(day.workshop_id),
        "network": "",
        "role": "participant",
        "language": "de",
        "subject": "Hinweise für {vorname} {name}",
        "body": "{anrede},\r\n\r\nIhre Workshops:\r\n{workshops}\r\n\r\nLink: {verwaltungslink}\r\n"
        "<b>fett</b> {{ config }}",
    }
    return data | overrides


def url(day: Day, tail: str = "neu") -> str:
    return f"/organisation/veranstaltungen/{day.event_id}/rundmails/{tail}"


def test_preview_shows_the_mail_of_the_chosen_person(staff_client: FlaskClient, day: Day) -> None:
    data = form(day, aktion="vorschau", vorschau_fuer=str(day.people["wolf"]))
    page = staff_client.post(url(day), data=data).get_data(as_text=True)
    assert "Vorschau für Dr. Alex Wolf" in page
    assert "Sehr geehrte Frau Dr. Wolf," in page
    assert "Fachkräfte sichern: Platz bestätigt" in page
    assert "Hinweise für Alex Wolf" in page
    assert "&lt;b&gt;fett&lt;/b&gt; {{ config }}" in page  # text, neither HTML nor template
    assert "persönlicher Link – wird beim Versand" in page
    # Unknown placeholder: a German message naming it, everything typed kept.
    bad = form(day, aktion="vorschau", body="Hallo {vornahme}, wie geht's?")
    response = staff_client.post(url(day), data=bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Unbekannte Platzhalter: {vornahme}" in page
    assert "Hallo {vornahme}, wie geht&#39;s?" in page and 'value="Hinweise für' in page


def test_subject_with_a_line_break_is_refused(staff_client: FlaskClient, day: Day) -> None:
    data = form(day, aktion="pruefen", subject="Hallo\r\nBcc: alle@example.org")
    response = staff_client.post(url(day), data=data)
    assert response.status_code == 400
    assert "ohne Zeilenumbruch" in response.get_data(as_text=True)


def test_test_mail_goes_to_the_organiser_marked_as_test(
    app: Flask, staff_client: FlaskClient, day: Day, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    data = form(day, aktion="testmail", vorschau_fuer=str(day.people["berg"]))
    response = staff_client.post(url(day), data=data)
    assert response.status_code == 200
    assert "staff@example.org" in response.get_data(as_text=True)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "staff@example.org"
    assert message["Subject"] == "[Testmail] Hinweise für Bo Berg"
    text = text_of(message)
    assert text.startswith("TESTMAIL") and "Sehr geehrter Herr Berg," in text
    assert "/verwalten/" not in text  # no real private link leaves in a test
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MailCampaign.id))) == 0


def confirm_and_send(client: FlaskClient, day: Day, **overrides: str) -> tuple[str, str]:
    """Go through the confirmation step; return the send key and the confirmation page."""
    page = client.post(url(day), data=form(day, aktion="pruefen", **overrides))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = re.search(r'name="send_key" value="([^"]+)"', html)
    assert key is not None
    return key.group(1), html


def test_campaign_is_delivered_once_to_each_recipient_over_smtp(
    app: Flask, client: FlaskClient, staff_client: FlaskClient, day: Day, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config() | {"MAIL_CAMPAIGN_MAILS_PER_MINUTE": 6000})
    key, html = confirm_and_send(staff_client, day)
    assert "4 Personen" in html and "weiteren persönlichen Link" in html
    sent = staff_client.post(url(day), data=form(day, aktion="senden", send_key=key))
    assert sent.status_code == 302
    again = staff_client.post(url(day), data=form(day, aktion="senden", send_key=key))
    assert again.status_code == 302 and again.location == sent.location  # double click
    with app.app_context():
        campaign = db.session.scalar(sa.select(MailCampaign))
        assert campaign.created_by_email == "staff@example.org"
        assert campaign.recipient_count == 4
        # The worker sends what is due (the slots are 10 ms apart here): once the last slot
        # has come, on a slow machine too.
        while utcnow() < campaign.last_slot_at:
            time.sleep(0.01)
        outbox.deliver(app.config)
        mails = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()
        assert {m.campaign_id for m in mails} == {campaign.id}
        assert all(m.status == MailStatus.SENT and m.message == b"" for m in mails)
        assert outbox.deliver(app.config) == {"sent": 0, "retry": 0, "failed": 0}  # no resend
        assert campaigns.mark_finished() == 1
        db.session.commit()
        assert db.session.get(MailCampaign, campaign.id).status == CampaignStatus.SENT
    messages = smtp_server.wait_for(4)
    assert len(smtp_server.wait_for(5, timeout=0.3)) == 4
    by_address = {m["To"]: m for m in messages}
    assert set(by_address) == {
        "alex.wolf@example.org",
        "bo.berg@example.org",
        "dana.dorn@example.org",
        "gil.gans@example.org",
    }
    wolf = by_address["alex.wolf@example.org"]
    assert wolf["Subject"] == "Hinweise für Alex Wolf"
    assert not wolf.is_multipart()  # plain text only
    text = text_of(wolf)
    assert text.startswith("Sehr geehrte Frau Dr. Wolf,")
    assert "<b>fett</b> {{ config }}" in text
    link = re.search(r"Link: http://127\.0\.0\.1:5000(/testtag/verwalten/\S+)", text)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200  # the new private link works
    page = staff_client.get(sent.location).get_data(as_text=True)
    assert "4 von 4 gesendet" in page and "staff@example.org" in page
    listing = staff_client.get(url(day, "")).get_data(as_text=True)
    assert "4 von 4 gesendet" in listing


def test_one_mail_per_person_and_campaign_is_a_constraint(app: Flask, day: Day) -> None:
    from eventapp.models import Event, Registration

    with app.app_context():
        event = db.session.get(Event, day.event_id)
        organiser = make_organiser("o@example.org", "password-123")
        draft = campaigns.Draft("Hallo", "{anrede},\nText")
        segment = campaign_segments.Segment("role", role="press")
        campaign = campaigns.send(event, segment, draft, organiser, campaigns.new_send_key())
        db.session.commit()
        person = db.session.get(Registration, day.people["dorn"])
        with pytest.raises(IntegrityError):
            outbox.queue_for_rendering(
                person.email, "x", {}, kind="campaign", registration=person, campaign_id=campaign.id
            )
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_worker_keeps_the_pace_across_campaigns_and_outages(
    app: Flask, day: Day, smtp_server: SmtpServer
) -> None:
    from eventapp.models import Event

    app.config.update(smtp_server.config() | {"MAIL_CAMPAIGN_MAILS_PER_MINUTE": 2})
    with app.app_context():
        event = db.session.get(Event, day.event_id)
        organiser = db.session.merge(make_organiser("o@example.org", "password-123"))
        draft = campaigns.Draft("Hallo {vorname}", "{anrede},\nbis bald")
        first = campaigns.send(
            event,
            campaign_segments.Segment("confirmed"),
            draft,
            organiser,
            campaigns.new_send_key(),
        )
        second = campaigns.send(
            event, campaign_segments.Segment("waiting"), draft, organiser, campaigns.new_send_key()
        )
        db.session.commit()
        slots = db.session.scalars(
            sa.select(OutboxMail.next_attempt_at).order_by(OutboxMail.next_attempt_at)
        ).all()
        assert len(slots) == 6
        # Two campaigns share one schedule: 30 s apart, the second after the first.
        assert all(b - a == timedelta(seconds=30) for a, b in itertools.pairwise(slots))
        assert first.last_slot_at < second.last_slot_at
        assert max(sum(1 for s in slots if start <= s < start + timedelta(minutes=1))
                   for start in slots) == 2  # fmt: skip
        assert outbox.deliver(app.config)["sent"] == 1  # only the first slot is due now

        def minutes_pass(minutes: int) -> None:
            """Move every waiting slot back, as if the minutes had passed."""
            back = timedelta(minutes=minutes)
            for mail in db.session.scalars(
                sa.select(OutboxMail).where(OutboxMail.status == MailStatus.PENDING)
            ):
                mail.next_attempt_at -= back
            for campaign in db.session.scalars(sa.select(MailCampaign)):
                campaign.last_slot_at -= back
            db.session.commit()

        def count(status: MailStatus) -> int:
            query = sa.select(sa.func.count(OutboxMail.id)).where(OutboxMail.status == status)
            return db.session.scalar(query)

        minutes_pass(1)
        assert outbox.deliver(app.config)["sent"] == 2
        # The worker was down for an hour: its sweep gives the missed mails new slots instead
        # of sending them in one burst, then sends what is due.
        minutes_pass(60)
        missed = db.session.scalars(
            sa.select(OutboxMail).where(OutboxMail.status == MailStatus.PENDING)
        ).all()
        assert len(missed) == 3
        sweep()
        assert count(MailStatus.SENT) == 4
        minutes_pass(1)
        sweep()
        assert count(MailStatus.SENT) == 6
        statuses = db.session.scalars(sa.select(MailCampaign.status)).all()
        assert statuses == [CampaignStatus.SENT, CampaignStatus.SENT]
    assert len(smtp_server.wait_for(6)) == 6


def test_bulk_selection_opens_the_form_and_survives_the_steps(
    app: Flask, staff_client: FlaskClient, day: Day
) -> None:
    chosen = [str(day.people["wolf"]), str(day.people["eich"])]
    page = staff_client.post(url(day), data={"auswahl": chosen}).get_data(as_text=True)
    assert "Ausgewählte Anmeldungen" in page
    assert re.search(r'value="selected"[^>]*checked|checked[^>]*value="selected"', page)
    assert page.count('name="auswahl"') == 2
    key, html = confirm_and_send(staff_client, day, segment="selected", auswahl=chosen)
    assert "2 Personen" in html and html.count('name="auswahl"') == 2
    data = form(day, aktion="senden", segment="selected", send_key=key) | {"auswahl": chosen}
    assert staff_client.post(url(day), data=data).status_code == 302
    with app.app_context():
        mails = db.session.scalars(sa.select(OutboxMail.registration_id)).all()
        assert sorted(mails) == sorted(int(i) for i in chosen)
    # Someone of another event smuggled in: refused with a message, nothing sent.
    foreign = [*chosen, str(day.people["other"])]
    bad = form(day, aktion="pruefen", segment="selected") | {"auswahl": foreign}
    response = staff_client.post(url(day), data=bad)
    assert response.status_code == 400
    assert "gehören nicht zu dieser Veranstaltung" in response.get_data(as_text=True)


def test_campaign_pages_need_staff_and_the_right_event(
    app: Flask, client: FlaskClient, day: Day
) -> None:
    assert client.get(url(day, "")).status_code == 302  # to the login
    assert client.post(url(day), data=form(day, aktion="pruefen")).status_code == 302
    with app.app_context():
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        organiser = make_organiser("o@example.org", "password-123")
        event_id = day.event_id
        from eventapp.models import Event

        campaign = campaigns.send(
            db.session.get(Event, event_id),
            campaign_segments.Segment("role", role="press"),
            campaigns.Draft("Hallo", "Text"),
            db.session.get(Organiser, organiser.id),
            campaigns.new_send_key(),
        )
        db.session.commit()
        campaign_id = campaign.id
    client.post(
        "/organisation/anmelden", data={"email": "desk@example.org", "password": "desk-password-1"}
    )
    assert client.get(url(day, "")).status_code == 403
    client.post("/organisation/abmelden")
    client.post(
        "/organisation/anmelden", data={"email": "o@example.org", "password": "password-123"}
    )
    assert client.get(url(day, str(campaign_id))).status_code == 200
    other = f"/organisation/veranstaltungen/{day.other_event_id}/rundmails/{campaign_id}"
    assert client.get(other).status_code == 404
    # Hostile form values: never a 500.
    for data in (
        form(day, aktion="senden", send_key="kurz"),
        form(day, aktion="vorschau", segment="alle-welt"),
        form(day, aktion="vorschau", segment="network", network="x' OR 1=1"),
        form(day, aktion="vorschau", vorschau_fuer="-1", subject="x" * 500),
        {"aktion": "vorschau", "auswahl": ["1", "abc", "99999999999"]},
    ):
        assert client.post(url(day), data=data).status_code == 400, data


def test_sent_at_is_an_aware_time(app: Flask, day: Day) -> None:
    from eventapp.models import Event

    with app.app_context():
        organiser = make_organiser("o@example.org", "password-123")
        campaign = campaigns.send(
            db.session.get(Event, day.event_id),
            campaign_segments.Segment("confirmed"),
            campaigns.Draft("Hallo", "Text"),
            organiser,
            campaigns.new_send_key(),
        )
        db.session.commit()
        assert campaign.sent_at is not None and campaign.sent_at.tzinfo is not None
        assert campaign.sent_at <= datetime.now(UTC)


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_undelivered_campaign_mail_names_who_sent_the_campaign(
    app: Flask, staff_client: FlaskClient, day: Day
) -> None:
    from eventapp.models import Event
    from tests.smtp_server import free_port

    app.config.update({"MAIL_BACKEND": "smtp", "MAIL_PORT": free_port(), "MAIL_MAX_ATTEMPTS": 1})
    with app.app_context():
        organiser = db.session.scalar(sa.select(Organiser))
        campaigns.send(
            db.session.get(Event, day.event_id),
            campaign_segments.Segment("role", role="press"),
            campaigns.Draft("Presseinfo", "{anrede},\nText"),
            organiser,
            campaigns.new_send_key(),
        )
        db.session.commit()
        assert outbox.deliver(app.config)["failed"] == 1
    page = staff_client.get("/organisation/e-mails/").get_data(as_text=True)
    assert "Presseinfo" in page and "Rundmail von staff@example.org" in page
    listing = staff_client.get(url(day, "")).get_data(as_text=True)
    assert "0 von 1 gesendet, 1 fehlgeschlagen" in listing
