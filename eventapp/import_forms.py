"""Forms of the import pages: the upload (the file itself is read apart) and the confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from eventapp.forms import Form
from eventapp.models import ImportKind

IMPORT_KIND_LABELS = {
    ImportKind.PARTICIPANTS: _l("Teilnehmende (Anmeldungen mit Workshop-Wahl)"),
    ImportKind.PEOPLE: _l("Referent*innen und Moderation"),
    ImportKind.PROGRAMME: _l("Programm (Programmpunkte mit Raum, Beginn und Ende)"),
}


class ImportUploadForm(Form):
    """What the uploaded table holds, and the consent the organiser records for participants."""

    kind = RadioField(
        _l("Die Datei enthält"),
        choices=[SelectChoice(k.value, label) for k, label in IMPORT_KIND_LABELS.items()],
        validators=[InputRequired(_l("Bitte wählen Sie, was die Datei enthält."))],
    )
    consent = BooleanField(
        _l(
            "Die Personen in der Datei haben den Datenschutzhinweisen zugestimmt "
            "(nötig für Teilnehmende)."
        )
    )


class ConfirmImportForm(Form):
    """Confirm a previewed import, with or without confirmation mails to new participants."""

    send_mail = BooleanField(_l("Bestätigungsmail senden"), default=False)
