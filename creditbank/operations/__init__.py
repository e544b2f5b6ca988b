"""Credit-bank operations: they take the acting user, check the rules, and only flush."""
from __future__ import annotations
from lms.core.exceptions import DomainError


class CreditBankError(DomainError, ValueError):
    """A domain error shown to the user (``message`` is translated, ``field`` names the form field)."""

    def __init__(self, message, field: str | None = None, *, status: int | None = None, code: str | None = None):
        super().__init__(message, field, status=status, code=code)
