"""The greeting of every mail to a participant, from the chosen Anrede, title and names."""

from __future__ import annotations

from flask_babel import get_locale

from eventapp.models import Registration

# How a salutation was chosen (the form stores "Frau" or "Herr"); anything else is neutral.
FEMALE = {"frau", "ms", "mrs", "miss"}
MALE = {"herr", "mr"}


def greeting(salutation: str, title: str, first_name: str, last_name: str, language: str) -> str:
    """Return the greeting line without its comma: "Sehr geehrte Frau Dr. Wolf", "Dear Ms Wolf".

    Without a salutation (or a diverse one, or no last name) the neutral form names the whole
    person: "Guten Tag Alex Wolf" / "Dear Alex Wolf".
    """
    chosen = " ".join(salutation.split()).lower().rstrip(".")
    title, first_name, last_name = (
        " ".join(part.split()) for part in (title, first_name, last_name)
    )
    english = language.lower().startswith("en")
    if last_name and chosen in FEMALE | MALE:
        female = chosen in FEMALE
        if english:
            # English drops Ms/Mr before an academic title: "Dear Dr. Wolf".
            address = title or ("Ms" if female else "Mr")
            return f"Dear {address} {last_name}"
        opening = "Sehr geehrte Frau" if female else "Sehr geehrter Herr"
        return " ".join(part for part in (opening, title, last_name) if part)
    name = " ".join(part for part in (title, first_name, last_name) if part)
    if not name:
        return "Dear Sir or Madam" if english else "Sehr geehrte Damen und Herren"
    return f"Dear {name}" if english else f"Guten Tag {name}"


def greeting_for(registration: Registration, language: str | None = None) -> str:
    """Return a registration's greeting in the given language (default: the current one)."""
    return greeting(
        registration.salutation or "",
        registration.title or "",
        registration.first_name or "",
        registration.last_name or "",
        language or str(get_locale() or registration.language or "de"),
    )
