"""Alembic through Flask-Migrate, with one branch per package.

The core's revisions live in ``lms/migrations/versions`` (branch ``lms``); each loaded plugin adds
its ``<package>/migrations`` folder (branch ``<plugin name>``) to Alembic's version locations.
``flask --app lms db upgrade`` therefore upgrades *all heads* by default, so core and plugin
migrations apply together. Migrations never run at app start.
"""
from __future__ import annotations

import os

import click
from flask import g
from flask.cli import with_appcontext
from flask_migrate import Migrate
from flask_migrate import cli as fm_cli

from lms.core.db import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")

migrate = Migrate(directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)


@migrate.configure
def _add_plugin_locations(config):
    from flask import current_app

    from lms.core.plugins import loaded_plugins

    locations = [os.path.join(MIGRATIONS_DIR, "versions")]
    for plugin in loaded_plugins(current_app):
        if plugin.migrations_dir:
            locations.append(plugin.migrations_dir)
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    return config


def _db_group() -> click.Group:
    """Flask-Migrate's ``db`` group, with ``upgrade`` defaulting to every branch head."""

    @click.group(name="db", help="Database migrations (core and plugin branches).")
    @click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by env.py")
    @with_appcontext
    def group(x_arg):
        g.directory = None
        g.x_arg = x_arg

    for name, command in fm_cli.db.commands.items():
        if name not in ("upgrade",):
            group.add_command(command, name)

    @group.command("upgrade", help="Upgrade to a later version (default: every branch head).")
    @click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
    @click.argument("revision", default="heads")
    @with_appcontext
    def upgrade(sql, revision):
        from flask_migrate import upgrade as _upgrade

        _upgrade(revision=revision, sql=sql)

    return group


def upgrade_all() -> None:
    """Apply every branch's migrations (used by tests and ``make run``)."""
    from flask_migrate import upgrade as _upgrade

    _upgrade(revision="heads")


def init_app(app) -> None:
    migrate.init_app(app, db)
    app.cli.add_command(_db_group(), "db")
