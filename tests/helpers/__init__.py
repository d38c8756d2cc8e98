"""Helpers shared by several test modules: test data, programme edits, system requirements."""
