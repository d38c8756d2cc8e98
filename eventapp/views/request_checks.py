"""Refuse requests no page of the app takes (files, NUL in the address) before a view reads them."""

from __future__ import annotations

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, NotFound

from eventapp.views.api import error_response
from eventapp.views.errors import error_page

# Pages that take a file: they read it themselves, under their own size limit.
UPLOAD_ENDPOINTS = frozenset({"imports.upload"})


class UploadRefused(BadRequest):
    """A request carried a file, which no form of the app takes."""


def register(app: Flask) -> None:
    """Install the check and its readable answer."""

    @app.before_request
    def _refuse_uploads() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS:
            return
        if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.files:
            raise UploadRefused()

    @app.before_request
    def _refuse_nul_in_address() -> None:
        # No name, slug or search holds a NUL, and PostgreSQL cannot even compare one.
        if "\x00" in request.path:
            raise NotFound()
        if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            raise BadRequest()

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
