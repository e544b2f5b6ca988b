"""Agent Profile resource (Communication 2.6): documents about an agent."""
from __future__ import annotations

from lms.xapi.documents import DocumentScope, Precondition
from lms.xapi.http import XRequest, check_params
from lms.xapi.resources.common import check_own_agent, parse_agent
from lms.xapi.resources.document_base import handle_documents

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


def handle(x: XRequest):
    if x.method in ("GET", "HEAD"):
        x.require("profile", "all/read")
    else:
        x.require("profile")
    check_params(x, {"agent", "profileId", "since"})
    agent = parse_agent(x, "agent", required=True, groups=x.v2)
    check_own_agent(x, agent)
    scope = DocumentScope("agent_profile", agent=agent)
    return handle_documents(x, scope, "profileId", delete_many=False,
                            precondition=Precondition.EXISTING if x.v2 else Precondition.ALWAYS)
