"""iCal feeds of the programme, one activity and one person's plan (built with icalendar)."""

from __future__ import annotations

from eventapp.models import Registration


def registration_ics(registration: Registration, base_url: str) -> bytes:
    """Return the personal calendar (confirmed activities and plenary parts) as .ics bytes."""
    raise NotImplementedError("personal calendar export is built in services/calendar.py")
