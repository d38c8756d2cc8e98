"""Mail messages as bytes on the wire: the email package's header lines, joined without its tree.

Every header line and every part's header block is written by the email package (classic MIME,
compat32, CRLF line ends); most repeat from mail to mail (sender, subject, the part types, an
attachment's name) and are written once. What varies (the addressee, the date, the message id,
the boundaries, the base64 bodies) is joined here exactly as the package's generator joins it,
so the bytes are those of `MIMEMultipart(...).as_bytes()` without building and walking a tree
of message objects for every mail.
"""

from __future__ import annotations

import base64
import re
import secrets
import sys
from collections.abc import Sequence
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache
from typing import Any

from eventapp.plain_text import printable

# An attachment: file name, content type (with parameters, e.g. "text/calendar; method=PUBLISH")
# and the bytes.
Attachment = tuple[str, str, bytes]


class _WirePolicy(type(compat32)):
    """Classic MIME with CRLF line ends, folding each distinct header once.

    Most header lines (sender, subject, part types) repeat in every mail of a kind, and folding
    is the costliest step of writing a header; the lines written are the same as compat32's.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, str):
            return _folded(name, value)
        return super().fold_binary(name, value)


# How messages are written: classic MIME, CRLF line ends as on the wire.
WIRE = _WirePolicy(linesep="\r\n")
_UNCACHED_WIRE = compat32.clone(linesep="\r\n")
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
_CRLF = b"\r\n"


# A header value compat32 writes unchanged when its line is short: printable ASCII, no spaces.
_UNBROKEN = re.compile(r"[!-~]*")


def _line(name: str, value: str) -> bytes:
    """Return one header as compat32 writes it, without folding a short plain value."""
    if len(name) + len(value) <= 76 and _UNBROKEN.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    return _UNCACHED_WIRE.fold_binary(name, value)


@lru_cache(maxsize=1024)
def _folded(name: str, value: str) -> bytes:
    """Return one header as compat32 writes it on the wire (folded, encoded, CRLF-ended)."""
    return _UNCACHED_WIRE.fold_binary(name, value)


def _boundary() -> str:
    """Return a random multipart boundary of the form the email package writes.

    Chosen here, the package need not search the parts for it: every part is base64, whose
    lines never begin with "--", and two random boundaries (nested parts) never meet.
    """
    return f"{'=' * 15}{secrets.randbelow(sys.maxsize):0{_BOUNDARY_DIGITS}d}=="


@lru_cache(maxsize=16)
def _sender_header(sender: str) -> tuple[str, str]:
    """Return the From header of a sender ("Name <address>") and the address's domain."""
    name, address = parseaddr(sender)
    value = formataddr((str(Header(name, "utf-8")), address)) if name else address
    return value, address.rpartition("@")[2]


@lru_cache(maxsize=256)
def _subject_header(subject: str) -> str:
    """Return a subject encoded for the header (the same few subjects go to many people)."""
    return Header(subject, "utf-8").encode()


def _header_block(part: Message) -> bytes:
    """Return a part's header lines as the generator writes them (without the blank line)."""
    return b"".join(WIRE.fold_binary(name, value) for name, value in part.raw_items())


@lru_cache(maxsize=4)
def _text_head(subtype: str) -> bytes:
    """Return the header lines of a UTF-8 text part (the same for every text)."""
    return _header_block(MIMEText("-", subtype, "utf-8"))


def attachment_part(filename: str, mime_type: str, payload: bytes) -> MIMEApplication:
    """Return an attachment as a MIME part (base64; text types say they are UTF-8)."""
    kind, *parameters = (piece.strip() for piece in mime_type.split(";"))
    maintype, _, subtype = kind.partition("/")
    part = MIMEApplication(payload, _subtype=subtype or "octet-stream")
    part.set_type(f"{maintype}/{subtype or 'octet-stream'}")
    if maintype == "text":  # our texts are UTF-8; say so, or clients guess Latin-1
        part.set_param("charset", "utf-8")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        part.set_param(name.strip(), value.strip().strip('"'))
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


@lru_cache(maxsize=256)
def _attachment_head(filename: str, mime_type: str) -> bytes:
    """Return the header lines of an attachment part (they do not depend on its bytes)."""
    return _header_block(attachment_part(filename, mime_type, b""))


def _base64_lines(data: bytes) -> bytes:
    """Return bytes in base64 lines of 76 characters, each ending in CRLF, as the package does."""
    return base64.encodebytes(data).replace(b"\n", _CRLF)


def _text_part(subtype: str, text: str) -> tuple[bytes, bytes]:
    """Return the header lines and the body of a UTF-8 text part."""
    return _text_head(subtype), _base64_lines(text.encode("utf-8"))


@lru_cache(maxsize=4)
def _multipart_head(subtype: str) -> tuple[bytes, bytes]:
    """Return a multipart part's header lines split where its boundary goes.

    Every boundary has the same length and characters of the same kind, so the lines fold
    alike for all of them; they are folded once with a stand-in.
    """
    stand_in = _boundary()
    head = _header_block(MIMEMultipart(subtype, boundary=stand_in))
    before, found, after = head.partition(stand_in.encode("ascii"))
    if not found or stand_in.encode("ascii") in after:  # pragma: no cover - always found once
        raise ValueError("unexpected multipart header")
    return before, after


def _multipart(subtype: str, parts: Sequence[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """Return the header lines and the body of a multipart part holding the given parts."""
    boundary = _boundary().encode("ascii")
    before, after = _multipart_head(subtype)
    dashes = b"--" + boundary
    separator = _CRLF + dashes + _CRLF
    body = b"".join(
        [
            dashes,
            _CRLF,
            separator.join(head + _CRLF + body for head, body in parts),
            _CRLF,
            dashes,
            b"--",
            _CRLF,
        ]
    )
    return before + boundary + after, body


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[Attachment],
) -> bytes:
    """Return a complete MIME message (text, optional HTML, attachments) with CRLF line ends."""
    # Rows stored before the input check may hold characters no mail should carry.
    subject, text = printable(subject, multiline=False), printable(text)
    html = printable(html) if html else html
    head, body = _text_part("plain", text)
    if html:
        head, body = _multipart("alternative", [(head, body), _text_part("html", html)])
    if attachments:
        parts = [(head, body)]
        parts += [
            (_attachment_head(filename, mime_type), _base64_lines(payload))
            for filename, mime_type, payload in attachments
        ]
        head, body = _multipart("mixed", parts)
    sender_header, domain = _sender_header(sender)
    return b"".join(
        [
            head,
            _folded("From", sender_header),
            _line("To", recipient),
            _folded("Subject", _subject_header(subject)),
            _folded("Date", formatdate(localtime=False)),  # the same for a second's mails
            _line("Message-ID", make_msgid(domain=domain or None)),
            _CRLF,
            body,
        ]
    )
