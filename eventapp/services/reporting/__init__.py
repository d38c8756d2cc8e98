"""Figures for organisers and funders: registrations, seats, Länder, check-ins, no-shows."""
