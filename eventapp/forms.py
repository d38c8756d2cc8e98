"""Flask-WTF forms: shape checks only; business rules live in services."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import Field
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from eventapp import plain_text
from eventapp.request_numbers import signed_whole_number, whole_number

SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_POSTED = object()


class PlainText:
    """Refuse control characters (tab and line breaks pass in multi-line fields), noncharacters
    and lone surrogates: invisible in the form, they would break exports and mail."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if plain_text.control_characters(value, self.multiline):
            raise ValidationError(_l("Bitte entfernen Sie unsichtbare Steuerzeichen."))
        if plain_text.unfit_characters(value):
            raise ValidationError(
                _l("Bitte entfernen Sie die Sonderzeichen, die sich nicht speichern lassen.")
            )


class Form(FlaskForm):
    """Every form's base: reads the sent form fields only, checks the characters of all text.

    Flask-WTF would otherwise take an uploaded file or a JSON body (with lists and objects)
    in place of a field.
    """

    def __init__(self, formdata: Any = _POSTED, **kwargs: Any) -> None:
        if formdata is _POSTED:
            submitted = has_request_context() and request.method in SUBMIT_METHODS
            formdata = request.form if submitted else None
        super().__init__(formdata=formdata, **kwargs)

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        """Validate the fields, with the character check on every text field."""
        checks = {name: list(found) for name, found in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                checks.setdefault(name, []).append(
                    PlainText(multiline=isinstance(field, TextAreaField))
                )
        return super().validate(extra_validators=checks)


class LoginForm(Form):
    """Organiser login."""

    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), Length(max=500)],
        render_kw={"autocomplete": "current-password"},
    )


# --- Planning: events, rooms, activities -------------------------------------------------


class LocalDateField(DateField):
    """A date typed as YYYY-MM-DD (date picker) or TT.MM.JJJJ, with a German message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "invalid_value_message", _l("Bitte geben Sie ein Datum wie 24.06.2014 ein.")
        )
        kwargs.setdefault("format", ["%Y-%m-%d", "%d.%m.%Y"])
        super().__init__(*args, **kwargs)


class LocalTimeField(TimeField):
    """A wall-clock time typed as HH:MM (or HH.MM)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "invalid_value_message", _l("Bitte geben Sie eine Uhrzeit wie 09:30 ein.")
        )
        kwargs.setdefault("format", ["%H:%M", "%H.%M", "%H:%M:%S"])
        super().__init__(*args, **kwargs)


class LocalDateTimeField(DateTimeLocalField):
    """A date and time in the event's zone (datetime-local picker or TT.MM.JJJJ HH:MM)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "invalid_value_message",
            _l("Bitte geben Sie Datum und Uhrzeit wie 10.06.2014 09:00 ein."),
        )
        kwargs.setdefault(
            "format", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S"]
        )
        super().__init__(*args, **kwargs)


class WholeNumberField(IntegerField):
    """A whole number in ASCII digits (up to nine, optionally negative), with a German message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_value_message", _l("Bitte geben Sie eine ganze Zahl ein."))
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the number; "²", "١٢" or "1_000" (which int() takes) are refused."""
        if not valuelist:
            return
        raw = valuelist[0].strip() if isinstance(valuelist[0], str) else None
        self.data = signed_whole_number(raw)
        if (
            self.data is None
            and raw is not None
            and raw.lstrip("-").isascii()
            and raw.lstrip("-").isdigit()
        ):
            raise ValueError(_l("Diese Zahl ist zu groß."))
        if self.data is None:
            raise ValueError(self.invalid_value_message)

    def pre_validate(self, form: Any) -> None:
        """Refuse numbers no room or event could hold (and no database column could store)."""
        if self.data is not None and abs(self.data) > 1_000_000:
            raise ValidationError(_l("Diese Zahl ist zu groß."))


class IdField(IntegerField):
    """A record's id sent back by a page: 1 to 9 ASCII digits, else a form error."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        self.data = whole_number(valuelist[0])
        if self.data is None:
            raise ValueError(_l("Dieser Eintrag wurde nicht gefunden."))


def _not_negative() -> NumberRange:
    return NumberRange(min=0, message=_l("Die Zahl darf nicht negativ sein."))


