"""The "statement stored" signal, sent only once the storing transaction has committed.

Storing code calls :func:`after_commit` with the ids it stored; the ids wait in
``session.info`` until the session's outermost transaction ends. On commit the signal
:data:`lms.core.extension_points.statement_stored` is sent; on rollback the ids are dropped.
Limitation: statements stored inside a SAVEPOINT that is later rolled back while the outer
transaction commits would still be announced (nothing in the platform does that).
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session

from lms.core.extension_points import statement_stored

log = logging.getLogger("lms.xapi")

_IDS = "xapi_stored_ids"
_VOIDED = "xapi_voided_ids"


def after_commit(session, statement_ids, voided_ids=()) -> None:
    """Announce ``statement_ids`` (and the ``voided_ids`` they voided) once ``session`` commits."""
    session.info.setdefault(_IDS, []).extend(str(i) for i in statement_ids)
    session.info.setdefault(_VOIDED, []).extend(str(i) for i in voided_ids)


def pending(session) -> list[str]:
    """Ids stored in the current transaction and not announced yet."""
    return list(session.info.get(_IDS, ()))


@sa.event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    if session.in_nested_transaction():
        # SQLAlchemy also calls after_commit when a SAVEPOINT is released: not a commit yet.
        return
    ids = session.info.pop(_IDS, None)
    voided = session.info.pop(_VOIDED, None)
    if not ids and not voided:
        return
    if not has_app_context():  # pragma: no cover - sessions of this class live in app contexts
        return
    app = current_app._get_current_object()
    try:
        statement_stored.send(app, statement_ids=ids or [], voided_ids=voided or [])
    except Exception:
        # The statements are committed: a failing receiver must not turn that into an error.
        log.exception("a statement_stored receiver failed")
        if app.config.get("TESTING"):
            raise


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session, transaction):
    # After a commit the ids were already popped by _send_after_commit; anything left when the
    # outermost transaction ends belongs to a rollback (or a close without commit).
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_IDS, None)
        session.info.pop(_VOIDED, None)
