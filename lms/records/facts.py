"""Facts: one :class:`~lms.records.models.StatementFact` row per stored statement.

Written by :func:`lms.xapi.storage.store_statements` in the statement's own transaction (so a
fact exists exactly when its statement does), marked voided when its statement is voided. Every
reader -- study time, competency evidence, apprenticeship milestones, reports -- reads these
rows; nothing else in the platform reduces statements.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from lms.core.db import db
from lms.records import durations, scores
from lms.records.identity import key_hash, learner_key
from lms.records.provenance import PLATFORM, SYSTEM, TRUST_STANDARD, Source
from lms.xapi import vocab

#: The source of statements stored without one (an outside client whose standing is not known).
UNKNOWN_SOURCE = Source(SYSTEM, trust_level=TRUST_STANDARD)
#: cmi5: the session a statement belongs to.
EXT_CMI5_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
#: Verbs whose duration is time spent since the previous one (never overlapping).
INCREMENT_VERBS = frozenset({vocab.VERB_PROGRESSED, vocab.VERB_TERMINATED, vocab.VERB_PASSED, vocab.VERB_FAILED})
#: Verbs whose duration repeats a total (counted only for what it adds beyond the increments).
TOTAL_VERBS = frozenset({vocab.VERB_COMPLETED})


def time_class(verb: str, session: str | None, source: Source, seconds: float) -> str:
    """How a statement's duration counts as study time (see :mod:`lms.records.study_time`)."""
    if seconds <= 0:
        return "none"
    if session:
        return "session"
    if verb in INCREMENT_VERBS:
        return "increment"
    if verb in TOTAL_VERBS and source.kind != PLATFORM:
        # The platform's own "completed" statements repeat time it already recorded as increments.
        return "total"
    return "none"


def fact_row(full: dict, *, occurred_at, source: Source, voided: bool = False) -> dict:
    """The fact row (as a dict) of one statement as stored."""
    actor = full.get("actor")
    key = learner_key(actor)
    obj = full.get("object") if isinstance(full.get("object"), dict) else {}
    is_activity = obj.get("objectType", "Activity") == "Activity"
    iri = obj.get("id") if is_activity and isinstance(obj.get("id"), str) else None
    definition = obj.get("definition") if is_activity and isinstance(obj.get("definition"), dict) else {}
    atype = definition.get("type") if isinstance(definition.get("type"), str) else None
    context = full.get("context") if isinstance(full.get("context"), dict) else {}
    result = full.get("result") if isinstance(full.get("result"), dict) else {}
    verb = (full.get("verb") or {}).get("id") or ""
    registration = context.get("registration")
    try:
        registration = uuid.UUID(str(registration)) if registration else None
    except ValueError:
        registration = None
    session = source.session
    if session is None:
        ext = context.get("extensions") if isinstance(context.get("extensions"), dict) else {}
        cmi5 = ext.get(EXT_CMI5_SESSION)
        session = f"cmi5:{cmi5}"[:100] if isinstance(cmi5, str) and cmi5 else None
    try:
        seconds = durations.parse_duration(result.get("duration")) if isinstance(result.get("duration"), str) else 0.0
    except ValueError:
        seconds = 0.0
    if source.max_session_seconds is not None:
        seconds = min(seconds, max(source.max_session_seconds, 0.0))
    success = result.get("success") if isinstance(result.get("success"), bool) else None
    completion = result.get("completion") if isinstance(result.get("completion"), bool) else None
    if verb == vocab.VERB_PASSED:
        success = True if success is None else success
    elif verb == vocab.VERB_FAILED:
        success = False if success is None else success
    if verb in (vocab.VERB_COMPLETED, vocab.VERB_PASSED) and completion is None:
        completion = True
    return {
        "statement_id": uuid.UUID(str(full["id"])), "learner_key": key,
        "learner_hash": key_hash(key) if key else None, "verb": verb, "object_iri": iri,
        "object_hash": key_hash(iri) if iri else None, "activity_type": atype, "registration": registration,
        "session": session, "score": scores.result_scaled(result), "success": success, "completion": completion,
        "duration": seconds, "time_class": time_class(verb, session, source, seconds), "occurred_at": occurred_at,
        "source_kind": source.kind, "source_policy": source.policy_kind, "source_client_id": source.client_id,
        "source_label": (source.label or "")[:200], "voided": voided,
    }


def write(prepared, source: Source | None, voided_ids=()) -> None:
    """Write the facts of newly stored statements (``PreparedStatement`` objects); flush only."""
    from lms.records.models import StatementFact

    # Statements stored without a known source came from an outside client of unknown standing.
    source = source or UNKNOWN_SOURCE
    voided = {uuid.UUID(str(v)) for v in voided_ids}
    rows = [fact_row(p.full, occurred_at=p.timestamp, source=source, voided=p.id in voided) for p in prepared]
    if rows:
        db.session.execute(StatementFact.__table__.insert(), rows)


def mark_voided(statement_ids) -> None:
    """Mark the facts of voided statements (flush only)."""
    from lms.records.models import StatementFact

    ids = [uuid.UUID(str(i)) for i in statement_ids]
    for i in range(0, len(ids), 500):
        db.session.execute(sa.update(StatementFact).where(StatementFact.statement_id.in_(ids[i:i + 500]))
                           .values(voided=True))


def sources_of(statement_ids) -> dict[str, tuple[str, str]]:
    """``{statement id: (source policy key, source label)}`` for stored statements."""
    from lms.records.models import StatementFact

    ids = [uuid.UUID(str(i)) for i in statement_ids]
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(ids), 500):
        for sid, policy, label in db.session.execute(
                sa.select(StatementFact.statement_id, StatementFact.source_policy, StatementFact.source_label)
                .where(StatementFact.statement_id.in_(ids[i:i + 500]))):
            out[str(sid)] = (policy, label)
    return out


def statement_ids_of_keys(keys, *, include_voided: bool = False) -> list[str]:
    """Ids of the statements whose actor has one of these learner keys, in time order (any case
    of mbox, homePage with or without trailing slash: the keys are normalised)."""
    from lms.records.models import StatementFact

    hashes = [key_hash(k) for k in dict.fromkeys(keys) if k]
    out: list[tuple] = []
    for i in range(0, len(hashes), 500):
        stmt = sa.select(StatementFact.statement_id, StatementFact.occurred_at).where(
            StatementFact.learner_hash.in_(hashes[i:i + 500]))
        if not include_voided:
            stmt = stmt.where(StatementFact.voided.is_(False))
        out += list(db.session.execute(stmt))
    out.sort(key=lambda r: (r[1], str(r[0])))
    return [str(r[0]) for r in out]
