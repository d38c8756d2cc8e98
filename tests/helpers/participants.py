"""Participants' details as the registration service and the public form take them."""

from __future__ import annotations

from typing import Any

from eventapp.services.registration import registrations as service


def person(n: int, **fields: Any) -> service.Participant:
    """Return the details of test participant number n."""
    values: dict[str, Any] = {
        "first_name": f"Vorname{n}",
        "last_name": f"Nachname{n}",
        "email": f"person{n}@example.org",
        "privacy_consent_version": "2026-01",
        "organisation": "IHK Musterstadt",
    }
    values.update(fields)
    return service.Participant(**values)


def form_data(**overrides: Any) -> dict[str, Any]:
    """Return a complete, valid registration form."""
    data = {
        "salutation": "Frau",
        "title": "Dr.",
        "first_name": "Erika",
        "last_name": "Mustermann",
        "organisation": "Agentur für Arbeit Stendal",
        "network": "Fachkräftenetzwerk Altmark",
        "state": "Sachsen-Anhalt",
        "email": "erika@example.org",
        "role": "participant",
        "language": "de",
        "accessibility_needs": "",
        "dietary_wishes": "vegetarisch",
        "privacy_consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
