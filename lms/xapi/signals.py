"""The "statement stored" signal, sent only once the storing transaction has committed.

Storing code calls :func:`after_commit` with the ids it stored; the ids of one transaction are
gathered into one announcement queued with :func:`lms.core.events.call_after_commit`, so the signal
:data:`lms.core.extension_points.statement_stored` is sent once after the outermost commit (never
for a released SAVEPOINT), and a rollback drops it. Limitation: statements stored inside a
SAVEPOINT that is later rolled back while the outer transaction commits would still be announced
(nothing in the platform does that).
"""
from __future__ import annotations

from flask import current_app

from lms.core.events import call_after_commit, queued_call
from lms.core.extension_points import statement_stored


def _announce(statement_ids: list[str], voided_ids: list[str]) -> None:
    statement_stored.send(current_app._get_current_object(), statement_ids=statement_ids, voided_ids=voided_ids)


def after_commit(session, statement_ids, voided_ids=()) -> None:
    """Announce ``statement_ids`` (and the ``voided_ids`` they voided) once ``session`` commits."""
    queued = queued_call(_announce, session)
    if queued is None:
        ids, voided = [], []
        call_after_commit(_announce, ids, voided)
    else:
        ids, voided = queued
    ids.extend(str(i) for i in statement_ids)
    voided.extend(str(i) for i in voided_ids)


def pending(session) -> list[str]:
    """Ids stored in the current transaction and not announced yet."""
    queued = queued_call(_announce, session)
    return list(queued[0]) if queued else []
