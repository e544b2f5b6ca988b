"""Wires the LRS into the app: models, the ``/xapi/`` blueprint, CLI ``lrs``, permissions.

Called by :func:`lms.create_app` (``_init_optional_core``). The operations side (forwarding,
admin pages, statement browser) is wired by :mod:`lms.xapi.admin_setup`, called from here.
"""
from __future__ import annotations

import click
from flask import request
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from lms.core import permissions

#: Settings of the LRS with their defaults (environment variables of the same name override them).
SETTINGS = {
    #: Origins allowed to call ``/xapi/`` from a browser (CORS): ``*`` or a comma-separated list.
    "LMS_XAPI_CORS_ORIGINS": "*",
}


def init_app(app) -> None:
    from lms.xapi import models, signals  # noqa: F401  (tables; after-commit signal listeners)
    from lms.xapi.http import add_common_headers
    from lms.xapi.views import bp

    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)

    @app.after_request
    def _xapi_headers(response):
        if request.path.startswith("/xapi/") or request.path == "/xapi":
            return add_common_headers(response)
        return response

    from lms.core.celery import add_periodic_task
    from lms.xapi import tasks

    add_periodic_task(app, "xapi-purge-launch-credentials", tasks.PURGE_TASK, seconds=6 * 3600)
    permissions.declare(app, "xapi.admin", (), _l("Administer the learning record store"))
    permissions.declare(app, "xapi.browse", ("teacher",), _l("Browse the learning records of one's learners"))
    _add_cli(app)

    try:
        from lms.xapi import admin_setup
    except ModuleNotFoundError as exc:  # the operations side is optional
        if exc.name != "lms.xapi.admin_setup":
            raise
    else:
        admin_setup.init_app(app)


def _add_cli(app) -> None:
    group = app.cli.commands.get("lrs")
    if group is None:
        group = AppGroup("lrs", help="The Learning Record Store.")
        app.cli.add_command(group)
    group.add_command(client_cli)


client_cli = AppGroup("client", help="LRS clients (HTTP Basic credentials with scopes).")

_TRUST_HELP = "Trust level of the system: untrusted, standard (the default) or assessment."
_HOME_PAGE_HELP = ("Account homePage its learners' agents use, e.g. https://moodle.example.com "
                   "(repeatable).")


@client_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="Scope to grant (repeatable): statements/write, statements/read, statements/read/mine, "
                   "state, define, profile, all/read, all.")
@click.option("--trust-level", default="standard", show_default=True, help=_TRUST_HELP)
@click.option("--home-page", "home_pages", multiple=True, help=_HOME_PAGE_HELP)
def client_create(name, scopes, trust_level, home_pages):
    """Create an LRS client NAME (a registered system) and print its key and secret (shown only once)."""
    from lms.core.db import db
    from lms.xapi.credentials import create_client, lrs_endpoint
    from lms.xapi.errors import XAPIError

    try:
        _client, key, secret = create_client(name, scopes, trust_level=trust_level, home_pages=home_pages)
    except XAPIError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"endpoint: {lrs_endpoint()}")
    click.echo(f"key:      {key}")
    click.echo(f"secret:   {secret}")


@client_cli.command("update")
@click.argument("key")
@click.option("--trust-level", default=None, help=_TRUST_HELP)
@click.option("--home-page", "home_pages", multiple=True,
              help=_HOME_PAGE_HELP + " Replaces the list given before.")
@click.option("--no-home-pages", is_flag=True, help="Remove every home page.")
def client_update(key, trust_level, home_pages, no_home_pages):
    """Change the trust level or the home pages of the registered system with KEY."""
    import sqlalchemy as sa

    from lms.core.db import db
    from lms.xapi.credentials import update_client
    from lms.xapi.errors import XAPIError
    from lms.xapi.models import Client

    if home_pages and no_home_pages:
        raise click.UsageError("give --home-page or --no-home-pages, not both")
    client = db.session.scalars(sa.select(Client).where(Client.key == key)).first()
    if client is None:
        raise click.ClickException(f"no client with key {key}")
    try:
        update_client(client, trust_level=trust_level,
                      home_pages=[] if no_home_pages else (list(home_pages) if home_pages else None))
    except XAPIError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{key}  trust={client.trust_level}  home pages: {', '.join(client.home_pages) or '-'}")


@client_cli.command("list")
def client_list():
    """List the registered systems (launch credentials excluded)."""
    import sqlalchemy as sa

    from lms.core.db import db
    from lms.records.provenance import SYSTEM
    from lms.xapi.models import Client

    rows = db.session.scalars(sa.select(Client).where(Client.kind == SYSTEM).order_by(Client.id))
    for c in rows:
        state = "active" if c.active else "revoked"
        click.echo(f"{c.key}  {state:8s} {c.name}  [{', '.join(c.scopes)}]  trust={c.trust_level}  "
                   f"home pages: {', '.join(c.home_pages or ()) or '-'}")


@client_cli.command("revoke")
@click.argument("key")
def client_revoke(key):
    """Revoke the client with KEY."""
    import sqlalchemy as sa

    from lms.core.db import db
    from lms.xapi.credentials import revoke_client
    from lms.xapi.models import Client

    client = db.session.scalars(sa.select(Client).where(Client.key == key)).first()
    if client is None:
        raise click.ClickException(f"no client with key {key}")
    revoke_client(client)
    db.session.commit()
    click.echo(f"revoked {key}")
