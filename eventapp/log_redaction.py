"""Keep secret link tokens out of access logs (gunicorn and the development server)."""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# Private manage links, personal calendar feeds and organisers' password links carry their
# secret in the path.
SECRET_PATH = re.compile(r"/(verwalten|kalender|passwort)/[^/?\s\"]+")


def redact(text: str) -> str:
    """Replace the secret part of private-link paths with an ellipsis."""
    return SECRET_PATH.sub(r"/\1/…", text)


class RedactedLine(logging.Filter):
    """Access-log filter: writes the record's line out once and redacts it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class RedactingLogger(Logger):
    """Gunicorn logger whose access lines never contain private-link tokens.

    The line is redacted once as it is written, whatever the format takes (the request line,
    the path, the referrer, any header), rather than each of the request's and answer's
    header values on every request; gunicorn itself decides whether there is a line at all.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        install_filter(self.access_log, RedactedLine)


class RedactingFilter(logging.Filter):
    """Logging filter for request lines and error reports (with their traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_filter(logger: logging.Logger, kind: type[logging.Filter] = RedactingFilter) -> None:
    """Redact tokens in everything the logger writes (once per logger)."""
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())


def install_werkzeug_filter() -> None:
    """Redact tokens in the development server's access log (once per process)."""
    install_filter(logging.getLogger("werkzeug"))
