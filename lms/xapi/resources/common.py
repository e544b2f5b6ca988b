"""Parameter parsing shared by the resources."""
from __future__ import annotations

import uuid

from lms.core import jsonbody
from lms.xapi.errors import XAPIForbidden, XAPIValidationError
from lms.xapi.http import XRequest
from lms.xapi.identifiers import ifi_of, parse_timestamp
from lms.xapi.validation import validate_activity_id, validate_actor, validate_agent, validate_uuid


def parse_agent(x: XRequest, name: str = "agent", *, required: bool = True, groups: bool = False) -> dict | None:
    raw = x.args.get(name)
    if raw is None:
        if required:
            raise XAPIValidationError(f"{name} is required", path=name)
        return None
    try:
        agent = jsonbody.loads(raw)
    except jsonbody.JSONBodyError as exc:
        raise XAPIValidationError(f"{name} is not accepted: {exc}", path=name) from None
    if groups:
        validate_actor(agent, x.version, name)
    else:
        validate_agent(agent, x.version, name)
    if ifi_of(agent) is None:
        raise XAPIValidationError(f"{name} must be identified (an anonymous group matches nothing)", path=name)
    return agent


def parse_activity_id(x: XRequest, name: str = "activityId", *, required: bool = True) -> str | None:
    iri = x.args.get(name)
    if iri is None:
        if required:
            raise XAPIValidationError(f"{name} is required", path=name)
        return None
    validate_activity_id(iri, name)
    return iri


def parse_uuid_param(x: XRequest, name: str) -> uuid.UUID | None:
    raw = x.args.get(name)
    if raw is None:
        return None
    validate_uuid(raw, name)
    return uuid.UUID(raw)


def parse_since(x: XRequest, name: str = "since"):
    raw = x.args.get(name)
    return parse_timestamp(raw, name) if raw is not None else None


def require_document_id(x: XRequest, name: str) -> str:
    value = x.args.get(name)
    if value is None or value == "":
        raise XAPIValidationError(f"{name} is required", path=name)
    return value


def check_own_agent(x: XRequest, agent: dict | None) -> None:
    """Launch credentials may only touch the documents of their own learner."""
    if x.client is not None and x.client.actor is not None and agent is not None:
        if ifi_of(agent) != x.client.actor_ifi:
            raise XAPIForbidden("these credentials are limited to their own learner's documents")


def check_own_registration(x: XRequest, registration) -> None:
    """Launch credentials may only touch the state of their own registration."""
    if x.client is not None and x.client.actor is not None and x.client.registration and registration is not None:
        if str(registration).lower() != x.client.registration.lower():
            raise XAPIForbidden("these credentials are limited to their own registration")


def check_own_activity(x: XRequest, activity_iri: str | None) -> None:
    """Launch credentials may only change the profile of the activity they were launched for."""
    if x.client is not None and x.client.actor is not None and x.client.activity_iri:
        if activity_iri != x.client.activity_iri:
            raise XAPIForbidden("these credentials are limited to the activity they were launched for")
