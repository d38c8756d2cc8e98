"""A light browser for load tests: reads a form by its labels, keeps cookies, follows redirects.

http.client on a fresh connection per request (gunicorn's sync workers close it anyway) and
libxml2's HTML parser (lxml) keep the load generator's own CPU small. It shares the machine's
cores with the server it drives, and 32 of these browsers share one Python process: a page
read in pure Python (the standard library's parser: 1.7 ms for eventapp's registration form,
0.5 ms for the floor's) took CPU from the server and held up the other browsers in proportion
to the page's size, where people's browsers read the page on their own machines. libxml2
reads the same two forms in about 0.36 and 0.16 ms.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import lxml.html


@dataclass
class Control:
    """One form control as a browser sees it."""

    tag: str
    type: str
    name: str
    id: str
    value: str
    checked: bool = False
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # value, text, selected


@dataclass
class FormPage:
    """A page's first POST form as a browser sees it, and every label's text by its target."""

    action: str
    controls: list[Control]
    labels: dict[str, str]


def _text(element: Any) -> str:
    return " ".join(element.text_content().split())


def read_form(html: str) -> FormPage:
    """Read the first POST form's controls and every label of the page (libxml2's HTML parser).

    A textarea's first line break right after its start tag is not part of its value, as in
    browsers (HTML's parsing rules).
    """
    document = lxml.html.document_fromstring(html)
    labels = {
        label.get("for"): _text(label) for label in document.iter("label") if label.get("for")
    }
    for form in document.iter("form"):
        if (form.get("method") or "").lower() == "post":
            return FormPage(form.get("action") or "", _controls(form), labels)
    return FormPage("", [], labels)


def _controls(form: Any) -> list[Control]:
    controls = []
    for element in form.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name:
            continue
        ident = element.get("id") or ""
        if element.tag == "input":
            kind = (element.get("type") or "text").lower()
            value = element.get("value")
            if value is None:
                value = "on" if kind in ("checkbox", "radio") else ""
            checked = element.get("checked") is not None
            controls.append(Control("input", kind, name, ident, value, checked))
        elif element.tag == "select":
            select = Control("select", "select", name, ident, "")
            for option in element.iter("option"):
                text = _text(option)  # also the value of an option without one
                selected = option.get("selected") is not None
                select.options.append((option.get("value", text), text, selected))
            controls.append(select)
        else:
            text = (element.text or "").replace("\r\n", "\n")
            controls.append(Control("textarea", "textarea", name, ident, text.removeprefix("\n")))
    return controls


class FormError(Exception):
    """The page lacked a field the client looked for."""


def fill_form(html: str, by_label: dict[str, str]) -> list[tuple[str, str]]:
    """Fill the page's form as a person would and return what the browser sends.

    by_label maps a label's text (or its start) to the value to type, the option text to pick,
    or "x" to tick a checkbox or radio button. Everything else goes as the page set it
    (hidden fields such as the CSRF token, empty text fields, preselected options).
    """
    reader = read_form(html)
    by_id = {c.id: c for c in reader.controls if c.id}
    wanted: dict[int, str] = {}
    for label, value in by_label.items():
        target = next(
            (
                by_id[for_id]
                for for_id, text in reader.labels.items()
                if text.startswith(label) and for_id in by_id
            ),
            None,
        )
        if target is None:
            raise FormError(f"no field labelled {label!r}")
        wanted[id(target)] = value
    sent: list[tuple[str, str]] = []
    for control in reader.controls:
        value = wanted.get(id(control))
        if control.type in ("checkbox", "radio"):
            if value is not None:
                # Ticking a radio button unticks the others of its group.
                sent = [(n, v) for n, v in sent if n != control.name or control.type != "radio"]
                sent.append((control.name, control.value))
            elif control.checked and not any(
                id(c) in wanted for c in reader.controls if c.name == control.name
            ):
                sent.append((control.name, control.value))
        elif control.type in ("submit", "button", "image", "reset", "file"):
            continue
        elif control.tag == "select":
            if value is not None:
                match = next((v for v, text, _ in control.options if text == value), None)
                if match is None:
                    raise FormError(f"no option {value!r} in {control.name!r}")
                sent.append((control.name, match))
            else:
                chosen = [v for v, _, selected in control.options if selected]
                first = control.options[0][0] if control.options else ""
                sent.append((control.name, chosen[0] if chosen else first))
        else:
            sent.append((control.name, value if value is not None else control.value))
    return sent


@dataclass
class Answer:
    """One response as the client got it."""

    status: int
    headers: dict[str, str]
    body: bytes
    path: str = ""
    # The statuses of the redirects that led here, first to last.
    redirects: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """One visitor: a cookie jar, requests on fresh connections, redirects followed."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.cookies: dict[str, str] = {}
        self.requests = 0

    def _send(self, method: str, path: str, body: bytes = b"") -> Answer:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Connection": "close", "Accept-Language": "de"}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    key, _, cookie = pair.partition("=")
                    self.cookies[key.strip()] = cookie.strip()
            self.requests += 1
            headers = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, headers, payload, path)
        finally:
            connection.close()

    def get(self, path: str) -> Answer:
        """GET a page, following redirects."""
        return self._follow(self._send("GET", path), path)

    def post(self, path: str, fields: list[tuple[str, str]], *, follow: bool = True) -> Answer:
        """POST a form and follow the redirect (303/302 become a GET), as a browser does.

        Without follow, the POST's own answer comes back (the redirect not yet taken).
        """
        answer = self._send("POST", path, urlencode(fields).encode())
        return self._follow(answer, path) if follow else answer

    def _follow(self, answer: Answer, path: str) -> Answer:
        redirects: list[int] = []
        for _ in range(5):
            if answer.status not in (301, 302, 303, 307, 308):
                break
            redirects.append(answer.status)
            path = urlsplit(urljoin(path, answer.headers["location"])).path
            answer = self._send("GET", path)
        answer.redirects = redirects
        return answer
