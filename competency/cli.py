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
    from competency.operations import CompetencyError
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
    except CompetencyError as exc:
        db.session.rollback()
        click.echo(f"{path}: {exc.message}; nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    # The CFDocument identifier first, alone on its line: scripts read it with `head -1`.
    click.echo(str(fw.identifier))
    click.echo(f"imported framework {fw.id}: {fw.title} "
               + (f"({fw.occupation.code}, edition {fw.edition}), " if fw.vocational else "(CASE, no vocational "
                  "overlay), ")
               + f"{len(fw.levels)} level(s), owned by {f'organisation {org_id}' if org_id else 'the system'}",
               err=True)


@group.command("export-framework")
@click.argument("framework")
@with_appcontext
def export_framework_cmd(framework):
    """Print a framework as a CASE JSON package; FRAMEWORK is its CFDocument identifier or its id."""
    import uuid

    from competency.models import Framework
    from competency.operations.frameworks import export_case

    fw = None
    if framework.isdigit():
        fw = db.session.get(Framework, int(framework)) if int(framework) < 2**31 else None
    else:
        try:
            ident = uuid.UUID(framework)
        except ValueError:
            raise click.ClickException(f"{framework!r} is neither a framework id nor a CFDocument identifier") from None
        fw = db.session.scalar(sa.select(Framework).where(Framework.identifier == ident))
    if fw is None:
        raise click.ClickException(f"no framework {framework}")
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
