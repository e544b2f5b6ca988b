"""``flask --app lms competency ...``: import frameworks, recompute state, print profiles."""
from __future__ import annotations

import json
import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms.core.db import db

group = click.Group("competency", help="Competency frameworks, evidence and skill levels.")


@group.command("import-framework")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_id", type=int, default=None,
              help="Id of the organisation that owns the framework (default: the system, for national standards).")
@with_appcontext
def import_framework_cmd(path, org_id):
    """Import a framework from a CASE JSON package or the CSV layout (nothing on any error)."""
    from competency.operations.frameworks import FrameworkImportError, format_error, import_framework
    from lms.organisations.models import Organisation

    if org_id is not None and db.session.get(Organisation, org_id) is None:
        click.echo(f"no organisation with id {org_id}", err=True)
        sys.exit(2)
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    try:
        fw = import_framework(text, path, owner_org_id=org_id)
    except FrameworkImportError as exc:
        db.session.rollback()
        click.echo(f"{path}: {len(exc.errors)} problem(s); nothing was imported.", err=True)
        for err in exc.errors:
            click.echo(f"  {format_error(err)}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"imported framework {fw.id}: {fw.title} ({fw.occupation.code}, edition {fw.edition}), "
               f"{len(fw.levels)} level(s), owned by {f'organisation {org_id}' if org_id else 'the system'}")


@group.command("export-framework")
@click.argument("framework_id", type=int)
@with_appcontext
def export_framework_cmd(framework_id):
    """Print a framework as a CASE JSON package."""
    from competency.models import Framework
    from competency.operations.frameworks import export_case

    fw = db.session.get(Framework, framework_id)
    if fw is None:
        raise click.ClickException(f"no framework {framework_id}")
    click.echo(json.dumps(export_case(fw), ensure_ascii=False, indent=2))


def _learner_key(value: str) -> str:
    """The engine's learner key for ``--learner``: a user (e-mail, mobile, id) is ``user:<id>``; a
    learner key (``mbox:mailto:...``, ``account:...``) that stands for a user is that user's too."""
    from competency.operations.engine import user_key
    from lms.accounts.models import User
    from lms.records.identity import user_id_for_key

    if ":" in value and not value.startswith("mailto"):
        if value.startswith("user:"):
            return value
        uid = user_id_for_key(value)
        return user_key(uid) if uid is not None else value
    user = db.session.scalar(sa.select(User).where(sa.or_(User.email == value.lower(), User.mobile == value)))
    if user is None and value.isdigit():
        user = db.session.get(User, int(value))
    if user is None:
        raise click.ClickException(f"no user {value!r}")
    return user_key(user)


@group.command("recompute")
@click.option("--learner", "learner", help="E-mail, mobile, user id or learner key (mbox:mailto:...).")
@click.option("--framework", "framework_id", type=int, help="Framework id.")
@with_appcontext
def recompute_cmd(learner, framework_id):
    """Rebuild evidence and state from the stored statements (default: every known learner)."""
    from competency.models import Evidence, LevelAttainment, UnitState
    from competency.operations.engine import recompute_framework, recompute_learner

    if learner and framework_id:
        raise click.UsageError("give --learner or --framework, not both")
    if learner:
        recompute_learner(_learner_key(learner))
        db.session.commit()
        click.echo(f"recomputed {learner}")
        return
    if framework_id:
        n = recompute_framework(framework_id)
        db.session.commit()
        click.echo(f"recomputed framework {framework_id}: {n} learner(s)")
        return
    keys = set(db.session.scalars(sa.select(Evidence.learner_key).distinct()))
    keys |= set(db.session.scalars(sa.select(UnitState.learner_key).distinct()))
    keys |= set(db.session.scalars(sa.select(LevelAttainment.learner_key).distinct()))
    for n, key in enumerate(sorted(keys), 1):
        recompute_learner(key)
        if n % 100 == 0:
            db.session.commit()
    db.session.commit()
    click.echo(f"recomputed {len(keys)} learner(s)")


@group.command("profile")
@click.argument("login")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--locale", default="zh", show_default=True)
@with_appcontext
def profile_cmd(login, as_json, locale):
    """Print a learner's competency profile."""
    from competency.operations.profile import learner_profile
    from lms.accounts.models import User

    user = db.session.scalar(sa.select(User).where(sa.or_(User.email == login.lower(), User.mobile == login)))
    if user is None:
        raise click.ClickException(f"no user {login!r}")
    data = learner_profile(user, locale=locale)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(data["learner"]["name"])
    for occ in data["occupations"]:
        held = occ["level_held"]["name"] if occ["level_held"] else "-"
        click.echo(f"  {occ['occupation']['code']} {occ['occupation']['name']}: held {held}")
        for lv in occ["levels"]:
            click.echo(f"    {lv['name']}: {lv['status']}, coverage {lv['coverage']:.0%} "
                       f"(needs {lv['threshold']:.0%})")


@group.command("seed-ladder")
@with_appcontext
def seed_ladder_cmd():
    """Insert the skill-level ladder (done automatically on first import)."""
    from competency.operations.reference import ensure_ladder

    ensure_ladder()
    db.session.commit()
    click.echo("ok")
