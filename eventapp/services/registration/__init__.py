"""Registrations: taking and changing places, the waiting list, lists, data copies, retention."""
