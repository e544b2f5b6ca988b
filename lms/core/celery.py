"""Celery wired as in Flask's own example: one Celery app per Flask app, configured from
``app.config["CELERY"]``, every task run inside an app context, JSON only.

Tasks are ``@shared_task`` and never import the Flask app; they receive ids, not ORM objects,
and commit once at the end (see :func:`lms.core.db`).
"""
from __future__ import annotations

from celery import Celery, Task


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                from lms.core.db import db

                try:
                    return self.run(*args, **kwargs)
                except Exception:
                    db.session.rollback()
                    raise

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = dict(app.config.get("CELERY_BEAT_SCHEDULE") or {})
    celery_app.set_default()

    # Several Flask apps can live in one process (tests, tools): ``task.delay()`` must use the
    # Celery app of the Flask app whose context is active.
    from flask import appcontext_pushed

    def _make_current(sender, **_kw):
        sender.extensions["celery"].set_current()

    appcontext_pushed.connect(_make_current, app, weak=False)
    import lms.core.tasks  # noqa: F401  (registers the core tasks)

    app.extensions["celery"] = celery_app
    return celery_app


def add_periodic_task(app, name: str, task: str, seconds: float | None = None, crontab=None, args=()) -> None:
    """Register a beat schedule entry (plugins call this from ``init_app``)."""
    schedule = crontab if crontab is not None else seconds
    app.extensions["celery"].conf.beat_schedule[name] = {"task": task, "schedule": schedule, "args": args}
