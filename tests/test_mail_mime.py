"""Mail messages on the wire: the same bytes as the email package's own message tree writes."""

from __future__ import annotations

import email
import email.errors
import re
from collections.abc import Callable, Sequence
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st

from eventapp.plain_text import printable
from eventapp.services.mail import mime

SENDER = "Innovationsbüro Fachkräfte für die Region <kontakt@fachkraeftebuero.de>"
CALENDAR = "text/calendar; method=PUBLISH"


def tree_message(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[mime.Attachment],
) -> bytes:
    """Write a message by building the email package's tree and letting it write the bytes."""
    subject, text = printable(subject, multiline=False), printable(text)
    html = printable(html) if html else html
    body: MIMEBase = MIMEText(text, "plain", "utf-8")
    if html:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        alternative.attach(MIMEText(html, "html", "utf-8"))
        body = alternative
    message: MIMEBase = body
    if attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for filename, mime_type, payload in attachments:
            message.attach(mime.attachment_part(filename, mime_type, payload))
    sender_header, domain = mime._sender_header(sender)
    message["From"] = sender_header
    message["To"] = recipient
    message["Subject"] = mime._subject_header(subject)
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain=domain or None)
    return message.as_bytes(policy=compat32.clone(linesep="\r\n"))


def comparable(message: bytes) -> bytes:
    """Replace what differs between any two messages (boundaries, date, id) by fixed stand-ins."""
    for number, boundary in enumerate(re.findall(rb'boundary="([^"]+)"', message)):
        message = message.replace(boundary, b"boundary-%d" % number)
    message = re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: -\r\n", message)
    return re.sub(rb"\r\nMessage-ID: <[^>]*>\r\n", b"\r\nMessage-ID: -\r\n", message)


def same_as_tree(*args: object) -> None:
    written = mime.build_message(*args)  # type: ignore[arg-type]
    assert comparable(written) == comparable(tree_message(*args))  # type: ignore[arg-type]
    assert b"\n" not in written.replace(b"\r\n", b"")  # CRLF line ends only


def test_confirmation_with_calendar_is_written_as_the_email_package_writes_it() -> None:
    calendar = b"BEGIN:VCALENDAR\r\nX-WR-CALNAME:Tag \xe2\x80\x93 Programm\r\nEND:VCALENDAR\r\n"
    same_as_tree(
        SENDER,
        "anna@example.org",
        "Ihre Anmeldung – Innovationstag",
        "Sehr geehrte Frau Wolf,\n\nvielen Dank für Ihre Anmeldung zu „Innovationstag“.\n",
        None,
        [("innovationstag-mein-programm.ics", CALENDAR, calendar)],
    )


def test_plain_html_and_empty_messages_are_written_as_the_email_package_writes_them() -> None:
    same_as_tree("x@example.org", "y@example.org", "Test", "Text", None, [])
    same_as_tree(SENDER, "y@example.org", "", "", None, [])
    same_as_tree(SENDER, "y@example.org", "Hallo", "Text", "<p>Hallo</p>", [])
    same_as_tree(
        SENDER, "y@example.org", "Hallo", "", "<p>Hallo</p>", [("leer.txt", "text/plain", b"")]
    )


def test_written_message_reads_back_with_its_parts() -> None:
    message = email.message_from_bytes(
        mime.build_message(
            SENDER, "anna@example.org", "Grüße", "äöüß", "<p>ä</p>", [("a.pdf", "x/y", b"%PDF")]
        )
    )
    assert message["Subject"] == "=?utf-8?b?R3LDvMOfZQ==?="
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    plain, html = alternative.get_payload()
    assert plain.get_payload(decode=True).decode() == "äöüß"
    assert html.get_payload(decode=True).decode() == "<p>ä</p>"
    assert attachment.get_filename() == "a.pdf" and attachment.get_payload(decode=True) == b"%PDF"


header_text = st.text(st.characters(codec="utf-8"), max_size=120)


@settings(max_examples=300, deadline=None)
@given(
    recipient=st.one_of(st.emails(), header_text),
    subject=header_text,
    text=st.text(max_size=600),
    html=st.one_of(st.none(), st.text(max_size=200)),
    attachments=st.lists(
        st.tuples(
            st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=40),
            st.sampled_from([CALENDAR, "application/pdf", "text/csv", "image/png; name=x", "x"]),
            st.binary(max_size=400),
        ),
        max_size=3,
    ),
    sender=st.sampled_from([SENDER, "x@example.org", "Ärger <a@b.example>"]),
)
def test_any_message_is_written_as_the_email_package_writes_it(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: list[mime.Attachment],
) -> None:
    same_as_tree(sender, recipient, subject, text, html, attachments)


@settings(max_examples=500, deadline=None)
@given(
    name=st.sampled_from(["To", "Message-ID"]),
    value=st.one_of(
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=55, max_size=80),
        st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=90),
        header_text,
    ),
)
def test_header_line_is_written_as_compat32_folds_it(name: str, value: str) -> None:
    def outcome(fold: Callable[[str, str], bytes]) -> object:
        try:
            return fold(name, value)
        except email.errors.HeaderParseError as error:  # a line break that starts a header
            return type(error)

    assert outcome(mime._line) == outcome(compat32.clone(linesep="\r\n").fold_binary)
