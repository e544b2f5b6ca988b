"""Activity Profile resource (Communication 2.7): documents about an activity."""
from __future__ import annotations

from lms.xapi.documents import DocumentScope, Precondition
from lms.xapi.http import XRequest, check_params
from lms.xapi.resources.common import check_own_activity, parse_activity_id
from lms.xapi.resources.document_base import handle_documents

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


def handle(x: XRequest):
    if x.method in ("GET", "HEAD"):
        x.require("profile", "all/read")
    else:
        x.require("profile")
    check_params(x, {"activityId", "profileId", "since"})
    activity = parse_activity_id(x)
    if x.method not in ("GET", "HEAD"):
        check_own_activity(x, activity)
    scope = DocumentScope("activity_profile", activity_iri=activity)
    return handle_documents(x, scope, "profileId", delete_many=False,
                            precondition=Precondition.EXISTING if x.v2 else Precondition.ALWAYS)
