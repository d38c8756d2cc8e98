"""Outbox delivery: real SMTP on loopback, SMTP down, retries, interrupted sends, the commands."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, template_rendered
from flask.testing import FlaskClient, FlaskCliRunner

from eventapp.extensions import db, task_queue
from eventapp.models import MailCampaign, MailStatus, OutboxMail
from eventapp.services.mail import outbox
from eventapp.services.mail.outbox import queue_mail
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event, make_organiser
from tests.helpers.mailbox import delivered, manage_path
from tests.helpers.participants import form_data
from tests.helpers.statements import count_statements
from tests.smtp_server import SmtpServer, free_port, text_of

# The queue keeps tasks for a worker that these tests do not start: delivery is called by hand.
QUEUED_ONLY = [{"TASK_QUEUE_IMMEDIATE": False}]


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_queue_mail_then_deliver_over_smtp(ctx: Flask, smtp_server: SmtpServer) -> None:
    ctx.config.update(smtp_server.config())
    queue_mail(
        "anna@example.org",
        "Grüße aus Berlin",
        "Hallo Anna, schöne Grüße – äöüß",
        html="<p>Hallo Anna</p>",
        attachments=[("plan.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")],
        kind="test",
    )
    db.session.commit()
    assert smtp_server.wait_for(1, timeout=0.3) == []  # queued, not sent by the request
    assert task_queue.bound().huey.pending_count() == 1  # one task for the worker
    assert outbox.deliver(ctx.config) == {"sent": 1, "retry": 0, "failed": 0}
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "Grüße aus Berlin"
    assert "äöüß" in text_of(message)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["plan.ics"]
    mail = db.session.scalar(sa.select(OutboxMail))
    assert mail.status == MailStatus.SENT and mail.sent_at is not None
    assert mail.message == b"" and mail.delivery_started_at is None


def test_registration_mail_is_delivered_by_the_task_after_commit(
    app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    with app.app_context():
        make_event()
        db.session.commit()
    response = client.post("/testtag/anmeldung", data=form_data(network=""))
    assert response.status_code == 302
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "erika@example.org"
    assert "/testtag/verwalten/" in text_of(message)


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_registration_request_renders_no_mail(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_event()
        db.session.commit()
    rendered: list[str] = []

    def note(sender: Flask, template: Any, context: dict, **extra: Any) -> None:
        rendered.append(template.name)

    with template_rendered.connected_to(note, app):
        response = client.post("/testtag/anmeldung", data=form_data(network=""))
        assert response.status_code == 302
        client.get(response.headers["Location"])
    assert rendered and not [name for name in rendered if name.startswith("email/")]
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.message == b"" and mail.render_data is not None  # rendered by the worker
        queued = json.dumps(mail.render_data)
        assert task_queue.bound().huey.pending_count() == 1
    # The worker's task renders and sends it.
    with template_rendered.connected_to(note, app), app.app_context():
        task = task_queue.bound().huey.dequeue()
        task_queue.bound().huey.execute(task)
    assert "email/registration_confirmed.txt" in rendered
    (message,) = delivered(app)
    token = manage_path(message).rsplit("/", 1)[1]
    assert len(token) >= 22 and token not in queued  # the private link travels sealed
    with app.app_context():  # once sent, the outbox keeps neither text nor link
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.status == MailStatus.SENT and mail.message == b"" and mail.render_data is None


def test_link_sent_again_on_a_second_registration_is_delivered(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        make_event()
        db.session.commit()
    assert client.post("/testtag/anmeldung", data=form_data(network="")).status_code == 302
    again = client.post("/testtag/anmeldung", data=form_data(network=""))
    assert again.status_code == 302
    subjects = [message["Subject"] for message in delivered(app)]
    assert len(subjects) == 2 and "Sie sind bereits angemeldet" in subjects[1]
    with app.app_context():
        statuses = db.session.scalars(sa.select(OutboxMail.status)).all()
        assert statuses == [MailStatus.SENT, MailStatus.SENT]


@pytest.mark.parametrize("app_config", [{"MAIL_RETRY_DELAY": 30}])
def test_smtp_down_registration_succeeds_and_mail_waits(app: Flask, client: FlaskClient) -> None:
    port = free_port()
    app.config.update({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port})
    with app.app_context():
        event = make_event()
        make_activity(event, capacity=3)
        db.session.commit()
    response = client.post("/testtag/anmeldung", data=form_data(network=""))
    assert response.status_code == 302  # the first attempt failed: the registration stands
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.status == MailStatus.PENDING
        assert mail.attempts == 1 and "ConnectionRefused" in mail.last_error
        assert mail.next_attempt_at > utcnow() + timedelta(seconds=25)
        assert mail.delivery_started_at is None
        assert outbox.deliver(app.config)["sent"] == 0  # nothing is due before the pause ends
        mail.next_attempt_at = utcnow() - timedelta(seconds=1)  # the pause has passed
        db.session.commit()

    server = SmtpServer(port)
    server.start()
    try:
        result = app.test_cli_runner().invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        assert "sent 1" in result.output
        (message,) = server.wait_for(1)
        assert message["To"] == "erika@example.org"
    finally:
        server.stop()
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMail.status)) == MailStatus.SENT


def test_retry_pauses_grow_up_to_an_hour(ctx: Flask) -> None:
    ctx.config["MAIL_RETRY_DELAY"] = 30
    pauses = [outbox.retry_delay(ctx.config, n).total_seconds() for n in range(1, 7)]
    assert pauses == [30, 120, 480, 1920, 3600, 3600]


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_mail_marked_failed_after_max_attempts_and_sent_again_by_an_organiser(
    app: Flask, admin_client: FlaskClient, smtp_server: SmtpServer
) -> None:
    down = {"MAIL_BACKEND": "smtp", "MAIL_PORT": free_port(), "MAIL_MAX_ATTEMPTS": 2}
    app.config.update(down)
    with app.app_context():
        queue_mail("x@example.org", "Test", "Text", kind="test")
        db.session.commit()
        for _ in range(2):
            db.session.execute(sa.update(OutboxMail).values(next_attempt_at=utcnow()))
            db.session.commit()
            outbox.deliver(app.config)
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.status == MailStatus.FAILED and mail.attempts == 2
    page = admin_client.get("/organisation/e-mails/")
    assert page.status_code == 200
    assert "x@example.org" in page.text and "ConnectionRefused" in page.text
    app.config.update(smtp_server.config())
    response = admin_client.post(f"/organisation/e-mails/{mail.id}/erneut-senden")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMail.status)) == MailStatus.PENDING
        outbox.deliver(app.config)
    assert len(smtp_server.wait_for(1)) == 1
    assert "Keine E-Mail ist fehlgeschlagen" in admin_client.get("/organisation/e-mails/").text


def test_mail_page_needs_an_organiser(client: FlaskClient, app: Flask) -> None:
    assert client.get("/organisation/e-mails/").status_code == 302
    with app.app_context():
        make_organiser("desk@example.org", "desk-password-1", role="checkin")
        db.session.commit()
    client.post(
        "/organisation/anmelden", data={"email": "desk@example.org", "password": "desk-password-1"}
    )
    assert client.get("/organisation/e-mails/").status_code == 403


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_interrupted_delivery_is_never_sent_again_on_its_own(
    ctx: Flask, smtp_server: SmtpServer
) -> None:
    ctx.config.update(smtp_server.config())
    mail = queue_mail("y@example.org", "Vielleicht", "Text")
    db.session.commit()
    # A worker marked it, handed it to the server and died before recording the outcome.
    mail.delivery_started_at = utcnow() - outbox.CLAIM_LEASE - timedelta(seconds=1)
    db.session.commit()
    assert outbox.deliver(ctx.config) == {"sent": 0, "retry": 0, "failed": 0}
    db.session.expire_all()
    assert mail.status == MailStatus.FAILED and "may have been delivered" in mail.last_error
    assert smtp_server.wait_for(1, timeout=0.3) == []


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_delivery_under_way_is_not_taken_by_another_worker(
    ctx: Flask, smtp_server: SmtpServer
) -> None:
    ctx.config.update(smtp_server.config())
    mail = queue_mail("z@example.org", "Gerade", "Text")
    db.session.commit()
    mail.delivery_started_at = utcnow()  # another worker is sending it right now
    db.session.commit()
    assert outbox.deliver(ctx.config) == {"sent": 0, "retry": 0, "failed": 0}
    db.session.expire_all()
    assert mail.status == MailStatus.PENDING


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_file_backend_writes_eml(ctx: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    folder = tmp_path / "post"
    ctx.config["MAIL_FILE_DIR"] = str(folder)
    queue_mail("y@example.org", "Dateipost", "Inhalt")
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "sent 1" in result.output
    (eml,) = folder.glob("*.eml")
    assert b"Dateipost" in eml.read_bytes()


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_send_mail_goes_on_in_rounds_until_nothing_is_due(
    ctx: Flask, runner: FlaskCliRunner, tmp_path
) -> None:
    folder = tmp_path / "post"
    ctx.config["MAIL_FILE_DIR"] = str(folder)
    for n in range(7):
        queue_mail(f"p{n}@example.org", f"Runde {n}", "Inhalt")
    db.session.commit()
    result = runner.invoke(args=["send-mail", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert len(list(folder.glob("*.eml"))) == 7
    assert result.output.startswith("sent 7,") and "still pending 0" in result.output


def make_campaign() -> MailCampaign:
    """Return a committed Rundmail of a new event (its mails go at the campaign's pace)."""
    event = make_event()
    campaign = MailCampaign(
        event_id=event.id,
        created_by_email="o@example.org",
        subject="Rundmail",
        body="Text",
        send_key="k" * 64,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False, "MAIL_ROUND_WAIT_MS": 0}])
def test_a_mail_task_takes_along_other_due_mails_but_not_campaign_mails(
    ctx: Flask, tmp_path
) -> None:
    ctx.config["MAIL_FILE_DIR"] = str(tmp_path / "post")
    campaign = make_campaign()
    for n in range(3):  # three commits, three tasks
        queue_mail(f"p{n}@example.org", f"Anmeldung {n}", "Inhalt")
        db.session.commit()
    paced = queue_mail("c@example.org", "Rundmail", "Text")
    paced.campaign_id = campaign.id
    db.session.commit()
    huey = task_queue.bound().huey
    assert huey.pending_count() == 4
    huey.execute(huey.dequeue())  # the first mail's task sends the others due with it
    assert sorted(m["To"] for m in delivered(ctx)) == [f"p{n}@example.org" for n in range(3)]
    while (task := huey.dequeue()) is not None:
        huey.execute(task)  # the others find their mails sent; the campaign's mail goes alone
    recipients = sorted(m["To"] for m in delivered(ctx))
    assert recipients == ["c@example.org"] + [f"p{n}@example.org" for n in range(3)]


@pytest.mark.parametrize(
    "app_config", [{"TASK_QUEUE_IMMEDIATE": False, "MAIL_ROUND_WAIT_MS": 1500}]
)
def test_a_mail_task_waits_for_the_mails_of_commits_close_behind(ctx: Flask, tmp_path) -> None:
    ctx.config["MAIL_FILE_DIR"] = str(tmp_path / "post")
    huey = task_queue.bound().huey
    queue_mail("erste@example.org", "Eins", "Text")
    db.session.commit()
    worker = threading.Thread(target=huey.execute, args=(huey.dequeue(),))
    worker.start()  # the first mail's task waits …
    time.sleep(0.3)
    for n in range(2):  # … while two more commits come in
        queue_mail(f"p{n}@example.org", "Dahinter", "Text")
        db.session.commit()
    assert delivered(ctx) == []
    worker.join(timeout=10)
    assert len(delivered(ctx)) == 3  # all in the first task's round
    while (task := huey.dequeue()) is not None:
        huey.execute(task)  # the later tasks find their mails sent
    assert len(delivered(ctx)) == 3


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_mail_whose_lease_ran_out_is_left_to_the_worker_that_took_it(
    ctx: Flask, smtp_server: SmtpServer
) -> None:
    ctx.config.update(smtp_server.config())
    mail = queue_mail("z@example.org", "Einmal", "Nur einmal")
    db.session.commit()
    # A worker leases the mail and stalls (a slow server) until the lease has run out …
    stalled = outbox._outgoing(outbox._claim(10, None))
    mail.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    # … so another worker takes it and sends it; the first one then leaves it alone.
    assert outbox.deliver(ctx.config) == {"sent": 1, "retry": 0, "failed": 0}
    assert outbox._send_claimed(ctx.config, stalled) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1
    db.session.expire_all()
    assert mail.status == MailStatus.SENT and mail.attempts == 1


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_delivered_mail_is_not_sent_twice(ctx: Flask, smtp_server: SmtpServer) -> None:
    ctx.config.update(smtp_server.config())
    queue_mail("z@example.org", "Einmal", "Nur einmal")
    db.session.commit()
    outbox.deliver(ctx.config)
    outbox.deliver(ctx.config)
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1


def test_confirmation_mail_reads_well_without_a_venue(
    app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    with app.app_context():
        make_event(venue="", address="")
        db.session.commit()
    response = client.post("/testtag/anmeldung", data=form_data(network=""))
    assert response.status_code == 302
    (message,) = smtp_server.wait_for(1)
    text = text_of(message)
    assert "Ihre Teilnahme ist bestätigt" in text
    assert " in ." not in text


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_mail_not_delivered_gets_a_task_for_its_next_attempt(ctx: Flask) -> None:
    ctx.config.update({"MAIL_BACKEND": "smtp", "MAIL_PORT": free_port()})
    mail = queue_mail("w@example.org", "Später", "Text")
    db.session.commit()
    huey = task_queue.bound().huey
    huey.flush()  # the task of the commit: delivery is called by hand here
    assert outbox.deliver(ctx.config) == {"sent": 0, "retry": 1, "failed": 0}
    db.session.expire_all()
    (task,) = huey.pending()  # with its time: the worker holds it back until then
    assert task.name == "deliver_mail" and task.args == ([mail.id],)
    assert task.eta.replace(tzinfo=UTC) == mail.next_attempt_at


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False, "MAIL_ROUND_WAIT_MS": 0}])
def test_tasks_of_mails_a_round_here_took_end_without_a_query(ctx: Flask, tmp_path) -> None:
    ctx.config["MAIL_FILE_DIR"] = str(tmp_path / "post")
    for n in range(3):  # three commits, three tasks
        queue_mail(f"p{n}@example.org", f"Anmeldung {n}", "Inhalt")
        db.session.commit()
    huey = task_queue.bound().huey
    huey.execute(huey.dequeue())  # the first task's round sends all three
    with count_statements(ctx) as statements:
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
    assert statements == []
    assert len(delivered(ctx)) == 3


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_failed_mail_sent_again_is_delivered_by_its_task(
    ctx: Flask, smtp_server: SmtpServer
) -> None:
    ctx.config.update({"MAIL_BACKEND": "smtp", "MAIL_PORT": free_port(), "MAIL_MAX_ATTEMPTS": 1})
    mail = queue_mail("v@example.org", "Nochmal", "Text")
    db.session.commit()
    huey = task_queue.bound().huey
    huey.execute(huey.dequeue())  # this process takes the mail; the server is down
    db.session.expire_all()
    assert mail.status == MailStatus.FAILED
    ctx.config.update(smtp_server.config())
    outbox.send_again(mail)  # an organiser's decision, as on the mail page
    db.session.commit()
    huey.execute(huey.dequeue())
    assert len(smtp_server.wait_for(1)) == 1
    db.session.expire_all()
    assert mail.status == MailStatus.SENT


@pytest.mark.parametrize("app_config", QUEUED_ONLY)
def test_rendered_mail_that_waits_is_tried_again_as_it_was(app: Flask, client: FlaskClient) -> None:
    down = free_port()
    app.config.update({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": down})
    with app.app_context():
        make_event()
        db.session.commit()
    assert client.post("/testtag/anmeldung", data=form_data(network="")).status_code == 302
    with app.app_context():
        assert outbox.deliver(app.config)["retry"] == 1
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.render_data is None and b"Message-ID: " in mail.message  # kept as tried
        tried = mail.message
        mail.next_attempt_at = utcnow()
        db.session.commit()
    server = SmtpServer(down)
    server.start()
    try:
        with app.app_context():
            assert outbox.deliver(app.config)["sent"] == 1
        (message,) = server.wait_for(1)
    finally:
        server.stop()
    assert message["Message-ID"] in tried.decode()


@pytest.mark.parametrize("app_config", [{"TASK_QUEUE_IMMEDIATE": False, "MAIL_ROUND_WAIT_MS": 0}])
def test_a_mail_task_takes_along_up_to_a_hundred_due_mails(ctx: Flask, tmp_path) -> None:
    ctx.config["MAIL_FILE_DIR"] = str(tmp_path / "post")
    for first, count in ((0, 1), (1, 100)):  # two commits, two tasks
        for n in range(first, first + count):
            queue_mail(f"p{n}@example.org", "Anmeldung", "Inhalt")
        db.session.commit()
    huey = task_queue.bound().huey
    huey.execute(huey.dequeue())  # the first commit's task: its mail and 99 of those behind
    assert len(delivered(ctx)) == 100
    huey.execute(huey.dequeue())  # the second one's: the last of its mails
    assert len(delivered(ctx)) == 101


@pytest.mark.parametrize(
    "app_config", [{"TASK_QUEUE_IMMEDIATE": False, "MAIL_ROUND_WAIT_MS": 1500}]
)
def test_tasks_that_come_while_a_round_waits_hand_their_mails_to_it(ctx: Flask, tmp_path) -> None:
    ctx.config["MAIL_FILE_DIR"] = str(tmp_path / "post")
    campaign = make_campaign()
    huey = task_queue.bound().huey
    queue_mail("erste@example.org", "Eins", "Text")
    db.session.commit()
    with count_statements(ctx) as statements:
        waiting = threading.Thread(target=huey.execute, args=(huey.dequeue(),))
        waiting.start()  # the first mail's task waits before its round …
        time.sleep(0.3)
        paced = queue_mail("rund@example.org", "Rundmail", "Text")
        paced.campaign_id = campaign.id  # a round takes campaign mails only when handed them
        db.session.commit()
        queue_mail("zweite@example.org", "Zwei", "Text")
        db.session.commit()
        while (task := huey.dequeue()) is not None:
            huey.execute(task)  # … the tasks behind it hand their mails over and end
        assert delivered(ctx) == []
        waiting.join(timeout=10)
    recipients = sorted(m["To"] for m in delivered(ctx))
    assert recipients == ["erste@example.org", "rund@example.org", "zweite@example.org"]
    leases = [s for s in statements if s.startswith("UPDATE outbox_mail SET next_attempt_at")]
    assert len(leases) == 1  # one round for all three
