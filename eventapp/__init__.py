"""eventapp: event and workshop manager for the Innovationstag."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_login import AnonymousUserMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from eventapp import config as settings
from eventapp import page_lane
from eventapp.extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    reading_is_not_limited,
    session_identifier,
    task_queue,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(__file__).resolve().parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: paths, config, extensions, blueprints, errors, CLI."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("EVENTAPP_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    page_lane.install(app)
    trust_proxies(app)
    register_logging(app)
    register_url_converters(app)
    register_extensions(app)
    register_background_work(app)
    register_security_headers(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_checks(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Layer defaults, instance/config.py, EVENTAPP_* variables and test settings."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(settings.from_environment(os.environ))
    if test_config:
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        database = Path(app.instance_path) / "eventapp.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    from eventapp.database import engine_options

    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config),
    )


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, take the client's address, scheme and host from them."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def register_logging(app: Flask) -> None:
    """Keep private-link tokens out of the access log and Flask's own error reports."""
    from eventapp import log_redaction

    log_redaction.install_werkzeug_filter()
    log_redaction.install_filter(app.logger)


def instance_secret_key(instance: Path) -> str:
    """Read the secret key from instance/secret_key, generating it on first start."""
    path = instance / "secret_key"
    if not path.exists():
        key = secrets.token_hex(32)
        try:
            with open(path, "x", encoding="ascii") as handle:
                handle.write(key)
            path.chmod(0o600)
        except FileExistsError:
            pass  # another worker wrote it first
    return path.read_text(encoding="ascii").strip()


class Anonymous(AnonymousUserMixin):
    """A visitor without an organiser login."""

    def can(self, role: object) -> bool:
        return False


def register_url_converters(app: Flask) -> None:
    """Let routes take ids as <id:name>: 1 to 9 ASCII digits, so nothing past a column's range."""
    from eventapp.request_numbers import IdConverter

    app.url_map.converters["id"] = IdConverter


def register_extensions(app: Flask) -> None:
    """Bind the extensions and the database engine hooks."""
    from eventapp import models
    from eventapp.database import configure_engine, write_intent
    from eventapp.languages import visitor_language
    from eventapp.request_numbers import whole_number
    from eventapp.session_cookie import SessionCookie

    app.session_interface = SessionCookie()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=visitor_language,
        default_translation_directories=str(PACKAGE / "translations"),
    )
    if not app.config["RATELIMIT_STORAGE_URI"]:
        from eventapp import ratelimit_store

        path = Path(app.instance_path) / "ratelimits.sqlite3"
        app.config["RATELIMIT_STORAGE_URI"] = f"{ratelimit_store.SCHEME}://{path}"
    limiter.init_app(app)
    limiter.request_filter(reading_is_not_limited)
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager._session_identifier_generator = session_identifier

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Bitte melden Sie sich an, um diese Seite zu sehen.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_organiser(user_id: str) -> models.Organiser | None:
        organiser_id, _, nonce = user_id.partition(":")
        number = whole_number(organiser_id)
        if number is None:
            return None
        organiser = db.session.get(models.Organiser, number)
        if organiser is None or organiser.session_nonce != nonce or not organiser.active:
            return None
        return organiser

    with app.app_context():
        configure_engine(app, db.engine)

    @app.before_request
    def _mark_read_only_requests() -> None:
        write_intent.set(request.method not in {"GET", "HEAD", "OPTIONS"})

    @app.teardown_request
    def _end_read_only_requests(_error: BaseException | None) -> None:
        # Back to the default, so work after the request in this thread (tests, CLI) may write.
        write_intent.set(True)


def register_background_work(app: Flask) -> None:
    """Bind the task queue, queue tasks after each commit, and register the mail renderers."""
    from flask_sqlalchemy.session import Session

    from eventapp import queueing
    from eventapp.services.mail import register_renderers

    task_queue.init_app(app)
    queueing.install_session_hooks(Session)
    register_renderers()


def register_security_headers(app: Flask) -> None:
    """Send the Content-Security-Policy and its companion headers with every response."""
    from eventapp import security_headers

    security_headers.register(app)


def register_blueprints(app: Flask) -> None:
    """Mount the public site, the organiser area, exports and login."""
    from eventapp.views import auth, checkin, doors, organiser, public

    app.register_blueprint(auth.bp)
    app.register_blueprint(organiser.bp)
    app.register_blueprint(checkin.bp)
    app.register_blueprint(doors.bp)
    from eventapp.views import api, exports

    app.register_blueprint(exports.bp)
    app.register_blueprint(api.bp)
    from eventapp.views import organiser_registrations, registration, registration_details

    app.register_blueprint(registration.bp)
    app.register_blueprint(registration_details.bp)
    app.register_blueprint(organiser_registrations.bp)
    from eventapp.views import registration_bulk

    app.register_blueprint(registration_bulk.bp)
    from eventapp.views import mail, printing

    app.register_blueprint(mail.bp)
    app.register_blueprint(printing.bp)
    app.register_blueprint(printing.public_bp)
    from eventapp.views import accessibility

    app.register_blueprint(accessibility.bp)
    from eventapp.views import accounts, audit

    app.register_blueprint(audit.bp)
    app.register_blueprint(accounts.bp)
    from eventapp.views import imports

    app.register_blueprint(imports.bp)
    from eventapp.views import campaigns

    app.register_blueprint(campaigns.bp)
    from eventapp.views import reporting

    app.register_blueprint(reporting.bp)
    # public last: its /<slug>/ routes must not shadow fixed paths.
    app.register_blueprint(public.bp)


def register_errorhandlers(app: Flask) -> None:
    """Answer errors with readable pages in the visitor's language."""
    from eventapp.views import errors

    errors.register(app)


def register_request_checks(app: Flask) -> None:
    """Refuse uploaded files and a NUL in the address with a readable answer."""
    from eventapp.views import request_checks

    request_checks.register(app)


def register_template_helpers(app: Flask) -> None:
    """Add the localtime filter and the values every page needs."""
    from eventapp.views import template_helpers

    template_helpers.register(app)


def register_commands(app: Flask) -> None:
    """Add the eventapp command-line commands."""
    from eventapp import cli

    cli.register(app)
