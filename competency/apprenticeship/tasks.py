"""Celery tasks of apprenticeship: the statement-driven recompute and the daily due-date pass."""
from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="competency.apprenticeship_statements")
def process_statements_task(statement_ids: list[str], voided_ids: list[str] | None = None) -> dict:
    """Reduce stored statements to evidence and recompute the milestones of the apprentices concerned."""
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    result = ops.process_statements(statement_ids, voided_ids or [])
    db.session.commit()
    ops.send_mails(result.mails)
    return {"changed": result.changed, "done": result.done}


@shared_task(name="competency.apprenticeship_due_check")
def due_check_task(today: str | None = None) -> dict:
    """Daily: due dates pass, so milestones turn at risk or overdue (``today`` as ISO date for tests)."""
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    day = dt.date.fromisoformat(today) if today else None
    result = ops.due_check(day)
    db.session.commit()
    ops.send_mails(result.mails)
    return {"changed": result.changed, "done": result.done}


@shared_task(name="competency.apprenticeship_recompute")
def recompute_task(apprentice_ids: list[int], today: str | None = None) -> dict:
    """Recompute the given apprentices (after a template change or on demand)."""
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    result = ops.recompute(apprentice_ids, today=dt.date.fromisoformat(today) if today else None)
    db.session.commit()
    ops.send_mails(result.mails)
    return {"changed": result.changed, "done": result.done}


@shared_task(name="competency.apprenticeship_identity_linked")
def identity_linked_task(user_id: int, keys: list[str]) -> dict:
    """Learner keys were linked to a user: if they are an apprentice, reduce those keys' statements
    to their facts and recompute their milestones (their study time follows the link by itself)."""
    from competency.apprenticeship import evidence
    from competency.apprenticeship import operations as ops
    from lms.accounts.models import User
    from lms.core.db import db

    user = db.session.get(User, user_id)
    ids = ops.apprentices_for_users([user_id]) if user is not None else []
    if not ids:
        return {"changed": 0, "done": 0}
    evidence.backfill(user, keys=list(keys or []))
    result = ops.recompute(ids)
    db.session.commit()
    ops.send_mails(result.mails)
    return {"changed": result.changed, "done": result.done}
