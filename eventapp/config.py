"""Every setting with a safe default; environment variables prefixed EVENTAPP_ override them."""

from __future__ import annotations

import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Database URL; empty means SQLite in instance/eventapp.sqlite3.
    "SQLALCHEMY_DATABASE_URI": "",
    # Seconds a SQLite writer waits for the lock before giving up (then: 503, input kept).
    "SQLITE_BUSY_TIMEOUT": 15,
    # Seconds a PostgreSQL statement may wait for a row lock before giving up (then: 503).
    "LOCK_TIMEOUT": 15,
    # Runs of one statement on a PostgreSQL connection before psycopg prepares it on the server
    # (parsed and planned once); empty: never (PgBouncer before 1.22 in transaction mode).
    "POSTGRESQL_PREPARE_THRESHOLD": 5,
    # Secret for sessions and CSRF; empty means: generate once into instance/secret_key.
    "SECRET_KEY": "",
    # Default language of the site; the visitor's choice is kept in the session.
    "BABEL_DEFAULT_LOCALE": "de",
    # Languages offered by the language switch.
    "LANGUAGES": ["de", "en"],
    # Default time zone for new events.
    "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
    # CSRF tokens never expire while a form is open (WCAG 2.2.1); the session still guards them.
    "WTF_CSRF_TIME_LIMIT": None,
    # Storage for rate limits; empty means a small SQLite file in instance/, shared by the app's
    # processes on this machine; use redis://127.0.0.1:6379 when running several hosts.
    "RATELIMIT_STORAGE_URI": "",
    # When the rate-limit storage fails, let the request through (and log) instead of an error.
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Failed logins allowed per client address and per account within a moving window.
    "LOGIN_RATE_LIMIT": "10 per 10 minutes",
    # Requests for a password-reset link allowed per client address and per e-mail address.
    "PASSWORD_RESET_RATE_LIMIT": "5 per hour",
    # Minutes a password-reset link stays valid (an invitation link: 48 hours).
    "PASSWORD_RESET_MINUTES": 60,
    # Registrations allowed per client address (load tests raise it).
    "REGISTER_RATE_LIMIT": "20 per minute",
    # Whether rate limits apply at all.
    "RATELIMIT_ENABLED": True,
    # Proxies in front of the app (nginx: 1) whose X-Forwarded-For/-Proto/-Host are believed.
    "TRUSTED_PROXIES": 0,
    # Host names the site answers to (comma-separated; ".example.org" takes its subdomains too);
    # any other Host header gets a 400 before a page is built. Empty: every host.
    "TRUSTED_HOSTS": [],
    # Cookies only over HTTPS; switch on behind TLS.
    "SESSION_COOKIE_SECURE": False,
    # Session cookie is not readable from scripts.
    "SESSION_COOKIE_HTTPONLY": True,
    # Session cookie is not sent on cross-site sub-requests.
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Address links start with outside a request: mails, the worker, the command line (in a
    # request they carry the host the visitor used). `make run`/`make serve` set http://HOST:PORT.
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # Mail: "file" writes .eml files to instance/mail/, "smtp" sends through the server below.
    "MAIL_BACKEND": "file",
    # Folder for .eml files with MAIL_BACKEND=file; empty means instance/mail.
    "MAIL_FILE_DIR": "",
    # SMTP host for MAIL_BACKEND=smtp.
    "MAIL_SERVER": "127.0.0.1",
    # SMTP port for MAIL_BACKEND=smtp.
    "MAIL_PORT": 25,
    # SMTP user name (empty: no login).
    "MAIL_USERNAME": "",
    # SMTP password.
    "MAIL_PASSWORD": "",
    # Use STARTTLS after connecting.
    "MAIL_USE_TLS": False,
    # Sender address of all mails.
    "MAIL_FROM": "Innovationsbüro Fachkräfte für die Region <kontakt@fachkraeftebuero.de>",
    # Seconds to wait for the SMTP server.
    "MAIL_TIMEOUT": 10,
    # Attempts before a mail is marked failed.
    "MAIL_MAX_ATTEMPTS": 8,
    # Seconds before the first new attempt at a mail the server refused; each further wait is
    # four times longer, up to an hour.
    "MAIL_RETRY_DELAY": 30,
    # Milliseconds a mail task waits for the mails of commits close behind it, to send them all
    # in one round (a burst of registrations then costs the worker far less); 0: at once.
    "MAIL_ROUND_WAIT_MS": 1000,
    # Campaign mails (Rundmails) the worker sends per minute, across all hosts: a steady pace
    # the mail server and the recipients' providers accept.
    "MAIL_CAMPAIGN_MAILS_PER_MINUTE": 60,
    # Seconds without further edits before activity-change notices are mailed (one per edit run).
    "CHANGE_NOTICE_DELAY": 600,
    # Largest request body in bytes.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Task queue of the worker (`eventapp worker`): empty means a SQLite file in instance/ (one
    # machine); redis://host:6379/1 or postgresql://… when several hosts share the work.
    "TASK_QUEUE_URL": "",
    # Run each task at once in the process that queues it, instead of in the worker (tests only).
    "TASK_QUEUE_IMMEDIATE": False,
    # Tasks one worker runs at the same time (threads): a long print job does not hold up mail.
    "WORKER_THREADS": 3,
    # CPU priority the worker lowers itself to (nice, 0-19; 0 leaves it as started): in a rush
    # the web requests come first and the mails follow as soon as a core is free.
    "WORKER_NICE": 10,
    # Processes that render badge sheets in parallel.
    "PRINT_PROCESSES": 2,
    # Days a finished print job's PDF is kept for download.
    "PRINT_FILE_DAYS": 7,
    # Check form tokens against cross-site requests (only load tests switch this off).
    "WTF_CSRF_ENABLED": True,
    # Version of the privacy notice a registration consents to (stored with the consent).
    "PRIVACY_NOTICE_VERSION": "2026-01",
}

