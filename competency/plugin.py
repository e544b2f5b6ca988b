"""The competency plugin object, registered under the ``lms.plugins`` entry point."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.plugins import LMSPlugin


class CompetencyPlugin(LMSPlugin):
    name = "competency"
    title = _l("Competency and skill levels")
    model_modules = ("competency.models",)
    task_modules = ("competency.tasks",)

    def blueprints(self):
        from competency.api import api_bp
        from competency.views import bp
        from competency.views.case_rest import case_bp

        return [bp, api_bp, case_bp]

    def cli(self):
        from competency.cli import group

        return group

    def init_app(self, app) -> None:
        from competency import privacy, tasks
        from competency.operations import access
        from competency.demo import register_demo_seeder
        from lms.core.extension_points import NavEntry, identity_linked, registries, statement_stored
        from lms.core.permissions import declare

        registries(app).nav.append(NavEntry("competency.levels", _l("Skill levels"),
                                            lambda u: getattr(u, "is_authenticated", False), order=20))
        registries(app).nav.append(NavEntry("competency.learners", _l("Learners' skill levels"), _is_staff, order=21))
        registries(app).nav.append(NavEntry("competency.attainments", _l("Level attainments"), _is_staff, order=22,
                                            section="admin"))
        registries(app).nav.append(NavEntry("competency.frameworks", _l("Frameworks"), access.may_edit_rules,
                                            order=60, section="admin"))
        registries(app).nav.append(NavEntry("competency.verify_form", _l("Verify a certificate"), lambda u: True,
                                            order=95))
        declare(app, "competency.manage_frameworks", {"institution_admin"}, _l("Import competency frameworks"))
        declare(app, "competency.edit_rules", {"teacher", "institution_admin"}, _l("Edit evidence rules"))
        declare(app, "competency.view_learners", {"teacher", "mentor", "enterprise_admin", "institution_admin",
                                                  "supervisor"}, _l("See learners' competency profiles"))
        access._register_scopes()
        statement_stored.connect(tasks.on_statement_stored, sender=app, weak=False)
        identity_linked.connect(tasks.on_identity_linked, weak=False)
        register_demo_seeder(app)
        __import__("competency.report_sources", fromlist=["register"]).register(app)
        registries(app).record_sections.extend(__import__("competency.record_sections").record_sections.SECTIONS)
        privacy.register(app)
        _init_apprenticeship(app)
        _init_case_settings(app)


def _init_case_settings(app) -> None:
    """CASE servers a pull-import may ask (host names or host:port; a list or comma-separated),
    its time limit in seconds, and the largest framework file accepted, in bytes: from
    ``instance/config.py`` or the environment, else these defaults."""
    import os

    for key, default, kind in (("COMPETENCY_CASE_HOSTS", "", str), ("COMPETENCY_CASE_TIMEOUT", 10.0, float),
                               ("COMPETENCY_IMPORT_MAX_BYTES", 20 * 1024 * 1024, int)):
        if key in os.environ:
            app.config[key] = kind(os.environ[key])
        else:
            app.config.setdefault(key, default)


def _is_staff(user) -> bool:
    from competency.operations.access import STAFF_ROLES

    return getattr(user, "is_authenticated", False) and (
        user.is_system_admin or bool(user.roles() & (set(STAFF_ROLES) | {"supervisor"})))


def _init_apprenticeship(app) -> None:
    """The apprenticeship part of the plugin (competency/apprenticeship) wires itself in."""
    import importlib

    try:
        part = importlib.import_module("competency.apprenticeship")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("competency.apprenticeship"):
            return
        raise
    part.init_app(app)


plugin = CompetencyPlugin()
