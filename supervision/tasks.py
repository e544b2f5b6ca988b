"""Celery tasks and the receivers that keep the indicators up to date (they take ids, commit once)."""
from __future__ import annotations

from celery import shared_task

from lms.core.db import db


@shared_task(name="supervision.refresh_users")
def refresh_users(user_ids: list[int]) -> int:
    """Refresh the outcomes and indicators of every counted class of these users."""
    from supervision.operations import indicators

    done = indicators.refresh_users(user_ids)
    db.session.commit()
    return done


@shared_task(name="supervision.refresh_from_statements")
def refresh_from_statements(statement_ids: list[str]) -> int:
    """Statements stored (from the platform or any other system): refresh their learners."""
    import uuid

    import sqlalchemy as sa

    from lms.records.identity import users_for_keys
    from lms.records.models import StatementFact
    from supervision.operations import indicators

    ids = [uuid.UUID(str(i)) for i in statement_ids]
    keys: set[str] = set()
    for i in range(0, len(ids), 500):
        keys.update(k for k in db.session.scalars(sa.select(StatementFact.learner_key).where(
            StatementFact.statement_id.in_(ids[i:i + 500]), StatementFact.completion.is_(True))) if k)
    if not keys:
        return 0
    done = indicators.refresh_users(users_for_keys(keys).values())
    db.session.commit()
    return done


@shared_task(name="supervision.recompute")
def recompute() -> dict:
    """Recompute every class's indicators from the sources (nightly, and ``flask supervision recompute``)."""
    from supervision.operations import audit, indicators

    out = indicators.recompute_all()
    audit.log(None, "indicators.recomputed", "class", summary=f"{out['classes']} / {out['mismatches']}", **out)
    db.session.commit()
    return out


def on_learner_event(sender, **_kw) -> None:
    """Receiver of course, level and certificate events: the sender carries ``user_id``."""
    user_id = getattr(sender, "user_id", None)
    if user_id is not None:
        refresh_users.delay([int(user_id)])


def on_statement_stored(sender, statement_ids=(), **_kw) -> None:
    """Receiver of ``statement_stored``: completions and passes reported by any system count."""
    if statement_ids:
        refresh_from_statements.delay([str(i) for i in statement_ids])
