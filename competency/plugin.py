"""The competency plugin object, registered under the ``lms.plugins`` entry point."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.plugins import LMSPlugin


class CompetencyPlugin(LMSPlugin):
    name = "competency"
    title = _l("Competency and skill levels")
    model_modules = ()
    task_modules = ()

    def blueprints(self):
        from competency.views import bp

        return [bp]

    def init_app(self, app) -> None:
        from lms.core.extension_points import NavEntry, registries

        registries(app).nav.append(NavEntry("competency.levels", _l("Skill levels"),
                                            lambda u: getattr(u, "is_authenticated", False), order=20))


plugin = CompetencyPlugin()
