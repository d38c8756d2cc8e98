"""Refuse request bodies no page of the app takes, before any view reads them."""

from __future__ import annotations

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from eventapp.views.api import error_response
from eventapp.views.errors import error_page


class UploadRefused(BadRequest):
    """A request carried a file, which no form of the app takes."""


def register(app: Flask) -> None:
    """Install the check and its readable answer."""

    @app.before_request
    def _refuse_uploads() -> None:
        if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.files:
            raise UploadRefused()

    @app.errorhandler(UploadRefused)
    def _upload_refused(error: UploadRefused) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return error_response(400, "files are not accepted")
        return error_page(
            400,
            _("Keine Dateien möglich"),
            _(
                "Dieses Formular nimmt keine Dateien an. Es wurde nichts gespeichert. Bitte "
                "gehen Sie zurück und geben Sie Ihre Angaben als Text ein."
            ),
        )
