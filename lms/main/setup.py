"""Registers the home page, health check and the core API blueprints."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.extension_points import NavEntry, registries


def init_app(app) -> None:
    from lms.main.api import bp as api_bp
    from lms.main.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    registries(app).nav.append(NavEntry("main.home", _l("Home"), order=0))
    sorted_nav: list = [None, []]  # (the entries it was sorted from, the sorted entries)

    @app.context_processor
    def _navigation():
        from flask import request
        from flask_login import current_user

        from lms.core.permissions import acting_user

        user = acting_user() if request else current_user
        # The user itself, not the proxy: the visible() callables read several attributes.
        user = getattr(user, "_get_current_object", lambda: user)()
        nav = registries(app).nav
        key = (len(nav), nav[-1] if nav else None)
        if sorted_nav[0] != key:  # entries are added at start-up: sort once, not on every page
            sorted_nav[:] = [key, sorted(nav, key=lambda e: e.order)]
        entries = sorted_nav[1]
        return {"nav_main": [e for e in entries if e.section == "main" and e.visible(user)],
                "nav_admin": [e for e in entries if e.section == "admin" and e.visible(user)]}
