"""The supervision plugin object, registered under the ``lms.plugins`` entry point."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.plugins import LMSPlugin


class SupervisionPlugin(LMSPlugin):
    name = "supervision"
    title = _l("Training supervision")
    model_modules = ("supervision.models",)
    task_modules = ("supervision.tasks",)

    def blueprints(self):
        from supervision.views import bp, public_bp

        return [bp, public_bp]

    def cli(self):
        from supervision.cli import group

        return group

    def init_app(self, app) -> None:
        from lms.core import extension_points as ep
        from supervision import access, tasks
        from supervision.demo import seed

        access.register(app)
        reg = ep.registries(app)
        reg.nav.append(ep.NavEntry("supervision_public.catalogue", _l("Subsidised training"), order=90))
        reg.nav.append(ep.NavEntry("supervision.dashboard", _l("Training supervision"), access.may_view, order=30))
        reg.demo_seeders.append(seed)
        for signal in (ep.course_completed, ep.level_awarded, ep.level_retracted, ep.certificate_issued,
                       ep.certificate_revoked):
            signal.connect(tasks.on_learner_event, weak=False)
        ep.statement_stored.connect(tasks.on_statement_stored, sender=app, weak=False)
        from lms.core.celery import add_periodic_task

        add_periodic_task(app, "supervision-recompute", "supervision.recompute", seconds=24 * 3600)


plugin = SupervisionPlugin()
