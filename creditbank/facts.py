"""Evidence from learning-record facts: a completed or passed activity, from any xAPI source.

An outcome whose ``match_key`` is ``activity:<IRI>`` is achieved when a statement about that
activity with the verb ``completed`` or ``passed`` (and no ``success: false``) is stored for a
user, by the platform, launched content or a registered system -- never by a learner's own
device. The fact's scaled score (0..1) becomes the achievement's score (0..100). This is how
outcomes of content made elsewhere (a Moodle or Open edX posting statements) reach the credit bank.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db
from lms.xapi import vocab

#: Verbs that achieve an activity.
ACHIEVING_VERBS = (vocab.VERB_COMPLETED, vocab.VERB_PASSED)
#: Sources trusted to prove an outcome (see :mod:`lms.records.provenance`).
TRUSTED_SOURCES = ("platform", "launch", "system")


def evidence_of_statements(statement_ids) -> list[tuple[int, dict]]:
    """``[(user id, evidence)]`` for the achieving facts among ``statement_ids``."""
    import uuid

    from lms.records.identity import users_for_keys
    from lms.records.models import StatementFact

    ids = []
    for sid in statement_ids or ():
        try:
            ids.append(uuid.UUID(str(sid)))
        except ValueError:
            continue
    if not ids:
        return []
    facts = db.session.scalars(sa.select(StatementFact).where(
        StatementFact.statement_id.in_(ids), StatementFact.voided.is_(False),
        StatementFact.verb.in_(ACHIEVING_VERBS), StatementFact.object_iri.is_not(None),
        StatementFact.source_kind.in_(TRUSTED_SOURCES), sa.not_(StatementFact.success.is_(False)))).all()
    users = users_for_keys([f.learner_key for f in facts if f.learner_key])
    out = []
    for fact in facts:
        user_id = users.get(fact.learner_key)
        if user_id is None:
            continue
        out.append((user_id, {
            "source_kind": "statement", "source_ref": f"statement:{fact.statement_id}",
            "keys": [f"activity:{fact.object_iri}"[:200]],
            "score": None if fact.score is None else round(fact.score * 100, 2),
            "achieved_at": fact.occurred_at.isoformat(),
            "details": {"verb": fact.verb, "source": fact.source_label}}))
    return out
