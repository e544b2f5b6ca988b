"""``flask --app lms creditbank ...``"""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group(help="Credit bank.")
def group():
    pass


@group.command("evaluate", help="Re-evaluate one worker's credits (by user id).")
@click.argument("user_id", type=int)
@with_appcontext
def evaluate_cmd(user_id):
    from creditbank.operations.evaluation import evaluate_user
    from lms.core.db import db

    written = evaluate_user(user_id)
    db.session.commit()
    click.echo(f"{len(written)} ledger entr{'y' if len(written) == 1 else 'ies'} written")


@group.command("export-rules", help="Print the public rules as JSON.")
@with_appcontext
def export_rules():
    import json

    from creditbank.operations.rules import public_rules, rule_as_dict

    click.echo(json.dumps([rule_as_dict(r) for r in public_rules()], ensure_ascii=False, indent=1))
