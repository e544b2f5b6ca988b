"""The one base class of every domain error (a broken rule of the platform or of a plugin).

Operations raise a subclass; nothing translates it by hand. The core's error handler
(:mod:`lms.core.errors`) answers it once, the same way everywhere:

* under ``/api/`` (or when the client asks for JSON): the API's error shape
  ``{"error": {"code": ..., "message": ..., "field": ...}}`` with ``status``;
* on a page: the message flashed in the user's language and a redirect back to the page the
  request came from (same site only), or the error page with ``status`` when there is none.

A view that shows a form runs the operation through :func:`lms.core.forms.submit`, which catches
it and puts ``message`` under ``field`` (or above the form).
The LRS (``/xapi/``) keeps its own :class:`lms.xapi.errors.XAPIError`, whose shape the xAPI
specification prescribes.
"""
from __future__ import annotations


class DomainError(Exception):
    """A rule was broken.

    ``message`` is shown to the user (a translated string); ``field`` names the input at fault
    (a form field or a JSON property path, or ``None``); ``status`` is the HTTP status (400 bad
    input, 403 not allowed, 404 unknown, 409 conflict with the current state, 422 well-formed but
    not acceptable); ``code`` a stable machine code for API clients; ``details`` more JSON-able
    facts for API clients (``issues=[...]``).
    """

    status: int = 400
    code: str = "invalid"

    def __init__(self, message="", field: str | None = None, *, status: int | None = None,
                 code: str | None = None, **details):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.details = details

    def as_json(self) -> dict:
        body = {"code": self.code, "message": self.message, **self.details}
        if self.field:
            body["field"] = self.field
        return body
