"""JSON API conventions for ``/api/v1/``.

* Authentication: ``Authorization: Bearer <personal API token>`` (see :mod:`lms.accounts`), or
  the browser session (then CSRF applies to unsafe methods).
* Errors: always ``{"error": {"code": "<machine_code>", "message": "<human text>", ...}}`` with
  the matching HTTP status; raise :class:`ApiError` or ``abort(status)``.
* Documentation: every rule under ``/api/v1/`` appears in ``/api/v1/openapi.json``; decorate a
  view with :func:`doc` to add a summary, parameters and a request/response schema.
"""
from __future__ import annotations

from flask import jsonify

from lms.core.exceptions import DomainError


class ApiError(DomainError):
    """An error answered as the API's JSON error shape (a :class:`DomainError` with the status
    first, as API code reads best)."""

    def __init__(self, status: int, code: str, message: str, **details):
        field = details.pop("field", None)
        super().__init__(message, field, status=status, code=code, **details)


def error_response(status: int, code: str, message: str, **details):
    body = {"error": {"code": code, "message": str(message), **details}}
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return resp


def doc(summary: str = "", *, description: str = "", params: dict | None = None,
        request_schema: dict | None = None, response_schema: dict | None = None, tags=None):
    """Attach OpenAPI details to an API view function."""

    def decorator(fn):
        fn.openapi = {
            "summary": summary, "description": description, "params": params or {},
            "request_schema": request_schema, "response_schema": response_schema, "tags": tags or [],
        }
        return fn

    return decorator


def paginate_args(default: int = 50, maximum: int = 500) -> tuple[int, int]:
    """``limit`` and ``offset`` query parameters, validated."""
    from flask import request

    try:
        limit = int(request.args.get("limit", default))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ApiError(400, "invalid_parameter", "limit and offset must be integers") from None
    if not (1 <= limit <= maximum) or not 0 <= offset < 2**62:
        raise ApiError(400, "invalid_parameter", f"limit must be 1..{maximum} and offset 0..2**62")
    return limit, offset
