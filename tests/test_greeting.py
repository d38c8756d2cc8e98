"""The greeting of participant mails: chosen Anrede, title and names, German and English."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from eventapp.extensions import db
from eventapp.services.mail.greeting import greeting
from tests.factories import make_event
from tests.helpers.participants import form_data
from tests.smtp_server import SmtpServer, text_of


@pytest.mark.parametrize(
    ("salutation", "title", "first", "last", "language", "expected"),
    [
        ("Frau", "Dr.", "Alex", "Wolf", "de", "Sehr geehrte Frau Dr. Wolf"),
        ("Herr", "", "Alex", "Wolf", "de", "Sehr geehrter Herr Wolf"),
        ("Herr", "Prof. Dr.", "Alex", "Wolf", "de", "Sehr geehrter Herr Prof. Dr. Wolf"),
        ("", "", "Alex", "Wolf", "de", "Guten Tag Alex Wolf"),
        ("", "Dr.", "Alex", "Wolf", "de", "Guten Tag Dr. Alex Wolf"),
        ("divers", "", "Alex", "Wolf", "de", "Guten Tag Alex Wolf"),
        ("Frau", "", "Alex", "", "de", "Guten Tag Alex"),
        ("", "", "", "", "de", "Sehr geehrte Damen und Herren"),
        ("Frau", "", "Alex", "Wolf", "en", "Dear Ms Wolf"),
        ("Herr", "", "Alex", "Wolf", "en", "Dear Mr Wolf"),
        ("Frau", "Dr.", "Alex", "Wolf", "en", "Dear Dr. Wolf"),
        ("", "", "Alex", "Wolf", "en", "Dear Alex Wolf"),
        (" frau ", " Dr. ", "Alex", "  Wolf  ", "de", "Sehr geehrte Frau Dr. Wolf"),
    ],
)
def test_greeting_forms(
    salutation: str, title: str, first: str, last: str, language: str, expected: str
) -> None:
    assert greeting(salutation, title, first, last, language) == expected


@pytest.mark.parametrize(
    ("language", "salutation", "expected"),
    [("de", "Frau", "Sehr geehrte Frau Dr. Mustermann,"), ("en", "Herr", "Dear Dr. Mustermann,")],
)
def test_confirmation_mail_greets_with_the_chosen_salutation(
    app: Flask,
    client: FlaskClient,
    smtp_server: SmtpServer,
    language: str,
    salutation: str,
    expected: str,
) -> None:
    app.config.update(smtp_server.config())
    with app.app_context():
        make_event()
        db.session.commit()
    data = form_data(network="") | {"salutation": salutation, "title": "Dr.", "language": language}
    assert client.post("/testtag/anmeldung", data=data).status_code == 302
    (message,) = smtp_server.wait_for(1)
    assert text_of(message).lstrip().startswith(expected)
