"""About resource (Communication 2.8): the versions the LRS speaks. No credentials needed."""
from __future__ import annotations

from lms.xapi.http import XRequest, check_params, json_response
from lms.xapi.validation import SUPPORTED_VERSIONS

METHODS = ("GET", "HEAD")


def handle(x: XRequest):
    check_params(x, set())
    return json_response({"version": list(SUPPORTED_VERSIONS), "extensions": {}})
