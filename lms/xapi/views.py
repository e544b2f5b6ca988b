"""The ``/xapi/`` blueprint: one URL per resource, each handled by its module in ``resources``.

Every request goes through the same steps: CORS preflight, alternate request syntax, version
header, HTTP Basic authentication, the resource's handler, then one commit for writes. A
statement id that two clients write at the same moment is retried once, so the loser gets the
answer the specification asks for (204 for the same content, 409 otherwise) rather than an error.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, g, request

from lms.core.db import commit_with_retry, db
from lms.xapi import http
from lms.xapi.errors import XAPIError
from lms.xapi.resources import about, activities, activity_profile, agent_profile, agents, state, statements

log = logging.getLogger("lms.xapi")

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

RESOURCES = {
    "statements": statements,
    "activities/state": state,
    "activities/profile": activity_profile,
    "agents/profile": agent_profile,
    "activities": activities,
    "agents": agents,
    "about": about,
}
ALL_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]


def _dispatch(name: str):
    module = RESOURCES[name]
    if request.method == "OPTIONS":
        return http.empty_response(200)
    x = http.build_request()
    g.xapi_request = x
    http.negotiate_version(x, required=module is not about)
    if x.method not in module.METHODS:
        raise XAPIError(f"method {x.method} is not allowed on {name}", 405)
    if module is not about:
        http.authenticate_request(x)
    if x.method not in ("PUT", "POST", "DELETE"):
        return module.handle(x)
    # Two writers raced on the same unique key (a statement id, a document): the second attempt
    # sees the first one's row and answers as the specification says.
    return commit_with_retry(lambda: module.handle(x), retry_on=_RETRYABLE,
                             on_exhausted=lambda: XAPIError("the request conflicted with a concurrent one; "
                                                            "retry it", 409))


def _retryable() -> tuple:
    errors = [sa.exc.IntegrityError]
    try:  # the PostgreSQL write path uses psycopg's COPY directly, whose errors are psycopg's own
        import psycopg

        errors += [psycopg.IntegrityError, psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure]
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


_RETRYABLE = _retryable()


def _view(name: str):
    def view():
        return _dispatch(name)

    view.__name__ = name.replace("/", "_")
    return view


for _name in RESOURCES:
    bp.add_url_rule(f"/{_name}", view_func=_view(_name), methods=ALL_METHODS)
    # Clients differ on a trailing slash; accept both spellings without a redirect.
    bp.add_url_rule(f"/{_name}/", endpoint=_name.replace("/", "_") + "_slash", view_func=_view(_name),
                    methods=ALL_METHODS)


@bp.after_request
def _consistent_through(response):
    """1.0.3 Communication 2.1.3 (IEEE 9274.1.1 likewise): ``X-Experience-API-Consistent-Through``
    is on *every* response to a Statements resource request: errors, PUT and POST included.

    Set here, once for the resource, so no handler (nor error path) can forget it. A GET page
    sets its own value (the bound of its query) first; every other answer states "now": all
    statements stored before this instant are visible to queries.
    """
    if request.endpoint in ("xapi.statements", "xapi.statements_slash"):
        from lms.xapi.identifiers import format_timestamp, now_ms

        response.headers.setdefault("X-Experience-API-Consistent-Through", format_timestamp(now_ms()))
    return response


@bp.errorhandler(XAPIError)
def _xapi_error(exc: XAPIError):
    db.session.rollback()
    return http.error_response(exc)


@bp.errorhandler(sa.exc.OperationalError)
def _database_busy(exc):
    # e.g. SQLite "database is locked" under heavy concurrent writes: tell the client to retry.
    db.session.rollback()
    log.warning("xAPI request failed on a busy database: %s", exc)
    resp = http.error_response(XAPIError("the database is busy; retry the request", 503))
    resp.headers["Retry-After"] = "1"
    return resp
