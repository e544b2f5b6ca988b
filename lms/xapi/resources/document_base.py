"""What the three document resources share: GET one or the ids, PUT, POST (merge), DELETE."""
from __future__ import annotations

from flask import current_app

from lms.xapi import documents
from lms.xapi.documents import DocumentScope
from lms.xapi.errors import XAPIError
from lms.xapi.http import XRequest, empty_response, json_response
from lms.xapi.resources.common import parse_since, require_document_id


def _http_date(value) -> str:
    from werkzeug.http import http_date

    return http_date(value)


def document_response(doc):
    resp = current_app.response_class(doc.content, status=200, mimetype=None)
    resp.headers["Content-Type"] = doc.content_type
    resp.headers["ETag"] = f'"{doc.etag}"'
    resp.headers["Last-Modified"] = _http_date(doc.updated_at)
    return resp


def handle_documents(x: XRequest, scope: DocumentScope, id_param: str, *, delete_many: bool,
                     precondition: documents.Precondition):
    """Dispatch on the method for one document resource."""
    document_id = x.args.get(id_param)
    if document_id is not None and "\x00" in document_id:
        from lms.xapi.errors import XAPIValidationError

        raise XAPIValidationError(f"{id_param} must not contain NUL characters", path=id_param)
    if x.method in ("GET", "HEAD"):
        if document_id is None:
            since = parse_since(x)
            return json_response(documents.ids(scope, since))
        return document_response(documents.require(documents.get(scope, document_id)))
    if x.method in ("PUT", "POST"):
        document_id = require_document_id(x, id_param)
        doc = documents.put(scope, document_id, x.body, x.headers.get("Content-Type") or "",
                            if_match=x.headers.get("If-Match"), if_none_match=x.headers.get("If-None-Match"),
                            merge=x.method == "POST", precondition=precondition)
        return empty_response(204, {"ETag": f'"{doc.etag}"'})
    if x.method == "DELETE":
        if document_id is None:
            if not delete_many:
                document_id = require_document_id(x, id_param)
            else:
                documents.delete_all(scope)
                return empty_response(204)
        documents.delete(scope, document_id, if_match=x.headers.get("If-Match"),
                         if_none_match=x.headers.get("If-None-Match"))
        return empty_response(204)
    raise XAPIError(f"method {x.method} is not allowed here", 405)

