"""Organiser accounts: passwords, mailed invitation and reset links, the admin's team changes."""
