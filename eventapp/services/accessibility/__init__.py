"""Accessibility (BITV 2.0): the statement's contact and the feedback it invites."""
