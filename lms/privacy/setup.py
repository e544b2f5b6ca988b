"""Wire data portability and erasure into the app: blueprint and the core's privacy providers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from lms.accounts import privacy as accounts_privacy
    from lms.core.extension_points import NavEntry, registries
    from lms.organisations import privacy as organisations_privacy
    from lms.privacy import models  # noqa: F401  (table)
    from lms.privacy.views import bp
    from lms.records import privacy as records_privacy
    from lms.xapi import privacy as xapi_privacy

    app.register_blueprint(bp)
    reg = registries(app)
    for module in (accounts_privacy, organisations_privacy, records_privacy, xapi_privacy):
        module.register(app)
    reg.nav.append(NavEntry("privacy.my_data", _l("My personal data"), lambda u: getattr(u, "is_authenticated", False),
                            order=98))
    reg.nav.append(NavEntry("privacy.erasures", _l("Erasure requests"), lambda u: getattr(u, "is_system_admin", False),
                            order=90, section="admin"))
