"""Forms of the organisers' working tools (copy an event, cancel for someone): shape checks only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from eventapp.forms import Form, LocalDateField


def _strip(value: object) -> object:
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


class CopyEventForm(Form):
    """The new event's first day, address and title when an event serves as its template."""

    starts_on = LocalDateField(
        _l("Erster Tag der neuen Veranstaltung"),
        validators=[InputRequired(_l("Bitte geben Sie den ersten Tag an."))],
    )
    slug = StringField(
        _l("Kurzname in der Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie einen Kurznamen ein.")),
            Length(max=80),
            Regexp(
                r"^[a-z0-9][a-z0-9-]*$",
                message=_l("Nur Kleinbuchstaben a–z, Ziffern und Bindestriche."),
            ),
        ],
        filters=[_strip],
    )
    title = StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Bitte geben Sie einen Titel ein.")), Length(max=200)],
        filters=[_strip],
    )


class OrganiserCancelForm(Form):
    """An organiser's cancellation of someone's registration, with an optional reason."""

    reason = TextAreaField(
        _l("Begründung für die Person"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[_strip],
    )
