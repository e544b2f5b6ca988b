"""Celery tasks of statement forwarding (see :mod:`lms.xapi.forwarding`)."""
from __future__ import annotations

import time

from celery import shared_task

from lms.core.db import db

#: Task name of the delivery run (also scheduled by beat).
DELIVER_TASK = "lms.xapi.forward_deliver"


@shared_task(name=DELIVER_TASK)
def forward_deliver(destination: str | None = None, ignore_pause: bool = False,
                    time_budget: float | None = None) -> dict:
    """Send every due outbox row (of one destination, or of all); returns the counts."""
    from lms.xapi import forwarding

    report = forwarding.deliver(destination, ignore_pause=ignore_pause, time_budget=time_budget)
    db.session.commit()
    return report.as_dict()


#: With a broker, a process enqueues at most one delivery run per this many seconds: a run keeps
#: sending while rows are due (up to ``LMS_XAPI_FORWARD_TASK_SECONDS``), so a burst of ingestion
#: needs one run, not one task per request.
KICK_INTERVAL = 1.0
_last_kick = {"at": -1e9}


def on_statement_stored(app, statement_ids=(), voided_ids=(), **_kw) -> None:
    """After a commit that stored statements: start a delivery run if anything may be queued.

    The outbox rows themselves were written in the statements' transaction; this only makes
    delivery prompt (the beat entry would find them within ``LMS_XAPI_FORWARD_INTERVAL`` anyway).
    """
    from lms.xapi import forwarding

    if not statement_ids or not forwarding.destinations(app):
        return
    # Without a broker the task runs inline, inside the request that stored the statements:
    # keep that run short and leave a large backlog to the periodic task.
    eager = app.config["CELERY"].get("task_always_eager")
    if not eager:
        now = time.monotonic()
        if now - _last_kick["at"] < KICK_INTERVAL:
            return
        _last_kick["at"] = now
    try:
        forward_deliver.delay(time_budget=2.0 if eager else None)
    except Exception:  # a broker hiccup must not fail the request that stored the statements
        app.logger.exception("could not enqueue xAPI forwarding; the periodic task will send them")
