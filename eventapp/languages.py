"""The visitor's language: their explicit choice, else German."""

from __future__ import annotations

from flask import current_app, has_request_context, session


def visitor_language() -> str:
    """Return the code of the visitor's language (Flask-Babel's locale is made from it).

    Cheaper than str(get_locale()), which parses a babel Locale first: pages kept per
    language name it in their keys on every visit.
    """
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang") if has_request_context() else None
    if chosen in languages:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])
