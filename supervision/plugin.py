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
        ep.add_report_source(app, "supervision.subsidy_listings", subsidy_listings)
        for signal in (ep.course_completed, ep.level_awarded, ep.level_retracted, ep.certificate_issued,
                       ep.certificate_revoked):
            signal.connect(tasks.on_learner_event, weak=False)
        ep.statement_stored.connect(tasks.on_statement_stored, sender=app, weak=False)
        from lms.core.celery import add_periodic_task

        add_periodic_task(app, "supervision-recompute", "supervision.recompute", seconds=24 * 3600)


def subsidy_listings(course_refs) -> dict[str, dict]:
    """Report source ``supervision.subsidy_listings``: the catalogue entries listing these courses today."""
    from supervision.operations import catalogue

    refs = set(course_refs)
    return {e.course_ref: {"entry_key": e.entry_key, "level": e.level, "standard_amount": e.standard_amount,
                           "total_hours": e.total_hours, "effective_from": e.effective_from}
            for e in catalogue.current("training") if e.course_ref in refs}


plugin = SupervisionPlugin()
