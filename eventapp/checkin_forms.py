"""Forms of the check-in desk: scan, desk name, walk-in. Shape checks only (text is checked
for control characters by the common base)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from eventapp import labels
from eventapp.forms import Form, _line, _strip
from eventapp.printing_forms import LANGUAGE_CHOICES, layout_choices
from eventapp.services.printing.badge_layouts import SINGLE_LAYOUTS


class ScanForm(Form):
    """A code from a badge, as a handheld scanner types it (ending with Enter)."""

    code = StringField(
        _l("Code scannen"),
        validators=[DataRequired(_l("Bitte scannen Sie den Code vom Namensschild.")),
                    Length(max=100)],
        filters=[_strip],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "enterkeyhint": "go"},
    )  # fmt: skip


class DeskNameForm(Form):
    """The name of this desk, shown when someone scans a badge a second time elsewhere."""

    desk_name = StringField(
        _l("Name dieses Platzes"),
        validators=[Optional(), Length(max=60)],
        filters=[_strip],
        render_kw={"autocomplete": "off", "placeholder": _l("z. B. Eingang Nord")},
    )


class WalkInForm(Form):
    """A person who registers on the day at the desk: the few details a badge needs."""

    first_name = _line(_l("Vorname"), 100, _l("Bitte geben Sie den Vornamen ein."))
    last_name = _line(_l("Nachname"), 100, _l("Bitte geben Sie den Nachnamen ein."))
    organisation = _line(
        _l("Organisation"), 200, _l("Bitte geben Sie die Organisation oder Dienststelle ein.")
    )
    network = _line(_l("Netzwerk"), 200)
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            Optional(),
            Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        _l("Rolle"),
        choices=[
            SelectChoice(r.value, label) for r, label in labels.PARTICIPANT_ROLE_LABELS.items()
        ],
        default="participant",
    )
    # Filled with the workshops that have free seats; "" for none.
    activity = SelectField(_l("Workshop"), choices=[], validate_choice=False, default="")
    layout = SelectField(
        _l("Format des Namensschilds"), choices=layout_choices(SINGLE_LAYOUTS), default="a6"
    )
    lang = SelectField(_l("Sprache des Namensschilds"), choices=LANGUAGE_CHOICES, default="de")
    privacy_consent = BooleanField(
        _l("Die Person hat die Datenschutzhinweise erhalten und ist einverstanden."),
        validators=[DataRequired(_l("Bitte bestätigen Sie die Zustimmung zum Datenschutz."))],
    )
