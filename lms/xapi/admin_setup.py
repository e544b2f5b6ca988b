"""Wires the operations side of the LRS into the app: forwarding (outbox tables, Celery task,
beat entry, ``statement_stored`` receiver, ``flask lrs forward`` commands) and the admin pages.

Called once from :func:`lms.xapi.setup.init_app`.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from lms.core import permissions
from lms.core.celery import add_periodic_task
from lms.core.extension_points import NavEntry, registries, statement_stored


def _is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_system_admin)


def init_app(app) -> None:
    from lms.xapi import admin_views, forwarding, forwarding_tasks  # noqa: F401  (models, tasks)

    forwarding.destinations(app)  # a broken LMS_XAPI_FORWARD stops the start with a clear message
    app.register_blueprint(admin_views.bp)
    permissions.declare(app, "xapi.browse", ("teacher", "supervisor"),
                        _l("Browse the learning records of one's learners"))
    nav = registries(app).nav
    nav.append(NavEntry("xapi_admin.statements", _l("Learning records"), admin_views.may_browse, 810, section="admin"))
    nav.append(NavEntry("xapi_admin.clients", _l("LRS clients"), _is_admin, 820, section="admin"))
    nav.append(NavEntry("xapi_admin.forwarding_index", _l("Statement forwarding"), _is_admin, 830, section="admin"))
    # Teachers and supervisors have no "Administration" link; give them the browser directly.
    nav.append(NavEntry("xapi_admin.statements", _l("Learning records"),
                        lambda u: admin_views.may_browse(u) and not _is_admin(u), 700, section="main"))

    statement_stored.connect(forwarding_tasks.on_statement_stored, app, weak=False)
    add_periodic_task(app, "xapi-forward-deliver", forwarding_tasks.DELIVER_TASK,
                      seconds=forwarding.setting("LMS_XAPI_FORWARD_INTERVAL", app))
    _add_cli(app)


forward_cli = AppGroup("forward", help="Statement forwarding to other LRSs (LMS_XAPI_FORWARD).")


@forward_cli.command("status")
def forward_status():
    """Show each destination's health, backlog and dead letters."""
    from lms.xapi import forwarding

    rows = forwarding.status()
    if not rows:
        click.echo("no destinations configured (LMS_XAPI_FORWARD)")
    for s in rows:
        h = s.health
        # While paused nothing is "due": the rows wait for the pause, whatever their own time says.
        waiting = f"(waiting for the pause: {s.due})" if s.paused else f"(due {s.due})"
        click.echo(f"{s.destination.name}: {s.state}  endpoint={s.destination.endpoint}  backlog={s.backlog} "
                   f"{waiting}  dead={s.dead}  delivered={h.delivered_total if h else 0}")
        if h is not None:
            click.echo(f"  last success: {h.last_success_at or '-'}  last failure: {h.last_failure_at or '-'}"
                       + (f"  paused until: {h.paused_until}" if s.paused else ""))
            if h.last_error:
                click.echo(f"  last error: {h.last_error}")


@forward_cli.command("retry")
@click.argument("name", required=False)
@click.option("--dead", is_flag=True, help="Also queue the dead letters again.")
def forward_retry(name, dead):
    """Send now: make waiting statements (of NAME, or of all destinations) due, then deliver."""
    from lms.core.db import db
    from lms.xapi import forwarding

    if name is not None and forwarding.destination(name) is None:
        raise click.ClickException(f"no destination {name!r} in LMS_XAPI_FORWARD")
    requeued = 0
    if dead:
        for d in forwarding.destinations():
            if name is None or d.name == name:
                requeued += forwarding.resend(d.name)
    waiting = forwarding.retry_now(name)
    db.session.commit()
    report = forwarding.deliver(name, ignore_pause=True)
    db.session.commit()
    click.echo(f"requeued {requeued} dead letters; {waiting} waiting; delivered {report.delivered}, "
               f"retry later {report.retried}, dead {report.dead}")


def _add_cli(app) -> None:
    group = app.cli.commands.get("lrs")
    if group is None:
        group = AppGroup("lrs", help="The Learning Record Store.")
        app.cli.add_command(group)
    group.add_command(forward_cli)
