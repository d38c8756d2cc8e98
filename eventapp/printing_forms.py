"""Forms of the print pages and the badge desk: shape checks only."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from eventapp import labels
from eventapp.forms import Form, IdField
from eventapp.services.printing.badge_layouts import LAYOUTS, SINGLE_LAYOUTS


def layout_choices(names: tuple[str, ...] | None = None) -> list[SelectChoice]:
    """Return the badge layouts as choices."""
    return [SelectChoice(name, f"{layout.label} ({name})") for name, layout in LAYOUTS.items()
            if names is None or name in names]  # fmt: skip


class LocalDecimalField(DecimalField):
    """A decimal number typed with a comma (German) or a point, in ASCII digits."""

    PATTERN = re.compile(r"[+-]?[0-9]{1,6}(?:[.,][0-9]{1,6})?", re.ASCII)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Accept 1,5 as well as 1.5; refuse NaN, exponents and digits other than 0–9."""
        if not valuelist:
            return
        raw = valuelist[0].strip() if isinstance(valuelist[0], str) else ""
        if not self.PATTERN.fullmatch(raw):
            self.data = None
            raise ValueError(_l("Bitte eine Zahl eingeben, z. B. 0 oder -1,5."))
        super().process_formdata([raw.replace(",", ".")])


LANGUAGE_CHOICES = [SelectChoice("de", "Deutsch"), SelectChoice("en", "English")]


class BadgeBatchForm(Form):
    """Choose layout, selection and order of a badge batch."""

    layout = SelectField(_l("Format"), choices=layout_choices(), default="a4-10")
    selection = RadioField(
        _l("Auswahl"),
        choices=[
            SelectChoice("new", _l("Nur noch nicht gedruckte")),
            SelectChoice("all", _l("Alle bestätigten Anmeldungen")),
            SelectChoice("role", _l("Nur eine Rolle")),
        ],
        default="new",
    )
    role = SelectField(
        _l("Rolle"),
        choices=[
            SelectChoice(r.value, label) for r, label in labels.PARTICIPANT_ROLE_LABELS.items()
        ],
        default="participant",
    )
    sort = SelectField(
        _l("Reihenfolge"),
        choices=[
            SelectChoice("name", _l("Nachname")),
            SelectChoice("organisation", _l("Organisation")),
        ],
        default="name",
    )
    lang = SelectField(_l("Sprache der Schilder"), choices=LANGUAGE_CHOICES, default="de")


class DocumentForm(Form):
    """Choose the language of the programme or a list."""

    lang = SelectField(_l("Sprache"), choices=LANGUAGE_CHOICES, default="de")
    # Sign-in sheets only: mark who was let in at the workshop's door, and when.
    with_checkins = BooleanField(_l("mit Anwesenheit vom Workshop-Einlass"))


class CalibrationForm(Form):
    """A printer's offset for one layout, in mm."""

    # Its own id: the badge form on the same page has a layout field too.
    layout = SelectField(
        _l("Format"), choices=layout_choices(), default="a4-10", id="calibration-layout"
    )
    x_mm = LocalDecimalField(
        _l("Verschiebung nach rechts (mm)"),
        places=1,
        validators=[InputRequired(_l("Bitte eine Zahl eingeben, z. B. 0 oder -1,5.")),
                    NumberRange(-20, 20, _l("Bitte einen Wert zwischen -20 und 20 mm."))],
        default=0,
    )  # fmt: skip
    y_mm = LocalDecimalField(
        _l("Verschiebung nach unten (mm)"),
        places=1,
        validators=[InputRequired(_l("Bitte eine Zahl eingeben, z. B. 0 oder -1,5.")),
                    NumberRange(-20, 20, _l("Bitte einen Wert zwischen -20 und 20 mm."))],
        default=0,
    )  # fmt: skip


class DeskSearchForm(Form):
    """Search the badge desk by name, organisation or check-in code."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, Organisation oder Code"), validators=[Optional(), Length(max=100)])


class SingleBadgeForm(Form):
    """Print one badge on a badge or card printer."""

    layout = SelectField(_l("Format"), choices=layout_choices(SINGLE_LAYOUTS), default="a6")
    registration_id = IdField(validators=[InputRequired()])
