"""Operations of the supervision plugin: the rules, the same for views, tasks and the CLI.

Every function takes the acting user explicitly, checks what they may do, only flushes (the
request, task or CLI boundary commits) and logs supervisory actions to the audit log.
"""
from __future__ import annotations


class SupervisionError(ValueError):
    """A domain error: ``message`` (lazy-translated), the form ``field`` it concerns, an HTTP status."""

    def __init__(self, message, field: str | None = None, *, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status = status
