"""Domain events sent after commit.

Operations only flush; the request, task or CLI boundary commits. An operation that wants to
announce a domain event (``level_awarded``, ``certificate_issued``...) calls
:func:`send_after_commit` with one of the signals of :mod:`lms.core.extension_points`: the event
waits in ``session.info`` and is sent once the outermost transaction commits; a rollback drops it.
Receivers therefore never see an event for a change that did not happen.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session

from lms.core.db import db

log = logging.getLogger("lms.events")

_KEY = "lms_pending_events"


def send_after_commit(signal, sender, /, **kwargs) -> None:
    """Queue ``signal.send(sender, **kwargs)`` until the current transaction commits."""
    db.session.info.setdefault(_KEY, []).append((signal, sender, kwargs))


def call_after_commit(fn, /, *args, **kwargs) -> None:
    """Queue ``fn(*args, **kwargs)`` (sending a mail, an SMS) until the current transaction commits;
    a rollback drops it."""
    db.session.info.setdefault(_KEY, []).append((None, fn, {"args": args, "kwargs": kwargs}))


def queued_call(fn, session=None) -> tuple | None:
    """The positional arguments of ``fn`` as queued by :func:`call_after_commit` in the current
    transaction (to add to them, e.g. one "statement stored" announcement per transaction), or None."""
    for signal, target, payload in (session or db.session).info.get(_KEY, ()):
        if signal is None and target is fn:
            return payload["args"]
    return None


def pending_events() -> list[tuple]:
    """Events queued in the current transaction (tests use it to check what will be sent)."""
    return list(db.session.info.get(_KEY, ()))


_READY = "lms_committed_events"


@sa.event.listens_for(Session, "after_commit")
def _committed(session):
    if session.in_nested_transaction():
        # SQLAlchemy also calls after_commit when a SAVEPOINT is released: not a commit yet.
        return
    # Inside after_commit the session may not emit SQL, and receivers read their sender (lazy
    # attributes): hand the events over to after_transaction_end, when the session is usable again.
    events = session.info.pop(_KEY, None)
    if events:
        session.info.setdefault(_READY, []).extend(events)


@sa.event.listens_for(Session, "after_transaction_end")
def _send_or_forget(session, transaction):
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_KEY, None)  # left only by a rollback (or a close without commit)
    events = session.info.pop(_READY, None)
    if not events or not has_app_context():
        return
    app = current_app._get_current_object()
    for signal, sender, kwargs in events:
        try:
            if signal is None:
                sender(*kwargs["args"], **kwargs["kwargs"])
            else:
                signal.send(sender, **kwargs)
        except Exception:
            # The change is committed: a failing receiver must not turn it into an error.
            log.exception("a receiver of %s failed", getattr(signal, "name", getattr(sender, "__name__", sender)))
            if app.config.get("TESTING"):
                raise
