"""Celery tasks of the credit bank (ids and plain values in, one commit)."""
from __future__ import annotations

from celery import shared_task

from lms.core.db import db


@shared_task(name="creditbank.record_and_evaluate")
def record_and_evaluate(user_id: int, evidence: dict) -> int:
    """Record the achievements ``evidence`` proves for the user, then evaluate the user's credits."""
    from creditbank.operations.evaluation import evaluate_user, record_evidence
    from lms.accounts.models import User

    if db.session.get(User, user_id) is None:
        return 0
    try:
        record_evidence(user_id, evidence)
        written = evaluate_user(user_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(written)


@shared_task(name="creditbank.evaluate")
def evaluate(user_id: int) -> int:
    """Re-evaluate one worker (after an identity link, an approval, a rule approval)."""
    from creditbank.operations.evaluation import evaluate_user
    from lms.accounts.models import User

    if db.session.get(User, user_id) is None:
        return 0
    try:
        written = evaluate_user(user_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(written)
