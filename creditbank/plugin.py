"""The credit-bank plugin object, registered under the ``lms.plugins`` entry point."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.plugins import LMSPlugin


def _logged_in(user) -> bool:
    return getattr(user, "is_authenticated", False)


def _manager(user) -> bool:
    from lms.core.permissions import can

    return can(user, "creditbank.manage")


class CreditBankPlugin(LMSPlugin):
    name = "creditbank"
    title = _l("Credit bank")
    model_modules = ("creditbank.models",)
    task_modules = ("creditbank.tasks",)

    def blueprints(self):
        from creditbank.api import api_bp
        from creditbank.views import bp

        return [bp, api_bp]

    def cli(self):
        from creditbank.cli import group

        return group

    def init_app(self, app) -> None:
        import os

        from creditbank import demo, privacy, receivers
        from creditbank.operations.applications import DEFAULT_MAX_BYTES

        # Largest certificate file a worker may upload (bytes); environment or instance/config.py.
        app.config.setdefault("LMS_CREDITBANK_MAX_UPLOAD",
                              int(os.environ.get("LMS_CREDITBANK_MAX_UPLOAD") or DEFAULT_MAX_BYTES))
        from lms.core.extension_points import NavEntry, registries
        from lms.core.permissions import declare

        declare(app, "creditbank.manage", {"institution_admin"}, _l("Manage the credit-bank catalogue and rules"))
        declare(app, "creditbank.approve", set(), _l("Approve credit-bank conversion rules"))
        reg = registries(app)
        reg.nav.append(NavEntry("creditbank.my_ledger", _l("My credits"), _logged_in, order=30))
        reg.nav.append(NavEntry("creditbank.rules", _l("Credit rules"), order=31))
        reg.nav.append(NavEntry("creditbank.admin", _l("Credit bank"), _manager, order=62, section="admin"))
        reg.demo_seeders.append(demo.seed)
        privacy.register(app)
        receivers.connect(app)


plugin = CreditBankPlugin()
