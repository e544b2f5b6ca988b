"""Activities resource (Communication 2.5): the canonical definition of one activity."""
from __future__ import annotations

from lms.xapi import store
from lms.xapi.http import XRequest, check_params, json_response
from lms.xapi.errors import XAPIValidationError
from lms.xapi.validation import validate_activity_id

METHODS = ("GET", "HEAD")
READ_SCOPES = ("all/read", "statements/read", "statements/read/mine", "define", "profile", "state")


def handle(x: XRequest):
    x.require(*READ_SCOPES)
    check_params(x, {"activityId"})
    iri = x.args.get("activityId")
    if iri is None:
        raise XAPIValidationError("activityId is required", path="activityId")
    validate_activity_id(iri, "activityId")
    # An activity the LRS has never seen is answered with its id only (no definition known).
    return json_response(store.get_activity(iri) or {"objectType": "Activity", "id": iri})
