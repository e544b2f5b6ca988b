"""Agents resource (Communication 2.6): the Person object the LRS knows for an agent."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db
from lms.xapi.http import XRequest, check_params, json_response
from lms.xapi.identifiers import IFI_PROPERTIES, ifi_of, sha1
from lms.xapi.models import Agent
from lms.xapi.resources.common import parse_agent

METHODS = ("GET", "HEAD")
READ_SCOPES = ("all/read", "statements/read", "statements/read/mine", "profile", "state")


def handle(x: XRequest):
    x.require(*READ_SCOPES)
    check_params(x, {"agent"})
    agent = parse_agent(x, "agent", required=True)
    person: dict = {"objectType": "Person"}
    row = db.session.scalars(sa.select(Agent).where(Agent.ifi_hash == sha1(ifi_of(agent)))).first()
    names = [n for n in (agent.get("name"), row.name if row else None) if isinstance(n, str) and n]
    if names:
        person["name"] = list(dict.fromkeys(names))
    for key in IFI_PROPERTIES:
        if key in agent:
            person[key] = [agent[key]]
    return json_response(person)
