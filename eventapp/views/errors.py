"""Readable error pages (404, 400 with a missing or stale form token, 403, 429, 503, 500)."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, SecurityError

from eventapp.database import DatabaseBusy, is_lock_timeout, is_retryable
from eventapp.extensions import db
from eventapp.views.api import error_response


def error_page(
    status: int, title: str, message: str, headers: Headers | None = None
) -> tuple[str, int, Headers]:
    """Render the shared error template with a status code (and the error's own headers)."""
    page = render_template("errors/error.html", status=status, title=title, message=message)
    return page, status, headers or Headers()


def error_headers(error: HTTPException) -> Headers:
    """Return the headers an HTTP error brings along (Allow on 405, Retry-After), not its type."""
    return Headers([(k, v) for k, v in error.get_headers() if k.lower() != "content-type"])


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int, Headers]:
        return error_page(
            400,
            _("Formular abgelaufen"),
            _(
                "Das Formular konnte nicht sicher zugeordnet werden (fehlendes oder veraltetes "
                "Sicherheitsmerkmal). Bitte gehen Sie zurück, laden Sie die Seite neu und senden "
                "Sie das Formular noch einmal. Ihre Eingaben wurden nicht gespeichert."
            ),
        )

    @app.errorhandler(OperationalError)
    def database_error(error: OperationalError) -> tuple[str, int, Headers]:
        db.session.rollback()
        if not (is_lock_timeout(error) or is_retryable(error)):
            raise error
        return database_busy(DatabaseBusy())

    @app.errorhandler(DatabaseBusy)
    def database_busy(error: DatabaseBusy) -> tuple[str, int, Headers]:
        return error_page(
            503,
            _("Gerade sehr viel Andrang"),
            _(
                "Ihre Anfrage konnte wegen vieler gleichzeitiger Anmeldungen nicht rechtzeitig "
                "bearbeitet werden. Es wurde nichts gespeichert. Bitte senden Sie sie in einigen "
                "Sekunden noch einmal."
            ),
        )

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> Response:
        # A Host outside TRUSTED_HOSTS: no link can be built for it, so no page either.
        return Response(
            "400 – Diese Adresse gehört nicht zu dieser Seite.\n"
            "400 – This address does not belong to this site.\n",
            status=400,
            mimetype="text/plain",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int, Headers] | HTTPException | Response:
        status = error.code or 500
        if status < 400:
            return error
        if request.path.startswith("/api/"):
            response = error_response(status, error.name)
            response.headers.extend(error_headers(error))
            return response
        titles = {
            400: _("Ungültige Anfrage"),
            403: _("Kein Zugriff"),
            404: _("Seite nicht gefunden"),
            405: _("Methode nicht erlaubt"),
            413: _("Eingabe zu groß"),
            429: _("Zu viele Versuche"),
        }
        messages = {
            400: _("Die Anfrage war unvollständig oder fehlerhaft."),
            403: _("Ihr Konto darf diese Seite nicht öffnen."),
            404: _(
                "Die Seite %(path)s gibt es nicht (mehr). Bitte prüfen Sie die Adresse oder "
                "beginnen Sie auf der Startseite.",
                path=request.path,
            ),
            405: _("Diese Seite kann so nicht aufgerufen werden."),
            413: _("Die gesendeten Daten sind zu groß."),
            429: _(
                "Es gab zu viele Versuche von Ihrer Adresse. Bitte warten Sie eine Minute und "
                "versuchen Sie es dann noch einmal."
            ),
        }
        return error_page(
            status,
            titles.get(status, error.name),
            messages.get(status, error.description or ""),
            error_headers(error),
        )

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int, Headers]:
        db.session.rollback()
        return error_page(
            500,
            _("Interner Fehler"),
            _(
                "Etwas ist schiefgegangen. Es wurde nichts gespeichert. "
                "Bitte versuchen Sie es erneut."
            ),
        )
