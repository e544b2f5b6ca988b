"""The error every courses operation raises when a rule is broken."""
from __future__ import annotations
from lms.core.exceptions import DomainError


class CourseError(DomainError, ValueError):
    """A rule of the courses domain was broken.

    ``message`` is shown to the user; ``field`` names the form field at fault (or ``None``);
    ``status`` is the HTTP status a view or the API should answer with (400 bad input, 403 not
    allowed, 404 unknown, 409 conflict with the current state).
    """

    def __init__(self, message, field: str | None = None, *, status: int = 400, code: str = "invalid"):
        super().__init__(message, field, status=status, code=code)
