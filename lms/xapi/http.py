"""The HTTP side shared by every resource (xAPI Communication, sections 1-4).

* :class:`XRequest`: the request as the resources see it, after the alternate request syntax
  (Communication 1.3, 1.0.x only) has been unfolded: method, parameters, headers and body.
* The ``X-Experience-API-Version`` header: required on every request but ``about``; its family
  ("1.0.3" or "2.0.0") picks the rules; every response carries the version answered.
* HTTP Basic authentication of LRS clients (:mod:`lms.xapi.credentials`) and scope checks.
* CORS for content served from other origins (``LMS_XAPI_CORS_ORIGINS``).
* Errors as ``{"error": {"code", "message", "statement", "property"}}``.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from flask import current_app, g, request
from werkzeug.datastructures import Headers

from lms.core import jsonbody
from lms.xapi.credentials import ClientInfo, authenticate
from lms.xapi.errors import XAPIError, XAPIForbidden, XAPIUnauthorized, XAPIValidationError
from lms.xapi.validation import VERSION_1, VERSION_2, parse_version_header

#: The version answered in ``X-Experience-API-Version`` for each family.
ANSWERED_VERSION = {VERSION_1: "1.0.3", VERSION_2: "2.0.0"}
CORS_ALLOW_HEADERS = ("Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, "
                      "X-Experience-API-Hash, Accept-Language, X-Requested-With")
CORS_EXPOSE_HEADERS = "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, Location"
CORS_METHODS = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
#: Headers that may travel in the form of an alternate-syntax request (Communication 1.3).
ALT_HEADERS = ("Authorization", "X-Experience-API-Version", "Content-Type", "Content-Length", "If-Match",
               "If-None-Match")
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 412: "precondition_failed", 413: "payload_too_large", 415: "unsupported_media_type"}


@dataclass
class XRequest:
    """One request to the LRS, with the alternate syntax already unfolded."""

    method: str
    args: dict
    headers: Headers
    body: bytes
    version: str | None = None
    client: ClientInfo | None = None
    alternate: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def v2(self) -> bool:
        return self.version == VERSION_2

    def json(self, what: str = "body"):
        try:
            return jsonbody.loads(self.body)
        except jsonbody.JSONBodyError as exc:
            raise XAPIValidationError(f"the {what} is not accepted: {exc}", path=None) from None

    def require(self, *scopes: str) -> None:
        """403 unless the client holds one of ``scopes`` (``all`` always counts)."""
        if self.client is None or not self.client.has(*scopes):
            raise XAPIForbidden(f"this client needs the scope {' or '.join(scopes) or 'all'}")


def _single_args(multi) -> dict:
    out = {}
    for key in multi.keys():
        values = multi.getlist(key)
        if len(values) > 1:
            raise XAPIValidationError(f"parameter {key} is given more than once", path=key)
        out[key] = values[0]
    return out


def build_request() -> XRequest:
    """Unfold the current Flask request into an :class:`XRequest` (without authentication)."""
    if request.method == "POST" and "method" in request.args:
        return _alternate_request()
    return XRequest(method=request.method, args=_single_args(request.args), headers=Headers(request.headers),
                    body=request.get_data(cache=True))


def _alternate_request() -> XRequest:
    """Communication 1.3: ``POST ?method=PUT`` with headers and content in a form body."""
    if set(request.args) != {"method"}:
        raise XAPIValidationError("with the alternate request syntax, method must be the only query parameter",
                                  path="method")
    method = request.args["method"].upper()
    if method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        raise XAPIValidationError(f"method {method} is not supported", path="method")
    if request.mimetype != "application/x-www-form-urlencoded":
        raise XAPIValidationError("the alternate request syntax needs a form-encoded body "
                                  "(application/x-www-form-urlencoded)", path="Content-Type")
    try:
        text = request.get_data(cache=True).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise XAPIValidationError("the form body cannot be parsed", path=None) from None
    headers = Headers()
    for key in ("Accept-Language", "Origin"):
        if key in request.headers:
            headers[key] = request.headers[key]
    args: dict = {}
    content = b""
    lower_alt = {h.lower(): h for h in ALT_HEADERS}
    for key, value in pairs:
        if key.lower() in lower_alt:
            headers[lower_alt[key.lower()]] = value
        elif key == "content":
            content = value.encode("utf-8")
        else:
            if key in args:
                raise XAPIValidationError(f"parameter {key} is given more than once", path=key)
            args[key] = value
    if "Authorization" not in headers and "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"]
    if "X-Experience-API-Version" not in headers and "X-Experience-API-Version" in request.headers:
        headers["X-Experience-API-Version"] = request.headers["X-Experience-API-Version"]
    return XRequest(method=method, args=args, headers=headers, body=content, alternate=True)


def negotiate_version(x: XRequest, *, required: bool = True) -> None:
    raw = x.headers.get("X-Experience-API-Version")
    if not required:  # about: the header is optional there
        try:
            x.version = parse_version_header(raw) if raw else VERSION_1
        except XAPIValidationError:
            x.version = VERSION_1
        return
    x.version = parse_version_header(raw)
    if x.alternate and x.v2:
        raise XAPIValidationError("the alternate request syntax does not exist in xAPI 2.0.0", path="method")


def authenticate_request(x: XRequest) -> None:
    header = x.headers.get("Authorization") or ""
    if header[:6].lower() != "basic ":
        raise XAPIUnauthorized("HTTP Basic credentials of an LRS client are required")
    try:
        key, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise XAPIUnauthorized("the Authorization header cannot be read") from None
    client = authenticate(key, secret)
    if client is None:
        raise XAPIUnauthorized("unknown, revoked or expired LRS credentials")
    x.client = client


def current() -> XRequest:
    return g.xapi_request


def error_body(exc: XAPIError) -> dict:
    body = {"code": CODES.get(exc.status, "error"), "message": exc.message}
    if isinstance(exc, XAPIValidationError):
        body["message"] = exc.describe()
        if exc.statement_index is not None:
            body["statement"] = exc.statement_index
        if exc.path:
            body["property"] = exc.path
    return {"error": body}


def error_response(exc: XAPIError):
    # ASCII-escaped: a message may quote the client's input, unpaired surrogates included.
    resp = current_app.response_class(json.dumps(error_body(exc), ensure_ascii=True), status=exc.status,
                                      mimetype="application/json")
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Basic realm="xAPI"'
    return resp


def json_response(data, status: int = 200, headers: dict | None = None):
    resp = current_app.response_class(json.dumps(data, ensure_ascii=False, separators=(",", ":")), status=status,
                                      mimetype="application/json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def empty_response(status: int = 204, headers: dict | None = None):
    resp = current_app.response_class(b"", status=status)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def cors_origins(app) -> list[str]:
    raw = app.config.get("LMS_XAPI_CORS_ORIGINS", "*")
    if isinstance(raw, str):
        raw = [o.strip() for o in raw.split(",") if o.strip()]
    return list(raw or [])


def add_common_headers(response):
    """Version and CORS headers on every ``/xapi/`` response (errors included).

    The version answered is the family the request asked for. A request without a usable
    header (refused with 400 by both specifications, ``about`` excepted) is answered as 1.0.3,
    unless its header names a 2.x version. Both versions give the same answer (400), so either
    label is true; 1.0.3 is the one every 1.0.x client understands, and a client that omits the
    header is far likelier to be an old 1.0.x one. The error message lists the versions to send."""
    x = getattr(g, "xapi_request", None)
    family = x.version if x is not None and x.version else VERSION_1
    if request.headers.get("X-Experience-API-Version", "").startswith("2") and (x is None or x.version is None):
        family = VERSION_2
    response.headers["X-Experience-API-Version"] = ANSWERED_VERSION[family]
    origins = cors_origins(current_app)
    origin = request.headers.get("Origin")
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    if "Access-Control-Allow-Origin" in response.headers:
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def parse_bool(x: XRequest, name: str, default: bool = False) -> bool:
    value = x.args.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise XAPIValidationError(f"{name} must be true or false", path=name)


def check_params(x: XRequest, allowed: set[str]) -> None:
    """Communication 1.0.3: unknown parameters are refused (400)."""
    for key in x.args:
        if key not in allowed:
            raise XAPIValidationError(f"unknown parameter {key}", path=key)
