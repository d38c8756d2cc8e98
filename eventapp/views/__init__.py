"""Blueprints: thin views that parse, call one service, commit, and redirect or render."""
