"""Core Celery tasks."""
from __future__ import annotations

import sqlalchemy as sa
from celery import shared_task


@shared_task(name="lms.core.send_mail")
def send_mail_task(to: str, subject: str, body: str) -> None:
    """Send one message in the background (notifications use this)."""
    from lms.core.mail import send_mail

    send_mail(to, subject, body)


@shared_task(name="lms.core.worker_check", ignore_result=False)
def worker_check() -> dict:
    """Prove a worker can reach the database inside an app context; returns what it saw."""
    from flask import current_app

    from lms.accounts.models import User
    from lms.core.db import db

    return {"database": db.engine.dialect.name,
            "users": db.session.scalar(sa.select(sa.func.count()).select_from(User)),
            "eager": bool(current_app.config["CELERY"].get("task_always_eager"))}
