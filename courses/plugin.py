"""The courses plugin object, registered under the ``lms.plugins`` entry point."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.plugins import LMSPlugin


class CoursesPlugin(LMSPlugin):
    name = "courses"
    title = _l("Courses")
    model_modules = ()
    task_modules = ()

    def blueprints(self):
        from courses.views import bp

        return [bp]

    def init_app(self, app) -> None:
        from lms.core.extension_points import NavEntry, registries

        registries(app).nav.append(NavEntry("courses.catalogue", _l("Courses"), order=10))


plugin = CoursesPlugin()
