"""Credit-bank operations: they take the acting user, check the rules, and only flush."""
from __future__ import annotations


class CreditBankError(ValueError):
    """A domain error shown to the user (``message`` is translated, ``field`` names the form field)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
