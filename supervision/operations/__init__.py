"""Operations of the supervision plugin: the rules, the same for views, tasks and the CLI.

Every function takes the acting user explicitly, checks what they may do, only flushes (the
request, task or CLI boundary commits) and logs supervisory actions to the audit log.
"""
from __future__ import annotations
from lms.core.exceptions import DomainError


class SupervisionError(DomainError, ValueError):
    """A domain error: ``message`` (lazy-translated), the form ``field`` it concerns, an HTTP status."""
