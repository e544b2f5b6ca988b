"""Error pages in the user's language, and JSON errors for ``/api/`` (and ``/xapi/``)."""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from lms.api import ApiError, error_response
from lms.core.exceptions import DomainError

log = logging.getLogger("lms.errors")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
          413: "payload_too_large", 415: "unsupported_media_type", 429: "too_many_requests",
          500: "internal_error"}


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with the current state."),
        413: _("The upload is too large."),
        429: _("Too many attempts; please wait and try again."),
        500: _("Something went wrong on our side. The error has been logged."),
    }


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/xapi/")) or (
        request.accept_mimetypes.best == "application/json")


def _drop_nul_from_query() -> None:
    """NUL characters are removed from query parameters (filters and page numbers: a NUL never
    means anything there, and PostgreSQL refuses it in strings)."""
    if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        from werkzeug.datastructures import ImmutableMultiDict

        request.args = ImmutableMultiDict([(k.replace("\x00", ""), v.replace("\x00", ""))
                                           for k, v in request.args.items(multi=True)])


def _has_nul() -> bool:
    """NUL characters in the path or the form fields (never meaningful in text, and PostgreSQL
    refuses them in strings)."""
    if "\x00" in request.path:
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True))
        if request.is_json:
            return b"\\u0000" in request.get_data(cache=True)
    return False


#: Body types the JSON API reads besides JSON (the framework import takes its CSV layout).
API_BODY_TYPES = ("application/json", "text/csv")


def _refuse_malformed_json() -> None:
    """A JSON body that does not parse (truncated, too deep, a lone surrogate) is a 400 naming
    the problem, before any view runs: a view reading it with ``get_json(silent=True)`` would
    otherwise take it for an empty body, and do something else (``{"login": "x", "class_id":``
    enrolling the caller). On ``/api/`` a non-empty body of another type is refused for the same
    reason; on pages, a JSON body must be an object (Flask-WTF reads it as the form's fields)."""
    from flask import abort

    api = request.path.startswith("/api/")
    if request.is_json:
        if not request.get_data(cache=True).strip():
            return
        try:
            data = request.get_json()
        except BadRequest as exc:
            if api:
                raise ApiError(400, "invalid_json", exc.description) from None
            abort(400, exc.description)
        if not api and not isinstance(data, dict):
            abort(400)
    elif api and request.mimetype not in API_BODY_TYPES and request.content_length != 0:
        if request.get_data(cache=True).strip():
            raise ApiError(400, "invalid_json", "the request body must be JSON (send it as application/json)")


def init_app(app) -> None:
    @app.before_request
    def _refuse_malformed_input():
        """Refuse, with a 400, input that no view can use: NUL characters in the path or the body
        (query parameters lose them), and JSON bodies that are not objects on pages (Flask-WTF
        reads a JSON body as the form's fields). The LRS under ``/xapi/`` checks its own input."""
        if request.path.startswith("/xapi/"):
            return None
        from flask import abort

        _drop_nul_from_query()
        if _has_nul():
            abort(400)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            _refuse_malformed_json()
        return None

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        """Every domain error (ApiError included), answered once: JSON on the API, a flashed
        message and a redirect back on pages (the error page when there is no page to go back to)."""
        if _wants_json():
            body = exc.as_json()
            return error_response(exc.status, body.pop("code"), body.pop("message"), **body)
        from flask import flash, redirect

        from lms.core.redirects import is_local_path

        back = request.referrer or ""
        host = request.host_url.rstrip("/")
        if back.startswith(host + "/"):
            back = back[len(host):]
        if request.method != "GET" and back and is_local_path(back) and exc.status != 404:
            # The redirect is a success to the request boundary: undo the refused work here
            # (unless the view keeps what it counted about the refusal).
            from flask import g

            from lms.core.db import db

            if not g.get("lms_commit_on_refusal"):
                db.session.rollback()
            flash(exc.message, "error")
            return redirect(back)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        message = _("The form expired or was not sent from this site; please reload the page and try again.")
        if _wants_json():
            return error_response(400, "csrf_failed", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = _messages().get(status) or exc.description
        if exc.description and exc.description != type(exc).description:
            message = exc.description  # a specific message given to abort()
        if _wants_json():
            resp = error_response(status, _CODES.get(status, "http_error"), message)
            if hasattr(exc, "get_headers"):
                for key, value in exc.get_headers():
                    if key.lower() not in ("content-type",):
                        resp.headers[key] = value
            return resp
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        log.exception("unhandled error")
        from lms.core.db import db

        db.session.rollback()
        message = _messages()[500]
        if _wants_json():
            return error_response(500, "internal_error", message)
        return render_template("errors/error.html", status=500, message=message), 500
