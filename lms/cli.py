"""Core command-line interface: ``flask --app lms plugins | users | demo``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lms.core.db import db


@click.command("plugins", help="List the loaded plugins.")
def plugins_command():
    from lms.core.plugins import discover, loaded_plugins

    loaded = {p.name for p in loaded_plugins()}
    available = discover()
    if not available:
        click.echo("no plugins installed")
    for name, plugin in sorted(available.items()):
        state = "loaded" if name in loaded else "installed, not loaded"
        click.echo(f"{name:12s} {state:22s} {type(plugin).__module__}  {plugin.title}")


users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", help="Login email.")
@click.option("--mobile", help="Login mobile number.")
@click.option("--password", required=True, help="Initial password.")
@click.option("--name", "real_name", default="", help="Real name.")
@click.option("--role", required=True, help="admin, or a role held in --org: learner, teacher, mentor, "
                                            "enterprise_admin, institution_admin, supervisor.")
@click.option("--org", "org", help="Organisation id or exact name (required for roles other than admin).")
def users_create(email, mobile, password, real_name, role, org):
    import sqlalchemy as sa

    from lms.accounts.operations import AccountError, register_user
    from lms.organisations.models import ROLES, Organisation
    from lms.organisations.operations import add_membership

    if bool(email) == bool(mobile):
        raise click.UsageError("give exactly one of --email and --mobile")
    if role != "admin" and role not in ROLES:
        raise click.UsageError(f"unknown role {role!r}; use admin or one of {', '.join(ROLES)}")
    organisation = None
    if role != "admin":
        if not org:
            raise click.UsageError("--org is required for this role")
        stmt = sa.select(Organisation).where(Organisation.id == int(org)) if org.isdigit() else \
            sa.select(Organisation).where(Organisation.name == org)
        organisation = db.session.scalars(stmt).first()
        if organisation is None:
            raise click.UsageError(f"no organisation {org!r}")
    try:
        user = register_user(email or mobile, password, real_name, is_system_admin=(role == "admin"))
        if organisation is not None:
            add_membership(user, organisation, role)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"created user {user.id} {user.login} ({role})")


@users_cli.command("token")
@click.argument("login")
@click.option("--name", default="cli", help="Token name.")
@click.option("--days", type=int, default=None, help="Expire after this many days.")
def users_token(login, name, days):
    """Create a personal API token for LOGIN and print it."""
    from lms.accounts.operations import create_api_token, find_user

    user = find_user(login)
    if user is None:
        raise click.ClickException(f"no user {login!r}")
    _row, token = create_api_token(user, name, days)
    db.session.commit()
    click.echo(token)


demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def demo_seed(if_empty):
    from lms import demo

    if not demo.is_empty():
        if if_empty:
            click.echo("database not empty; demo data not seeded")
            return
        raise click.ClickException("the database already has users; demo seed needs an empty database")
    # The seed's own INFO lines (one per account, course, ...) would bury the logins it prints.
    import logging

    loggers = [logging.getLogger(), logging.getLogger("lms")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        lines = demo.seed(current_app)
        db.session.commit()
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
    for line in lines:
        click.echo(line)


def init_app(app) -> None:
    app.cli.add_command(plugins_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
