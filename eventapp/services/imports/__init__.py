"""Imports of the tables organisers keep in Excel: participants, people and the programme."""
