"""Domain rules as plain functions: they take models and values, add and flush, never commit."""


class DomainError(Exception):
    """A rule was broken; the message is written for the user and shown as it is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Name of the form field the message belongs next to, if any.
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
