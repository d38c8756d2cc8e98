"""Calendars for people and programs: iCal feeds, stored VEVENTs, frab exports and the JSON API."""
