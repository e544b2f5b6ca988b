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


def _record_all(pairs) -> int:
    from creditbank.operations.evaluation import evaluate_user, record_evidence

    users = []
    try:
        for user_id, evidence in pairs:
            record_evidence(user_id, evidence)
            users.append(user_id)
        written = sum(len(evaluate_user(u)) for u in dict.fromkeys(users))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return written


@shared_task(name="creditbank.process_statements")
def process_statements(statement_ids: list[str]) -> int:
    """Record the outcomes that newly stored statements achieve (``activity:<IRI>`` keys)."""
    from creditbank.facts import evidence_of_statements

    return _record_all(evidence_of_statements(statement_ids))


@shared_task(name="creditbank.process_linked_keys")
def process_linked_keys(user_id: int, keys: list[str]) -> int:
    """After an identity link: the statements stored under those keys, then a re-evaluation."""
    from creditbank.facts import evidence_of_statements
    from lms.records.facts import statement_ids_of_keys

    pairs = evidence_of_statements(statement_ids_of_keys(list(keys or []))) if keys else []
    if not pairs:
        return evaluate(user_id)
    return _record_all(pairs)


@shared_task(name="creditbank.withdraw")
def withdraw(source_kind: str, source_refs: list[str], reason: str) -> int:
    """Withdraw the achievements of sources that lost their basis; reverse their credits."""
    from creditbank.operations.evaluation import withdraw_evidence

    try:
        reversed_rows = withdraw_evidence(source_kind, source_refs, reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(reversed_rows)
