"""Celery tasks of the competency plugin (they take ids and commit once)."""
from __future__ import annotations

import logging

from celery import shared_task

from lms.core.db import db

log = logging.getLogger(__name__)


@shared_task(name="competency.process_statements")
def process_statements(statement_ids: list[str], voided_ids: list[str] | None = None) -> dict:
    """Apply newly stored statements (and voidings) to evidence and state."""
    from competency.operations.engine import apply_statements
    from lms.xapi.store import load_statements

    try:
        out = apply_statements(load_statements(list(statement_ids or [])), voided_ids or [])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"evidence_added": out.evidence_added, "evidence_retracted": out.evidence_retracted,
            "unit_changes": out.unit_changes, "level_changes": out.level_changes}


@shared_task(name="competency.recompute_learner")
def recompute_learner(learner_key: str) -> None:
    from competency.operations.engine import recompute_learner as run

    run(learner_key)
    db.session.commit()


@shared_task(name="competency.recompute_framework")
def recompute_framework(framework_id: int, requested_by_id: int | None = None) -> dict:
    """Rebuild one framework's evidence and state from every stored statement (after rule changes).

    Takes ids (the framework's and the requesting user's, for the log) and commits once.
    """
    from competency.operations.engine import recompute_framework as run

    try:
        learners = run(int(framework_id))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("recomputed framework %s for %s learner(s) (requested by user %s)", framework_id, learners,
             requested_by_id)
    return {"framework_id": int(framework_id), "learners": learners}


def on_statement_stored(sender, statement_ids=(), voided_ids=(), **_kw) -> None:
    """Receiver of ``statement_stored``: enqueue the engine with the ids and return."""
    if not statement_ids and not voided_ids:
        return
    process_statements.delay([str(i) for i in statement_ids], [str(i) for i in voided_ids or ()])


@shared_task(name="competency.claim_identities")
def claim_identities(user_id: int, keys: list[str]) -> int:
    """Move the evidence kept under newly linked learner keys to the account, re-evaluate it."""
    from competency.operations.engine import claim_identities as run
    from lms.accounts.models import User

    user = db.session.get(User, user_id)
    if user is None:
        return 0
    try:
        moved = run(user, list(keys or []))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return moved


def on_identity_linked(user, keys=(), **_kw) -> None:
    """Receiver of ``identity_linked`` (sent after the link's commit): an account claims the
    evidence of an identity only once it is verified or linked -- never on registration."""
    if keys:
        claim_identities.delay(user.id, [str(k) for k in keys])
