"""The core of the vocational training platform.

``create_app`` builds the Flask app: configuration, then the extensions in the order below, then
the core blueprints, then the plugins selected by ``LMS_PLUGINS``.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

__all__ = ["create_app"]


def _template_folder() -> str:
    """The shared ``templates/`` folder: beside the source tree, or shipped as ``lms_templates``."""
    here = Path(__file__).resolve().parent.parent / "templates"
    if (here / "base.html").exists():
        return str(here)
    import lms_templates  # installed from a wheel

    return str(Path(lms_templates.__file__).parent)


from werkzeug.routing import IntegerConverter  # noqa: E402


class _DatabaseIdConverter(IntegerConverter):
    """``int`` for URLs: at most a signed 32-bit value, the largest id the tables' ``INTEGER``
    primary keys hold (PostgreSQL refuses a larger number with an error instead of no row)."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        # A number too large for any row is a 404 for every method. (A ValidationError would let
        # Werkzeug answer 405 when the same path has a rule for another method.)
        if self.max is not None and int(value) > self.max:
            from werkzeug.exceptions import NotFound

            raise NotFound()
        return super().to_python(value)


def _instance_path() -> str:
    return os.environ.get("LMS_INSTANCE_PATH") or str(Path.cwd() / "instance")


def create_app(config_override: dict | None = None) -> Flask:
    from lms import config as config_module
    from lms.core import celery as celery_module
    from lms.core import db as db_module
    from lms.core import errors, i18n, logging as lms_logging, plugins, security
    from lms.core.extension_points import Registries, app_created

    app = Flask(
        __name__,
        instance_path=(config_override or {}).get("INSTANCE_PATH") or _instance_path(),
        instance_relative_config=True,
        template_folder=_template_folder(),
    )
    # ``<int:id>`` in URLs matches only ids a database integer can hold: a larger number is a
    # plain 404 instead of an overflow error in the database driver.
    app.url_map.converters["int"] = _DatabaseIdConverter
    from lms.core.jsonbody import JSONProvider

    app.json = JSONProvider(app)  # request bodies: malformed, too deep or bad Unicode is a 400
    config_module.load_config(app, config_override)
    lms_logging.init_app(app)
    config_module.check_production(app)
    if app.config["LMS_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["LMS_TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.extensions["lms"] = Registries()

    # Order matters: the database first (everything uses it), then security (login, CSRF, API
    # tokens) and languages, then Celery (tasks use the database), then the core's own parts,
    # and the plugins last, so they can rely on all of the core.
    db_module.init_app(app)
    from lms.core import migrations as migrations_module

    migrations_module.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    celery_module.celery_init_app(app)
    errors.init_app(app)

    from lms.accounts import setup as accounts_setup
    from lms.main import setup as main_setup
    from lms.organisations import setup as organisations_setup

    accounts_setup.init_app(app)
    organisations_setup.init_app(app)
    main_setup.init_app(app)
    from lms.xapi import setup as xapi_setup
    from lms.records import setup as records_setup
    from lms.core import events as _events  # noqa: F401  (registers the after-commit sender)

    xapi_setup.init_app(app)
    records_setup.init_app(app)
    from lms.privacy import setup as privacy_setup

    privacy_setup.init_app(app)

    selected = plugins.select(app)
    app.extensions["lms_plugins"] = selected
    for plugin in selected:
        plugin.load(app)
        if plugin.translations_dir:
            i18n.add_translation_directory(app, plugin.translations_dir)
    plugins.check_tables(selected, db_module.db.Model)

    from lms import cli

    cli.init_app(app)
    # The request's commit runs first among the after-request hooks (registered last).
    db_module.init_request_boundary(app)
    app_created.send(app)
    return app
