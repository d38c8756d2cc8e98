"""The campaign (Rundmail) form: shape checks only; recipients and placeholders are services'."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from eventapp import labels
from eventapp.forms import Form
from eventapp.printing_forms import LANGUAGE_CHOICES
from eventapp.services.mail.campaign_segments import SEGMENT_LABELS

DEFAULT_BODY = "{anrede},\n\n\n\n"


def one_line(form: Any, field: Any) -> None:
    """Refuse line breaks in a subject (they would start new mail headers)."""
    if isinstance(field.data, str) and ("\r" in field.data or "\n" in field.data):
        raise ValidationError(_l("Der Betreff muss in eine Zeile passen (ohne Zeilenumbruch)."))


class CampaignForm(Form):
    """Who gets the mail, its subject and text, and the language of the placeholders."""

    segment = RadioField(
        _l("Empfängerinnen und Empfänger"),
        choices=[SelectChoice(key, label) for key, label in SEGMENT_LABELS.items()],
        default="confirmed",
        validators=[DataRequired(_l("Bitte wählen Sie, wer die E-Mail bekommt."))],
    )
    activity = SelectField(_l("Workshop"), choices=[], validate_choice=False)
    network = SelectField(_l("Netzwerk"), choices=[], validate_choice=False)
    role = SelectField(
        _l("Rolle"),
        choices=[
            SelectChoice(r.value, label) for r, label in labels.PARTICIPANT_ROLE_LABELS.items()
        ],
        default="participant",
    )
    language = SelectField(
        _l("Sprache der Anrede und der Workshop-Liste"), choices=LANGUAGE_CHOICES, default="de"
    )
    subject = StringField(
        _l("Betreff"),
        validators=[
            one_line,
            DataRequired(_l("Bitte geben Sie einen Betreff ein.")),
            Length(max=200, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[lambda value: value.strip(" \t") if isinstance(value, str) else value],
    )
    body = TextAreaField(
        _l("Text"),
        default=DEFAULT_BODY,
        render_kw={"rows": 14},
        validators=[
            DataRequired(_l("Bitte geben Sie den Text der E-Mail ein.")),
            Length(max=20000, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
    )