class EventForm(Form):
    """An event's title, days, place, contact and registration rules."""

    title = StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Bitte geben Sie einen Titel ein.")), Length(max=200)],
    )
    subtitle = StringField(_l("Untertitel"), validators=[Optional(), Length(max=300)])
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
    )
    starts_on = LocalDateField(
        _l("Erster Tag"), validators=[InputRequired(_l("Bitte geben Sie den ersten Tag an."))]
    )
    ends_on = LocalDateField(_l("Letzter Tag"), validators=[Optional()])
    timezone = StringField(
        _l("Zeitzone"),
        default="Europe/Berlin",
        validators=[DataRequired(_l("Bitte geben Sie eine Zeitzone an.")), Length(max=64)],
    )
    venue = StringField(_l("Veranstaltungsort"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Adresse"), validators=[Optional(), Length(max=300)])
    organiser_name = StringField(_l("Veranstalter"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(
        _l("Kontakt-E-Mail"),
        validators=[
            Optional(),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
    )
    contact_phone = StringField(_l("Kontakt-Telefon"), validators=[Optional(), Length(max=50)])
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=20000)])
    registration_opens_at = LocalDateTimeField(_l("Anmeldung ab"), validators=[Optional()])
    registration_closes_at = LocalDateTimeField(_l("Anmeldung bis"), validators=[Optional()])
    capacity = WholeNumberField(_l("Plätze insgesamt"), validators=[Optional(), _not_negative()])
    per_network_limit = WholeNumberField(
        _l("Höchstens Personen je Netzwerk"), validators=[Optional(), _not_negative()]
    )
    published = BooleanField(_l("Veröffentlicht"))


class RoomForm(Form):
    """A room's name, seats, notes and column position."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
    )
    capacity = WholeNumberField(
        _l("Plätze"),
        validators=[InputRequired(_l("Bitte geben Sie die Platzzahl an.")), _not_negative()],
    )
    notes = TextAreaField(_l("Hinweise (Etage, Zugang)"), validators=[Optional(), Length(max=5000)])
    position = WholeNumberField(_l("Reihenfolge im Zeitplan"), default=0, validators=[Optional()])


ENROLMENT_CHOICES = [
    SelectChoice("auto", _l("je nach Art (Workshops und Erfahrungsaustauschkreise: ja)")),
    SelectChoice("yes", _l("ja")),
    SelectChoice("no", _l("nein")),
]


class ActivityForm(Form):
    """An activity's title, kind, room, time, seats and people."""

    title = StringField(
        _l("Titel"),
        validators=[DataRequired(_l("Bitte geben Sie einen Titel ein.")), Length(max=200)],
    )
    kind = SelectField(_l("Art"), validators=[DataRequired()])
    room = SelectField(_l("Raum"), validate_choice=False)
    day = LocalDateField(_l("Tag"), validators=[InputRequired(_l("Bitte geben Sie den Tag an."))])
    starts = LocalTimeField(
        _l("Beginn"), validators=[InputRequired(_l("Bitte geben Sie den Beginn an."))]
    )
    ends = LocalTimeField(
        _l("Ende"), validators=[InputRequired(_l("Bitte geben Sie das Ende an."))]
    )
    capacity = WholeNumberField(_l("Plätze"), validators=[Optional()])
    requires_enrolment = SelectField(
        _l("Teilnahme nur mit Anmeldung"), choices=ENROLMENT_CHOICES, default="auto"
    )
    speakers = TextAreaField(
        _l("Referentinnen und Referenten"), validators=[Optional(), Length(max=5000)]
    )
    moderators = TextAreaField(_l("Moderation"), validators=[Optional(), Length(max=5000)])
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=20000)])
    language = SelectField(
        _l("Sprache"),
        choices=[SelectChoice("de", _l("Deutsch")), SelectChoice("en", _l("Englisch"))],
        default="de",
    )
    published = BooleanField(_l("Veröffentlicht"), default=True)
    cancelled = BooleanField(_l("Abgesagt"))
    overlap_confirmed = BooleanField(_l("Überschneidung bewusst speichern"))
    participant_clash_choice = RadioField(
        _l("Überschneidung bei Teilnehmenden bewusst speichern"),
        choices=[
            SelectChoice("keep", _l("Beide Plätze behalten; die Personen wählen selbst eines ab")),
            SelectChoice(
                "waitlist",
                _l(
                    "Wer in beiden einen festen Platz hat, kommt auf die Warteliste dieses "
                    "Programmpunkts und behält den anderen Platz"
                ),
            ),
        ],
        validators=[Optional()],
    )


