"""Structured logging: one JSON object per line (or plain text), with the request id."""
from __future__ import annotations

import json
import re
import logging
import sys
import time
import uuid

from flask import g, has_request_context, request


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = getattr(g, "request_id", None)
            entry["path"] = request.path
            entry["method"] = request.method
        for key in ("event", "user_id", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def init_app(app) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LMS_LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("lms")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LMS_LOG_LEVEL"])
    root.propagate = False
    for name in ("courses", "competency"):
        logging.getLogger(name).handlers[:] = [handler]
        logging.getLogger(name).setLevel(app.config["LMS_LOG_LEVEL"])
        logging.getLogger(name).propagate = False

    @app.before_request
    def _request_id():
        # A proxy's request id is kept only when it is short and plain, so it cannot forge log lines.
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]

    @app.after_request
    def _echo_request_id(response):
        if has_request_context() and getattr(g, "request_id", None):
            response.headers["X-Request-ID"] = g.request_id
        return response
