"""The badge desk on the day: finding people and checking them in."""
