"""Statements resource (Communication 2.1): PUT, POST (one or a batch), GET, HEAD."""
from __future__ import annotations

import json

from werkzeug.http import http_date

from lms.core import jsonbody
from lms.core.db import utcnow
from lms.xapi import attachments, formats, queries
from lms.xapi.credentials import source_of
from lms.xapi.errors import XAPIError, XAPIForbidden, XAPINotFound, XAPIValidationError
from lms.xapi.http import XRequest, check_params, empty_response, json_response, parse_bool
from lms.xapi.identifiers import format_timestamp, ifi_of
from lms.xapi.resources.common import parse_activity_id, parse_agent, parse_since, parse_uuid_param
from lms.xapi.storage import VERB_VOIDED, store_statements
from lms.xapi.validation import validate_iri, validate_uuid

METHODS = ("GET", "HEAD", "PUT", "POST")
READ_SCOPES = ("statements/read", "all/read")
QUERY_PARAMS = {"agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
                "until", "limit", "format", "attachments", "ascending"}


def handle(x: XRequest):
    if x.method in ("GET", "HEAD"):
        return _get(x)
    if x.method == "PUT":
        return _put(x)
    if x.method == "POST":
        return _post(x)
    raise XAPIError(f"method {x.method} is not allowed here", 405)


# --- writing -------------------------------------------------------------------------------


def _body_statements(x: XRequest) -> tuple[object, dict]:
    """The JSON body (a statement or a list) and the attachment parts by sha2."""
    content_type = x.content_type
    if content_type == "multipart/mixed":
        parts = attachments.parse_multipart(x.body, x.headers.get("Content-Type") or "")
        first = parts[0]
        if first.content_type.split(";")[0].strip().lower() != "application/json":
            raise XAPIValidationError("the first multipart part must be the statements as application/json",
                                      path="Content-Type")
        try:
            data = jsonbody.loads(first.body)
        except jsonbody.JSONBodyError as exc:
            raise XAPIValidationError(f"the statements part is not accepted: {exc}") from None
        return data, {"parts": parts[1:]}
    if content_type not in ("application/json", "") and not x.alternate:
        raise XAPIValidationError("statements are sent as application/json (or multipart/mixed with attachments)",
                                  path="Content-Type")
    return x.json("statement body"), {"parts": []}


def in_launched_tree(iri, root: str) -> bool:
    """Whether activity ``iri`` is the launched activity ``root`` or under it: ``root`` followed by
    ``/``, ``#`` or ``?`` (a look-alike such as ``root + "0"`` is not under it)."""
    if not isinstance(iri, str) or not root:
        return False
    if iri == root:
        return True
    return iri.startswith(root) and (root[-1] in "/#?" or iri[len(root)] in "/#?")


def _check_launch(x: XRequest, statements: list) -> None:
    """Launch credentials (DESIGN 8): bound to one learner, one registration and one activity tree.

    The learner holds the credential (it is on the launch URL), so every statement must be about
    that learner, in that registration, with as object the launched activity or an activity under
    it (its IRI followed by ``/``, ``#`` or ``?``); launch credentials never void. One statement
    outside these rules refuses the whole batch (403). Naming the launched activity as context
    parent or grouping is not enough: the content could then name any activity (a level exam, a
    rule's activity) as object and have it counted.
    """
    if x.client.actor is None:
        return
    root = x.client.activity_iri
    for i, stmt in enumerate(statements):
        if not isinstance(stmt, dict):
            continue
        if ifi_of(stmt.get("actor")) != x.client.actor_ifi:
            raise XAPIForbidden(f"statement {i}: these credentials may only record statements about their "
                                "own learner")
        context = stmt.get("context")
        registration = context.get("registration") if isinstance(context, dict) else None
        if x.client.registration is not None and (
                registration is None or str(registration).lower() != x.client.registration.lower()):
            # Without this, launched content could post evidence (e.g. "passed") for any activity
            # outside the course it was launched from, which the competency engine would count.
            raise XAPIForbidden(f"statement {i}: these credentials may only record statements in their own "
                                "registration (context.registration)")
        verb = stmt.get("verb")
        if isinstance(verb, dict) and verb.get("id") == VERB_VOIDED:
            raise XAPIForbidden(f"statement {i}: launch credentials may not void statements")
        obj = stmt.get("object")
        is_activity = isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity"
        if not (is_activity and in_launched_tree(obj.get("id"), root)):
            # Otherwise the learner could report exam passes or study hours for any activity.
            raise XAPIForbidden(f"statement {i}: these credentials may only record statements about the activity "
                                f"they were launched for ({root}) or an activity under it")


def _store(x: XRequest, statements: list, parts) -> list[str]:
    x.require("statements/write")
    _check_launch(x, statements)
    batch = len(statements) > 1
    by_hash = {}
    if parts or any(isinstance(s, dict) and s.get("attachments") for s in statements):
        # Validate the statements first so attachment errors name well-formed declarations.
        from lms.xapi.storage import version_family
        from lms.xapi.validation import validate_statement

        for i, stmt in enumerate(statements):
            validate_statement(stmt, version_family(x.version), i if batch else None)
        by_hash = attachments.check_and_collect(statements, parts, batch=batch)
        attachments.signature_checks(statements, by_hash, batch=batch)
    result = store_statements(statements, version=x.version, authority=x.client.authority,
                              may_define=x.client.has("define"), source=source_of(x.client, utcnow()))
    attachments.store_parts(by_hash)
    return result.ids


