"""Errors of the LRS, each with the HTTP status the specification prescribes."""
from __future__ import annotations


class XAPIError(Exception):
    """An error answered to an LRS client with ``status`` and a human-readable ``message``."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class XAPIValidationError(XAPIError):
    """A statement or request parameter breaks a rule of the specification (400).

    ``path`` names the property at fault (``"actor.mbox"``, ``"result.score.scaled"``) and
    ``statement_index`` the position of the statement in a batch (``None`` for a single one).
    """

    status = 400

    def __init__(self, message: str, path: str | None = None, statement_index: int | None = None):
        super().__init__(message)
        self.path = path
        self.statement_index = statement_index

    def describe(self) -> str:
        where = []
        if self.statement_index is not None:
            where.append(f"statement {self.statement_index}")
        if self.path:
            where.append(self.path)
        return (f"{', '.join(where)}: " if where else "") + self.message


class XAPIConflict(XAPIError):
    """409: e.g. the same statement id with different content, or a document changed concurrently."""

    status = 409


class XAPIPreconditionFailed(XAPIError):
    """412: an ``If-Match`` / ``If-None-Match`` precondition did not hold."""

    status = 412


class XAPINotFound(XAPIError):
    status = 404


class XAPIUnauthorized(XAPIError):
    status = 401


class XAPIForbidden(XAPIError):
    status = 403
