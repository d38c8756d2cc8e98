"""The mails the file backend delivered in a test (MAIL_FILE_DIR), parsed."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from flask import Flask


def delivered(app: Flask) -> list[EmailMessage]:
    """Return the messages delivered as .eml files so far, oldest first."""
    folder = Path(app.config["MAIL_FILE_DIR"])
    return [
        message_from_bytes(eml.read_bytes(), policy=default)  # type: ignore[misc]
        for eml in sorted(folder.glob("*.eml"))
    ]


def plain_text(message: EmailMessage) -> str:
    """Return a message's plain-text body."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def manage_path(message: EmailMessage) -> str:
    """Return the private manage link a mail carries, as a path (/<event>/verwalten/<token>)."""
    found = re.search(r"https?://[^/\s]+(/\S+/verwalten/\S+)", plain_text(message))
    assert found is not None, plain_text(message)
    return found.group(1)


def mails_to(app: Flask, address: str) -> list[EmailMessage]:
    """Return the delivered messages to one address, oldest first."""
    return [message for message in delivered(app) if message["To"] == address]


# The single-use password link of an invitation or reset, under the tests' PUBLIC_BASE_URL.
PASSWORD_LINK = re.compile(r"http://127\.0\.0\.1:5000(/organisation/passwort/[A-Za-z0-9_-]+)")


def password_path(text: str) -> str:
    """Return the path of the password link a mail carries."""
    found = PASSWORD_LINK.search(text)
    assert found is not None, text
    return found.group(1)
