"""Delivery: the lesson player, progress and completion rules, quizzes, practical tasks,
external activities, xAPI emission, teacher views and the learner/teacher JSON API.

``init_app(app)`` is called by :mod:`courses.plugin`; it registers the blueprints (all named
``courses_delivery...``), the navigation entries, the permissions and the listener that lets
statements from external content complete lessons.

Modules: :mod:`.grading`, :mod:`.completion`, :mod:`.durations` (pure rules);
:mod:`.statements` (the xAPI vocabulary in use); :mod:`.operations` (the learner's actions);
:mod:`.teaching` (scope, gradebook, item analysis, exports); :mod:`.views`,
:mod:`.teacher_views`, :mod:`.api` (web layer); :mod:`.tasks` (Celery).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


def _is_learner(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _teaches(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_system_admin or user.roles() & {"teacher", "mentor", "supervisor"}))


def _on_statements_stored(sender, statement_ids=(), voided_ids=(), **_kw):
    """Hand stored statements to a Celery task (external activities reporting completion)."""
    from lms.xapi.recorder import recorded_by_platform

    # The platform's own statements were applied where they were recorded (the task skips them).
    own = recorded_by_platform()
    statement_ids = [i for i in statement_ids if i not in own]
    if not statement_ids:
        return
    from courses.delivery.tasks import apply_external_statements

    apply_external_statements.delay(statement_ids)


def init_app(app) -> None:
    from courses.delivery import tasks  # noqa: F401  (registers the Celery task)
    from courses.delivery.api import bp as api_bp
    from courses.delivery.teacher_views import bp as teacher_bp
    from courses.delivery.views import bp
    from lms.core import permissions
    from lms.core.extension_points import NavEntry, registries, statement_stored

    for blueprint in (bp, teacher_bp, api_bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)
    permissions.declare(app, "courses.view_results", ("teacher", "mentor", "supervisor"),
                        _l("See the results of the learners in the courses and classes one teaches"))
    permissions.declare(app, "courses.grade", ("teacher", "mentor"),
                        _l("Grade practical tasks of one's learners"))
    reg = registries(app)
    reg.nav.append(NavEntry("courses_delivery.my_courses", _l("My learning"), _is_learner, order=11))
    reg.nav.append(NavEntry("courses_delivery_teacher.index", _l("Teaching"), _teaches, order=12))
    statement_stored.connect(_on_statements_stored, sender=app, weak=False)
