"""The competency plugin's rules, shared by views, the JSON API, Celery tasks and the CLI.

Every operation takes the acting user explicitly (``None`` for the system) and only flushes;
the caller commits once.

* :mod:`.reference` -- the ladder and occupations;
* :mod:`.frameworks` -- import/export of frameworks (CASE JSON and CSV), editing and deleting them;
* :mod:`.rules` -- evidence rules and their index, what deleting a rule would change;
* :mod:`.changes` -- the audit log of rule and framework changes;
* :mod:`.engine` -- the evidence engine (statements -> evidence -> unit and level state);
* :mod:`.attainment` -- prerequisites, exams, award;
* :mod:`.certificates` -- PDF, Open Badges 3.0 credentials, verification, revocation;
* :mod:`.profile` -- a learner's profile per occupation;
* :mod:`.access` -- who may see and do what (owners of frameworks and rules included).
"""

from lms.core.exceptions import DomainError


class CompetencyError(DomainError):
    """A domain error shown to the user; ``status`` is the HTTP status for the API."""

    def __init__(self, message, *, status: int | None = None, code: str | None = None, field: str | None = None):
        super().__init__(message, field, status=status, code=code)