class PersonForm(Form):
    """A speaker's or moderator's name, title and organisation."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=200)],
    )
    title = StringField(_l("Titel oder Amt"), validators=[Optional(), Length(max=120)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            Optional(),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
    )
    bio = TextAreaField(_l("Kurzbiografie"), validators=[Optional(), Length(max=5000)])


# --- Registration ------------------------------------------------------------------------


def _strip(value: Any) -> Any:
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def _line(label: Any, size: int, required_message: Any = None) -> StringField:
    """Return a one-line text field with a length limit and an optional required message."""
    checks: list[Any] = [
        DataRequired(required_message) if required_message else Optional(),
        Length(max=size, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
    ]
    return StringField(label, validators=checks, filters=[_strip])


class RegistrationForm(Form):
    """A participant's registration for the day (the activity choices are read separately)."""

    salutation = SelectField(
        _l("Anrede"),
        choices=[
            SelectChoice("", _l("keine Angabe")),
            SelectChoice("Frau", _l("Frau")),
            SelectChoice("Herr", _l("Herr")),
        ],
        validators=[Optional()],
        validate_choice=True,
    )
    title = _line(_l("Titel"), 60)
    first_name = _line(_l("Vorname"), 100, _l("Bitte geben Sie Ihren Vornamen ein."))
    last_name = _line(_l("Nachname"), 100, _l("Bitte geben Sie Ihren Nachnamen ein."))
    organisation = _line(
        _l("Organisation"), 200, _l("Bitte geben Sie Ihre Organisation oder Dienststelle ein.")
    )
    network = _line(_l("Netzwerk"), 200)
    state = SelectField(
        _l("Bundesland"),
        validators=[DataRequired(_l("Bitte wählen Sie ein Bundesland."))],
    )
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )
    role = SelectField(_l("Ich nehme teil als"), validators=[DataRequired()])
    language = SelectField(
        _l("Sprache für E-Mails"),
        choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
        validators=[DataRequired()],
    )
    accessibility_needs = TextAreaField(
        _l("Barrierefreiheit: Was brauchen Sie?"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[_strip],
    )
    dietary_wishes = TextAreaField(
        _l("Wünsche zur Verpflegung"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[_strip],
    )
    privacy_consent = BooleanField(
        _l("Ich habe die Datenschutzhinweise gelesen und bin mit der Verarbeitung einverstanden."),
        validators=[DataRequired(_l("Bitte stimmen Sie den Datenschutzhinweisen zu."))],
    )
    photo_consent = BooleanField(
        _l("Ich bin einverstanden, dass Fotos, auf denen ich zu sehen bin, veröffentlicht werden.")
    )
    # Left empty by people; filled in by form-filling robots.
    homepage = StringField(
        _l("Bitte dieses Feld leer lassen"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )


class DetailsForm(RegistrationForm):
    """A registered person's own details, to correct them (address and role stay as they are)."""

    email = None  # type: ignore[assignment]
    role = None  # type: ignore[assignment]
    privacy_consent = None  # type: ignore[assignment]
    homepage = None  # type: ignore[assignment]


class OrganiserRegistrationForm(RegistrationForm):
    """An organiser's form: all roles, no consent box (the organiser records it), notes."""

    privacy_consent = BooleanField(
        _l("Die Person hat den Datenschutzhinweisen zugestimmt."),
        validators=[DataRequired(_l("Bitte bestätigen Sie die Zustimmung der Person."))],
    )
    organiser_notes = TextAreaField(
        _l("Interne Notiz"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[_strip],
    )


class ResendLinkForm(Form):
    """Ask for the private manage link again."""

    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )


class ConfirmCancelForm(Form):
    """Confirm the cancellation of a whole registration."""

    confirm = BooleanField(
        _l("Ja, ich möchte meine Anmeldung und alle Plätze stornieren."),
        validators=[DataRequired(_l("Bitte bestätigen Sie die Stornierung."))],
    )


class AccessibilityFeedbackForm(Form):
    """Tell the organisers about a barrier (the accessibility statement's feedback form)."""

    message = TextAreaField(
        _l("Ihre Nachricht"),
        validators=[
            DataRequired(_l("Bitte beschreiben Sie, was nicht zugänglich war.")),
            Length(max=5000, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[_strip],
    )
    page = _line(_l("Wo ist das Problem aufgetreten?"), 500)
    name = _line(_l("Ihr Name"), 200)
    email = EmailField(
        _l("E-Mail-Adresse für eine Antwort"),
        validators=[
            Optional(),
            Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )
