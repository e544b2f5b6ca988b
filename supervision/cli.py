"""``flask --app lms supervision ...``: officers, recompute, imports."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms.core.db import db, utcnow


@click.group(help="Training supervision: officers, indicators, imports.")
def group():
    pass


def _user(login: str):
    from lms.accounts.models import User

    login = login.strip().lower()
    user = db.session.scalars(sa.select(User).where(sa.or_(User.email == login, User.mobile == login))).first()
    if user is None:
        raise click.ClickException(f"no account {login!r}")
    return user


@group.command("officer")
@click.argument("login")
@with_appcontext
def officer(login):
    """Appoint LOGIN as an authority officer (may approve and export full ID numbers)."""
    from supervision.models import AuthorityOfficer
    from supervision.operations import audit

    user = _user(login)
    if db.session.scalar(sa.select(AuthorityOfficer.id).where(AuthorityOfficer.user_id == user.id)):
        click.echo(f"{login} is an officer already")
        return
    orgs = sorted(user.organisation_ids("supervisor"))
    db.session.add(AuthorityOfficer(user_id=user.id, organisation_id=orgs[0] if orgs else None, created_at=utcnow()))
    audit.log(None, "officer.appointed", "user", user.id, summary=user.display_name)
    db.session.commit()
    click.echo(f"{login} appointed")


@group.command("recompute")
@with_appcontext
def recompute():
    """Recompute every class's indicators from the sources; prints classes and mismatches found."""
    from supervision.tasks import recompute as task

    out = task.run()
    click.echo(f"classes: {out['classes']}, mismatches corrected: {out['mismatches']}")


@group.command("import")
@click.argument("kind", type=click.Choice(["employment", "pension", "student", "payroll"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "by_login", required=True, help="The officer's login (recorded in the audit log).")
@with_appcontext
def import_cmd(kind, path, by_login):
    """Import employment records or an exclusion list (CSV or .xlsx)."""
    from supervision.operations import SupervisionError, imports

    with open(path, "rb") as fh:
        payload = fh.read()
    try:
        batch = imports.import_file(_user(by_login), kind, path, payload)
    except SupervisionError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"imported {batch.rows} rows")
