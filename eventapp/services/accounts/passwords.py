"""What a password must be: one rule for the command line and the set-password page."""

from __future__ import annotations

from flask_babel import gettext as _

# The command line and the mailed links ask the same.
MIN_PASSWORD_LENGTH = 10
# Longer input is refused before hashing (scrypt of megabytes would tie up a worker).
MAX_PASSWORD_LENGTH = 500


def password_problem(password: str) -> str | None:
    """Return what is wrong with a new password, in the visitor's language, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Das Passwort braucht mindestens %(count)s Zeichen.", count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Das Passwort darf höchstens %(count)s Zeichen haben.", count=MAX_PASSWORD_LENGTH)
    if not password.strip():
        return _("Das Passwort darf nicht nur aus Leerzeichen bestehen.")
    return None
