"""The plugin contract.

A plugin is a package that exposes one :class:`LMSPlugin` instance under the entry-point group
``lms.plugins`` (see ``pyproject.toml``). ``LMS_PLUGINS`` selects which installed plugins load
(unset: all; empty: none). The core calls :meth:`LMSPlugin.init_app` once per app.

What a plugin contributes, all from ``init_app`` (or declared as class attributes):

* blueprints (``blueprints``), whose names must start with the plugin name;
* a Click group (``cli``), added to ``flask --app lms`` under the plugin name;
* Celery tasks (the modules listed in ``task_modules`` are imported so ``@shared_task`` registers);
* signal receivers (connect to :mod:`lms.core.extension_points` signals);
* navigation entries, permissions, demo seeders via :mod:`lms.core.extension_points` registries;
* templates under ``templates/<plugin name>/``;
* its own tables (names prefixed ``<plugin name>_``) and its own Alembic branch in
  ``<package>/migrations`` labelled with the plugin name.
"""
from __future__ import annotations

import importlib
import logging
import os
from importlib.metadata import entry_points

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "lms.plugins"


class PluginError(RuntimeError):
    """A plugin broke the contract (bad name, missing plugin, foreign table names)."""


class LMSPlugin:
    """Base class of every plugin. Subclass it and expose one instance."""

    #: Short lowercase name; prefixes the plugin's tables, blueprints and templates folder.
    name: str = ""
    #: Human-readable title (lazy-translatable).
    title: object = ""
    #: Modules imported at load time so their models and Celery tasks register.
    model_modules: tuple[str, ...] = ()
    task_modules: tuple[str, ...] = ()

    @property
    def package_dir(self) -> str:
        module = importlib.import_module(type(self).__module__.split(".")[0])
        return os.path.dirname(module.__file__)

    @property
    def migrations_dir(self) -> str | None:
        path = os.path.join(self.package_dir, "migrations")
        return path if os.path.isdir(path) else None

    @property
    def translations_dir(self) -> str | None:
        path = os.path.join(self.package_dir, "translations")
        return path if os.path.isdir(path) else None

    def blueprints(self) -> list:
        """Blueprints to register; names must start with ``name``."""
        return []

    def cli(self):
        """A Click group added as ``flask --app lms <name> ...``, or ``None``."""
        return None

    def init_app(self, app) -> None:
        """Connect signals and fill registries. Blueprints and CLI are registered by the core."""

    # -- called by the core -----------------------------------------------------------------

    def load(self, app) -> None:
        for module in self.model_modules + self.task_modules:
            importlib.import_module(module)
        for bp in self.blueprints():
            if not bp.name.startswith(self.name):
                raise PluginError(f"plugin {self.name!r}: blueprint {bp.name!r} must start with the plugin name")
            app.register_blueprint(bp)
        group = self.cli()
        if group is not None:
            app.cli.add_command(group, name=self.name)
        self.init_app(app)


def _load(ep) -> LMSPlugin:
    """Import one entry point and check it exposes an LMSPlugin of the same name."""
    plugin = ep.load()
    if not isinstance(plugin, LMSPlugin) or plugin.name != ep.name:
        raise PluginError(f"entry point {ep.name!r} must expose an LMSPlugin named {ep.name!r}")
    return plugin


def discover() -> dict[str, LMSPlugin]:
    """All installed plugins by name, from the ``lms.plugins`` entry points (imports them all)."""
    return {ep.name: _load(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)}


def select(app) -> list[LMSPlugin]:
    """The plugins ``LMS_PLUGINS`` asks for, in a stable order; only those are imported."""
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    wanted = app.config.get("LMS_PLUGINS")
    names = sorted(eps) if wanted is None else list(wanted)
    missing = [n for n in names if n not in eps]
    if missing:
        raise PluginError(f"LMS_PLUGINS names plugins that are not installed: {', '.join(missing)}")
    return [_load(eps[name]) for name in names]


def check_tables(plugins, model_base) -> None:
    """Every table mapped by a plugin's models must carry the plugin name as prefix."""
    names = {p.name for p in plugins}
    for mapper in model_base.registry.mappers:
        package = mapper.class_.__module__.split(".")[0]
        table = getattr(mapper, "local_table", None)
        if package in names and table is not None and not table.name.startswith(package + "_"):
            raise PluginError(f"table {table.name!r} of plugin {package!r} must be named {package}_*")


def loaded_plugins(app=None) -> list[LMSPlugin]:
    from flask import current_app

    return (app or current_app).extensions["lms_plugins"]
