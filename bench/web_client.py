"""A light browser for load tests: reads a form by its labels, keeps cookies, follows redirects.

http.client on a fresh connection per request (gunicorn's sync workers close it anyway) and the
standard library's HTML parser keep the load generator's own CPU small and the same for every app.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit


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


class FormReader(HTMLParser):
    """Collect the first POST form's controls and every label's text by its `for` target."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action = ""
        self.controls: list[Control] = []
        self.labels: dict[str, str] = {}
        self._in_form = False
        self._done = False
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._select: Control | None = None
        self._option: tuple[str, bool] | None = None
        self._option_text: list[str] = []
        self._textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and values.get("method", "").lower() == "post":
            self._in_form = True
            self.action = values.get("action", "")
        elif tag == "label":
            self._label_for = values.get("for", "")
            self._label_text = []
        if not self._in_form:
            return
        if tag == "input" and values.get("name"):
            self.controls.append(
                Control(
                    "input",
                    values.get("type", "text").lower(),
                    values["name"],
                    values.get("id", ""),
                    values.get(
                        "value", "on" if values.get("type") in ("checkbox", "radio") else ""
                    ),
                    "checked" in values,
                )
            )
        elif tag == "select" and values.get("name"):
            self._select = Control("select", "select", values["name"], values.get("id", ""), "")
            self.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = (values.get("value", ""), "selected" in values)
            self._option_text = []
        elif tag == "textarea" and values.get("name"):
            self._textarea = Control(
                "textarea", "textarea", values["name"], values.get("id", ""), ""
            )
            self.controls.append(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_for is not None:
            self.labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None
        elif tag == "option" and self._option is not None and self._select is not None:
            text = " ".join("".join(self._option_text).split())
            self._select.options.append((self._option[0], text, self._option[1]))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form = False
            self._done = True

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self._label_text.append(data)
        if self._option is not None:
            self._option_text.append(data)
        if self._textarea is not None:
            self._textarea.value += data


class FormError(Exception):
    """The page lacked a field the client looked for."""


def fill_form(html: str, by_label: dict[str, str]) -> list[tuple[str, str]]:
    """Fill the page's form as a person would and return what the browser sends.

    by_label maps a label's text (or its start) to the value to type, the option text to pick,
    or "x" to tick a checkbox or radio button. Everything else goes as the page set it
    (hidden fields such as the CSRF token, empty text fields, preselected options).
    """
    reader = FormReader()
    reader.feed(html)
    reader.close()
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
