"""State resource (Communication 2.3): documents per activity, agent and (optional) registration."""
from __future__ import annotations

from lms.xapi.documents import DocumentScope, Precondition
from lms.xapi.http import XRequest, check_params
from lms.xapi.resources.common import (check_own_agent, check_own_registration, parse_activity_id, parse_agent,
                                      parse_uuid_param)
from lms.xapi.resources.document_base import handle_documents

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


def handle(x: XRequest):
    if x.method in ("GET", "HEAD"):
        x.require("state", "all/read")
    else:
        x.require("state")
    check_params(x, {"activityId", "agent", "registration", "stateId", "since"})
    activity = parse_activity_id(x)
    agent = parse_agent(x, "agent", required=True, groups=x.v2)
    check_own_agent(x, agent)
    registration = parse_uuid_param(x, "registration")
    check_own_registration(x, registration)
    scope = DocumentScope("state", activity_iri=activity, agent=agent, registration=registration)
    return handle_documents(x, scope, "stateId", delete_many=True,
                            precondition=Precondition.EXISTING if x.v2 else Precondition.NONE)