def _put(x: XRequest):
    check_params(x, {"statementId"})
    raw_id = x.args.get("statementId")
    if raw_id is None:
        raise XAPIValidationError("statementId is required for PUT", path="statementId")
    validate_uuid(raw_id, "statementId")
    data, extra = _body_statements(x)
    if not isinstance(data, dict):
        raise XAPIValidationError("PUT takes a single statement (a JSON object)", path=None)
    if "id" in data and str(data["id"]).lower() != raw_id.lower():
        raise XAPIValidationError("the statement's id differs from the statementId parameter", path="id")
    data = {**data, "id": data.get("id", raw_id.lower())}
    _store(x, [data], extra["parts"])
    return empty_response(204)


def _post(x: XRequest):
    check_params(x, set())
    data, extra = _body_statements(x)
    statements = data if isinstance(data, list) else [data]
    if isinstance(data, list) and not data:
        raise XAPIValidationError("an empty array of statements is not allowed", path=None)
    return json_response(_store(x, statements, extra["parts"]))


# --- reading -------------------------------------------------------------------------------


def _read_authority(x: XRequest) -> str | None:
    """``None`` for clients that read everything; the authority IFI for ``statements/read/mine``."""
    if x.client.has(*READ_SCOPES):
        return None
    if "statements/read/mine" in x.client.scopes:
        return ifi_of(x.client.authority)
    raise XAPIForbidden("this client needs the scope statements/read (or statements/read/mine)")


def _get(x: XRequest):
    mine = _read_authority(x)
    if "more" in x.args:
        check_params(x, {"more"})
        page = queries.run_more(x.args["more"], authority_ifi=mine)
        return _page_response(x, page, "exact", False)
    if "statementId" in x.args or "voidedStatementId" in x.args:
        return _get_one(x, mine)
    check_params(x, QUERY_PARAMS)
    fmt = x.args.get("format", "exact")
    if fmt not in formats.FORMATS:
        raise XAPIValidationError("format must be ids, exact or canonical", path="format")
    verb = x.args.get("verb")
    if verb is not None:
        validate_iri(verb, "verb")
    limit_raw = x.args.get("limit", str(queries.DEFAULT_LIMIT))
    if not (limit_raw.isascii() and limit_raw.isdigit()) or len(limit_raw) > 18:
        raise XAPIValidationError("limit must be a non-negative integer", path="limit")
    query = queries.StatementQuery(
        agent=parse_agent(x, "agent", required=False, groups=True), verb=verb,
        activity=parse_activity_id(x, "activity", required=False),
        registration=parse_uuid_param(x, "registration"),
        related_activities=parse_bool(x, "related_activities"), related_agents=parse_bool(x, "related_agents"),
        since=parse_since(x, "since"), until=parse_since(x, "until"), limit=int(limit_raw),
        ascending=parse_bool(x, "ascending"), authority_ifi=mine)
    with_attachments = parse_bool(x, "attachments")
    page = queries.run(query)
    return _page_response(x, page, fmt, with_attachments)


def _page_response(x: XRequest, page: queries.Page, fmt: str, with_attachments: bool):
    from flask import request

    statements = formats.apply_format(page.statements, fmt, request.accept_languages)
    body = {"statements": statements, "more": page.more}
    headers = {"X-Experience-API-Consistent-Through": format_timestamp(page.consistent_through)}
    if with_attachments:
        return _multipart(body, statements, headers)
    return json_response(body, headers=headers)


def _multipart(body, statements: list[dict], headers: dict):
    from flask import current_app

    data, content_type = attachments.multipart_body(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                                    statements)
    resp = current_app.response_class(data, status=200)
    resp.headers["Content-Type"] = content_type
    for key, value in headers.items():
        resp.headers[key] = value
    return resp


def _get_one(x: XRequest, mine: str | None):
    from flask import request

    if "statementId" in x.args and "voidedStatementId" in x.args:
        raise XAPIValidationError("give statementId or voidedStatementId, not both", path="statementId")
    name = "statementId" if "statementId" in x.args else "voidedStatementId"
    check_params(x, {name, "format", "attachments"})
    statement_id = parse_uuid_param(x, name)
    fmt = x.args.get("format", "exact")
    if fmt not in formats.FORMATS:
        raise XAPIValidationError("format must be ids, exact or canonical", path="format")
    with_attachments = parse_bool(x, "attachments")
    found = queries.get_one(statement_id, voided=name == "voidedStatementId", authority_ifi=mine)
    if found is None:
        raise XAPINotFound(f"no statement with {name} {statement_id}")
    full, stored = found
    [statement] = formats.apply_format([full], fmt, request.accept_languages)
    headers = {"Last-Modified": http_date(stored),
               "X-Experience-API-Consistent-Through": format_timestamp(queries.now_ms())}
    if with_attachments:
        return _multipart(statement, [statement], headers)
    return json_response(statement, headers=headers)
