"""Printed documents: badges, layouts, calibration, booklet, lists, signs and print jobs."""
