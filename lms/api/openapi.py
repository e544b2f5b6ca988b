"""Builds the OpenAPI 3.1 document from the app's URL map: every rule under ``/api/v1/``."""
from __future__ import annotations

import re

from flask import current_app

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")
_TYPES = {"int": "integer", "float": "number", None: "string", "string": "string", "path": "string",
          "uuid": "string"}


def build_document(app=None) -> dict:
    app = app or current_app
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        extra = getattr(view, "openapi", {}) or {}
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        params = [
            {"name": m.group("name"), "in": "path", "required": True,
             "schema": {"type": _TYPES.get(m.group("conv"), "string")}}
            for m in _CONVERTER.finditer(rule.rule)
        ]
        for name, spec in (extra.get("params") or {}).items():
            params.append({"name": name, "in": "query", "required": False,
                           "schema": {"type": spec if isinstance(spec, str) else "string"}})
        docstring = (view.__doc__ or "").strip()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": extra.get("summary") or (docstring.splitlines()[0] if docstring else rule.endpoint),
                "tags": extra.get("tags") or [rule.endpoint.split(".")[0]],
                "parameters": params,
                "responses": {
                    "200": {"description": "OK", **({"content": {"application/json": {"schema": extra["response_schema"]}}}
                                                    if extra.get("response_schema") else {})},
                    "default": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            if extra.get("description"):
                op["description"] = extra["description"]
            if extra.get("request_schema") and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"content": {"application/json": {"schema": extra["request_schema"]}}}
            if rule.endpoint != "api.openapi":
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vocational LMS API", "version": "1.0.0",
                 "description": "JSON API of the platform. Errors share one shape: "
                                "{error: {code, message}}. Authenticate with a personal API token."},
        "servers": [{"url": app.config["LMS_PUBLIC_URL"]}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}}}}},
        },
    }
