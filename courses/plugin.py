"""The courses plugin object, registered under the ``lms.plugins`` entry point.

Authoring, catalogue, enrolment and the JSON API are wired here; delivery (the lesson player,
quizzes, progress, xAPI emission, teacher reports) wires itself through
``courses.delivery.init_app`` when that package is present.
"""
from __future__ import annotations

import importlib

from flask_babel import lazy_gettext as _l

from lms.core.plugins import LMSPlugin


def _delivery():
    """The delivery package, if this build has it."""
    try:
        return importlib.import_module("courses.delivery")
    except ModuleNotFoundError as exc:
        if exc.name not in ("courses.delivery",):
            raise
        return None


def _is_teacher(user) -> bool:
    from lms.core.permissions import can

    return can(user, "courses.author")


class CoursesPlugin(LMSPlugin):
    name = "courses"
    title = _l("Courses")
    model_modules = ("courses.models",)
    task_modules = ()

    def blueprints(self):
        from courses.api import bp as api_bp
        from courses.views.authoring import bp as authoring_bp
        from courses.views.catalogue import bp as catalogue_bp

        return [catalogue_bp, authoring_bp, api_bp]

    def cli(self):
        from courses.cli import group

        return group

    def init_app(self, app) -> None:
        from courses import demo, panels, privacy, setup
        from lms.core.extension_points import NavEntry, registries

        setup.declare_permissions(app)
        reg = registries(app)
        reg.nav.append(NavEntry("courses.catalogue", _l("Courses"), order=10))
        reg.nav.append(NavEntry("courses_authoring.index", _l("Course authoring"), _is_teacher, order=13))
        reg.demo_seeders.append(demo.seed)
        reg.home_panels.append(panels.home_panel)
        __import__("courses.report_sources", fromlist=["register"]).register(app)
        reg.record_sections.append(importlib.import_module("courses.record_sections").record_section)
        privacy.register(app)
        delivery = _delivery()
        if delivery is not None and hasattr(delivery, "init_app"):
            delivery.init_app(app)


plugin = CoursesPlugin()
