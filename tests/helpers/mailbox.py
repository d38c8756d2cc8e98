"""The mails the file backend delivered in a test (MAIL_FILE_DIR), parsed."""

from __future__ import annotations

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