INT_KEYS = {
    "CHANGE_NOTICE_DELAY",
    "SQLITE_BUSY_TIMEOUT",
    "LOCK_TIMEOUT",
    "MAIL_PORT",
    "MAIL_TIMEOUT",
    "MAIL_MAX_ATTEMPTS",
    "PRINT_PROCESSES",
    "MAIL_RETRY_DELAY",
    "MAIL_ROUND_WAIT_MS",
    "MAIL_CAMPAIGN_MAILS_PER_MINUTE",
    "WORKER_THREADS",
    "WORKER_NICE",
    "PRINT_FILE_DAYS",
    "MAX_CONTENT_LENGTH",
    "TRUSTED_PROXIES",
    "PASSWORD_RESET_MINUTES",
}
# Whole numbers where an empty value means "none".
OPTIONAL_INT_KEYS = {"POSTGRESQL_PREPARE_THRESHOLD"}
BOOL_KEYS = {
    "WTF_CSRF_ENABLED",
    "RATELIMIT_ENABLED",
    "RATELIMIT_SWALLOW_ERRORS",
    "SESSION_COOKIE_SECURE",
    "MAIL_USE_TLS",
    "TASK_QUEUE_IMMEDIATE",
    "SESSION_COOKIE_HTTPONLY",
}


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Read EVENTAPP_* variables (EVENTAPP_DATABASE_URL for the database) into settings."""
    settings: dict[str, Any] = {}
    if environ.get("EVENTAPP_DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = environ["EVENTAPP_DATABASE_URL"]
    for key in DEFAULTS:
        value = environ.get(f"EVENTAPP_{key}")
        if value is None:
            continue
        if key in INT_KEYS:
            settings[key] = int(value)
        elif key in BOOL_KEYS:
            settings[key] = value.strip().lower() in {"1", "true", "yes", "on"}
        elif key in OPTIONAL_INT_KEYS:
            settings[key] = int(value) if value.strip() else None
        elif isinstance(DEFAULTS[key], list):  # comma-separated, e.g. EVENTAPP_LANGUAGES=de,en
            settings[key] = [item.strip() for item in value.split(",") if item.strip()]
        elif DEFAULTS[key] is None:  # seconds, or empty for none
            settings[key] = int(value) if value.strip() else None
        else:
            settings[key] = value
    return settings
