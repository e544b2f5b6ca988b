"""Celery tasks of the LRS core."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from celery import shared_task

from lms.core.db import db, utcnow

#: Task name of the daily clean-up of expired launch credentials.
PURGE_TASK = "lms.xapi.purge_launch_credentials"


@shared_task(name=PURGE_TASK)
def purge_launch_credentials(grace_hours: int = 24) -> int:
    """Delete launch credentials that expired more than ``grace_hours`` ago; return how many."""
    from lms.xapi.models import Client

    cutoff = utcnow() - dt.timedelta(hours=grace_hours)
    result = db.session.execute(sa.delete(Client).where(Client.user_id.is_not(None), Client.expires_at < cutoff))
    db.session.commit()
    return result.rowcount or 0
