"""Voiding a stored statement on an administrator's decision (the statement browser).

DESIGN 8: only the authority that stored a statement, or an administrator, may void it. LRS
clients void their own statements through ``/xapi/statements`` (checked in
:mod:`lms.xapi.storage`); the platform's code voids its own through the recorder. An
administrator voids any statement here: a voiding statement whose actor is the administrator,
whose authority is the platform's, with the reason in ``result.response``. Flushes only; the
caller commits.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from lms.core.db import db
from lms.records.provenance import PLATFORM_SOURCE
from lms.xapi import vocab
from lms.xapi.errors import XAPINotFound, XAPIValidationError
from lms.xapi.models import Statement

__all__ = ["REASON_MAX", "void_statement"]

#: Longest reason kept (characters).
REASON_MAX = 500


def void_statement(target_id: uuid.UUID, *, reason: str, by) -> str | None:
    """Void statement ``target_id`` for system administrator ``by``, giving ``reason``.

    Returns the voiding statement's id, or ``None`` when the statement is voided already (a
    second click, or two administrators at once: the target row is locked on PostgreSQL, so only
    one voiding statement is stored). Raises ``XAPINotFound`` for an unknown statement and
    ``XAPIValidationError`` for a voiding statement (Data 2.3.2: it cannot be voided), an empty
    or too long reason, or a caller who is not a system administrator.
    """
    from lms.xapi.recorder import actor_for, platform_authority
    from lms.xapi.storage import store_statements

    if not getattr(by, "is_system_admin", False):
        raise XAPIValidationError("only a system administrator may void any statement", path="by")
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX or any(ord(ch) < 32 for ch in reason):
        raise XAPIValidationError(f"give a reason of at most {REASON_MAX} characters, on one line", path="reason")
    target = db.session.execute(sa.select(Statement.id, Statement.voided, Statement.voids_id)
                                .where(Statement.id == target_id).with_for_update()).first()
    if target is None:
        raise XAPINotFound(f"no statement with id {target_id}")
    if target.voids_id is not None:
        raise XAPIValidationError("a voiding statement cannot be voided", path="object.id")
    if target.voided:
        return None
    voiding = {"actor": actor_for(by), "verb": vocab.VERBS[vocab.VERB_VOIDED],
               "object": {"objectType": "StatementRef", "id": str(target_id)},
               "result": {"response": reason}}
    result = store_statements([voiding], version="1.0.3", authority=platform_authority(), may_define=True,
                              source=PLATFORM_SOURCE, may_void_any=True)
    return result.ids[0]
