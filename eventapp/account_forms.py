"""Forms of organiser accounts: invitation, role, forgotten and new password (shape checks only)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from eventapp.forms import Form
from eventapp.labels import ORGANISER_ROLE_LABELS
from eventapp.models import OrganiserRole
from eventapp.services.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def _strip(value: Any) -> Any:
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def _email_field(label: Any) -> EmailField:
    return EmailField(
        label,
        validators=[
            DataRequired(_l("Bitte geben Sie eine E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )


def _role_field() -> SelectField:
    return SelectField(
        _l("Rolle"),
        choices=[SelectChoice(role.value, ORGANISER_ROLE_LABELS[role]) for role in OrganiserRole],
        default=OrganiserRole.STAFF.value,
        validators=[DataRequired(_l("Bitte wählen Sie eine Rolle."))],
    )


class InviteForm(Form):
    """Who to invite into the organiser area, and with which role."""

    email = _email_field(_l("E-Mail-Adresse"))
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Bitte geben Sie den Namen ein.")),
            Length(max=200, message=_l("Bitte höchstens %(max)d Zeichen eingeben.")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off"},
    )
    role = _role_field()


class RoleForm(Form):
    """Another role for an account."""

    role = _role_field()


class ForgotPasswordForm(Form):
    """The address to send a new-password link to."""

    email = _email_field(_l("E-Mail-Adresse"))


class SetPasswordForm(Form):
    """A new password, typed twice."""

    password = PasswordField(
        _l("Neues Passwort"),
        validators=[
            DataRequired(_l("Bitte geben Sie ein Passwort ein.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Das Passwort braucht mindestens %(min)d Zeichen."),
            ),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=_l("Das Passwort darf höchstens %(max)d Zeichen haben."),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[
            DataRequired(_l("Bitte geben Sie das Passwort noch einmal ein.")),
            EqualTo("password", _l("Die beiden Passwörter stimmen nicht überein.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
