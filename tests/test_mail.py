"""Outbox delivery: real SMTP on loopback, SMTP down, retries, files, the send-mail command."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from eventapp.extensions import db
from eventapp.models import MailStatus, OutboxMail
from eventapp.services.mail.outbox import deliver_pending, queue_mail
from eventapp.timezones import utcnow
from tests.factories import make_activity, make_event
from tests.helpers.participants import form_data
from tests.smtp_server import SmtpServer, free_port, text_of


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
    assert deliver_pending(ctx.config) == {"sent": 1, "retry": 0, "failed": 0}
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "Grüße aus Berlin"
    assert "äöüß" in text_of(message)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["plan.ics"]
    mail = db.session.scalar(sa.select(OutboxMail))
    assert mail.status == MailStatus.SENT and mail.sent_at is not None


def test_registration_mail_sent_right_after_request(
    app: Flask, client: FlaskClient, smtp_server: SmtpServer
) -> None:
    app.config.update(smtp_server.config())
    with app.app_context():
        make_event()
        db.session.commit()
    response = client.post("/testtag/anmeldung", data=form_data(network=""))
    assert response.status_code == 302
    response.close()
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "erika@example.org"
    assert "/testtag/verwalten/" in text_of(message)


def test_smtp_down_registration_succeeds_and_mail_waits(app: Flask, client: FlaskClient) -> None:
    port = free_port()
    app.config.update({"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port})
    app.config["MAIL_SEND_AFTER_COMMIT"] = False  # attempts below run in this thread, in order
    with app.app_context():
        event = make_event()
        make_activity(event, capacity=3)
        db.session.commit()
    response = client.post("/testtag/anmeldung", data=form_data(network=""))
    assert response.status_code == 302
    response.close()
    with app.app_context():
        deliver_pending(app.config)  # SMTP still down: a failed attempt, not lost
        mail = db.session.scalar(sa.select(OutboxMail))
        assert mail.status == MailStatus.PENDING
        assert mail.attempts >= 1 and mail.last_error
        assert mail.next_attempt_at > utcnow()
        # Nothing is due before the pause is over.
        assert deliver_pending(app.config)["sent"] == 0
        mail.next_attempt_at = utcnow() - timedelta(seconds=1)  # the pause has passed
        db.session.commit()

    server = SmtpServer(port)
    server.start()
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        assert "sent 1" in result.output
        (message,) = server.wait_for(1)
        assert message["To"] == "erika@example.org"
    finally:
        server.stop()
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMail.status)) == MailStatus.SENT


def test_mail_marked_failed_after_max_attempts(ctx: Flask) -> None:
    ctx.config.update({"MAIL_BACKEND": "smtp", "MAIL_PORT": free_port(), "MAIL_MAX_ATTEMPTS": 2})
    queue_mail("x@example.org", "Test", "Text")
    db.session.commit()
    for _ in range(2):
        db.session.execute(sa.update(OutboxMail).values(next_attempt_at=utcnow()))
        db.session.commit()
        deliver_pending(ctx.config)
    assert db.session.scalar(sa.select(OutboxMail.status)) == MailStatus.FAILED


def test_file_backend_writes_eml(ctx: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    folder = tmp_path / "post"
    ctx.config["MAIL_FILE_DIR"] = str(folder)
    queue_mail("y@example.org", "Dateipost", "Inhalt")
    db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "sent 1" in result.output
    (eml,) = folder.glob("*.eml")
    assert b"Dateipost" in eml.read_bytes()


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
    assert [line.split(",")[0] for line in result.output.splitlines()] == [
        "sent 3", "sent 3", "sent 1"
    ]  # fmt: skip


def test_delivered_mail_is_not_sent_twice(ctx: Flask, smtp_server: SmtpServer) -> None:
    ctx.config.update(smtp_server.config())
    queue_mail("z@example.org", "Einmal", "Nur einmal")
    db.session.commit()
    deliver_pending(ctx.config)
    deliver_pending(ctx.config)
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
    response.close()
    (message,) = smtp_server.wait_for(1)
    text = text_of(message)
    assert "Ihre Teilnahme ist bestätigt" in text
    assert " in ." not in text
