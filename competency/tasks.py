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


def on_user_registered(user, **_kw) -> None:
    """A new account claims the evidence kept under its e-mail address (same transaction)."""
    from competency.operations.engine import claim_actor_evidence

    claim_actor_evidence(user)
