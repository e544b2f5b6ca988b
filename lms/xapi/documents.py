"""Documents: state, activity profile and agent profile (Communication 2.3 - 2.7 of 1.0.3).

One table for the three kinds. A document is found by the SHA-1 of its full key (kind,
activity, agent, registration, document id). ETags are the quoted SHA-1 of the content.
``If-Match`` / ``If-None-Match`` are honoured on every kind (412 when they do not hold). How
much a PUT *without* either header is trusted depends on the resource and the version
(:class:`Precondition`, chosen by each resource module):

* 1.0.3 Communication 3.1 "Concurrency": a client MUST send one of them on a PUT to the activity
  or agent profile resource; without one, an existing document is a 409 and a new one a 400
  (as the ADL reference LRS answers). The state resource is exempt in 1.0.x, and tincan 1.0.0's
  ``save_state`` relies on that.
* IEEE 9274.1.1 (2.0.0) "Concurrency": the requirement covers every document resource, state
  included: a PUT without either header over an existing document is a 409 and changes nothing;
  a new document may be created without one.

POST merges JSON objects (top-level keys) and refuses anything else with 400.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from lms.core import jsonbody
from lms.core.db import db, utcnow
from lms.xapi.errors import XAPIConflict, XAPINotFound, XAPIPreconditionFailed, XAPIValidationError
from lms.xapi.identifiers import ifi_of, sha1
from lms.xapi.models import Document
from lms.xapi.shared_rows import ensure_activities, ensure_agents

KINDS = ("state", "activity_profile", "agent_profile")


class Precondition(enum.Enum):
    """What a PUT without ``If-Match`` / ``If-None-Match`` gets (see the module docstring)."""

    #: Nothing special: it creates or replaces (1.0.x state resource).
    NONE = "none"
    #: 409 over an existing document; creating a new one is fine (2.0.0, every document resource).
    EXISTING = "existing"
    #: 409 over an existing document, 400 for a new one (1.0.3 activity and agent profiles).
    ALWAYS = "always"


@dataclass(frozen=True)
class DocumentScope:
    """Where documents live: a kind plus the activity / agent / registration they belong to."""

    kind: str
    activity_iri: str | None = None
    agent: dict | None = None
    registration: uuid.UUID | None = None

    @property
    def agent_ifi(self) -> str | None:
        return ifi_of(self.agent) if self.agent else None

    def key(self, document_id: str) -> str:
        parts = [self.kind, self.activity_iri or "", self.agent_ifi or "",
                 str(self.registration) if self.registration else "", document_id]
        return sha1("\x1f".join(parts))

    def _pks(self, create: bool) -> tuple[int | None, int | None] | None:
        """(activity pk, agent pk); ``None`` when a needed row does not exist and ``create`` is false."""
        activity_pk = agent_pk = None
        if self.activity_iri is not None:
            if create:
                activity_pk = ensure_activities({self.activity_iri: None}, may_define=False)[self.activity_iri]
            else:
                from lms.xapi.models import Activity

                activity_pk = db.session.scalar(
                    sa.select(Activity.pk).where(Activity.iri_hash == sha1(self.activity_iri)))
                if activity_pk is None:
                    return None
        if self.agent is not None:
            ifi = self.agent_ifi
            if create:
                kind = "Group" if self.agent.get("objectType") == "Group" else "Agent"
                agent_pk = ensure_agents({ifi: (kind, self.agent.get("name"))})[ifi]
            else:
                from lms.xapi.models import Agent

                agent_pk = db.session.scalar(sa.select(Agent.pk).where(Agent.ifi_hash == sha1(ifi)))
                if agent_pk is None:
                    return None
        return activity_pk, agent_pk


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def _etag_list(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def check_preconditions(existing: Document | None, if_match: str | None, if_none_match: str | None) -> None:
    """412 when ``If-Match`` / ``If-None-Match`` do not hold for ``existing`` (or its absence)."""
    if if_match is not None:
        tags = _etag_list(if_match)
        if existing is None or ("*" not in tags and existing.etag not in tags):
            raise XAPIPreconditionFailed("If-Match does not match the document's current ETag")
    if if_none_match is not None and existing is not None:
        tags = _etag_list(if_none_match)
        if "*" in tags or existing.etag in tags:
            raise XAPIPreconditionFailed("If-None-Match: the document exists (or has that ETag)")


def get(scope: DocumentScope, document_id: str) -> Document | None:
    return db.session.scalars(sa.select(Document).where(Document.key_hash == scope.key(document_id))).first()


def _is_json(content_type: str) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == "application/json"


def put(scope: DocumentScope, document_id: str, content: bytes, content_type: str, *,
        if_match: str | None = None, if_none_match: str | None = None, merge: bool = False,
        precondition: Precondition = Precondition.NONE) -> Document:
    """Create or replace (``merge=False``) or merge into (``merge=True``, POST) a document."""
    existing = get(scope, document_id)
    check_preconditions(existing, if_match, if_none_match)
    if not merge and precondition is not Precondition.NONE and if_match is None and if_none_match is None:
        if existing is not None:
            raise XAPIConflict("this document exists: send If-Match with its ETag (or If-None-Match: *) "
                               "to change it")
        if precondition is Precondition.ALWAYS:
            raise XAPIValidationError("a PUT to this resource needs If-Match or If-None-Match "
                                      "(If-None-Match: * to create the document)", path="If-None-Match")
    content_type = (content_type or "application/octet-stream")[:255]
    if merge:
        if not _is_json(content_type):
            raise XAPIValidationError("POST merges JSON documents: the Content-Type must be application/json",
                                      path="Content-Type")
        new = _json_object(content, "the posted document")
        if existing is not None:
            if not _is_json(existing.content_type):
                raise XAPIValidationError("the stored document is not JSON, so it cannot be merged; use PUT",
                                          path="Content-Type")
            old = _json_object(existing.content, "the stored document")
            old.update(new)
            content = json.dumps(old, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    now = utcnow()
    if existing is None:
        pks = scope._pks(create=True)
        doc = Document(kind=scope.kind, key_hash=scope.key(document_id), activity_pk=pks[0], agent_pk=pks[1],
                       registration=scope.registration, document_id=document_id, content=content,
                       content_type=content_type, etag=etag_of(content), updated_at=now)
        db.session.add(doc)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except sa.exc.IntegrityError:
            raise XAPIConflict("the document was created concurrently; retry with its ETag") from None
        return doc
    existing.content = content
    existing.content_type = content_type
    existing.etag = etag_of(content)
    existing.updated_at = now
    db.session.flush()
    return existing


def _json_object(content: bytes, what: str) -> dict:
    try:
        value = jsonbody.loads(content)
    except jsonbody.JSONBodyError as exc:
        raise XAPIValidationError(f"{what} is not accepted: {exc}", path=None) from None
    if not isinstance(value, dict):
        raise XAPIValidationError(f"{what} is not a JSON object, so it cannot be merged", path=None)
    return value


def ids(scope: DocumentScope, since: dt.datetime | None = None) -> list[str]:
    """The ids of the documents in ``scope`` (changed after ``since``)."""
    pks = scope._pks(create=False)
    if pks is None:
        return []
    stmt = sa.select(Document.document_id).where(Document.kind == scope.kind,
                                                 _eq(Document.activity_pk, pks[0]), _eq(Document.agent_pk, pks[1]))
    if scope.kind == "state":
        stmt = stmt.where(_eq(Document.registration, scope.registration))
    if since is not None:
        stmt = stmt.where(Document.updated_at > since)
    return list(db.session.scalars(stmt.order_by(Document.document_id)))


def _eq(column, value):
    return column.is_(None) if value is None else column == value


def delete(scope: DocumentScope, document_id: str, *, if_match: str | None = None,
           if_none_match: str | None = None) -> None:
    """Delete one document (404-free: deleting nothing is fine), honouring preconditions."""
    existing = get(scope, document_id)
    check_preconditions(existing, if_match, if_none_match)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()


def delete_all(scope: DocumentScope) -> int:
    """Delete every state document of an activity and agent (and registration, when given)."""
    pks = scope._pks(create=False)
    if pks is None:
        return 0
    stmt = sa.delete(Document).where(Document.kind == scope.kind, _eq(Document.activity_pk, pks[0]),
                                     _eq(Document.agent_pk, pks[1]))
    if scope.registration is not None:
        stmt = stmt.where(Document.registration == scope.registration)
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def require(doc: Document | None) -> Document:
    if doc is None:
        raise XAPINotFound("no such document")
    return doc
