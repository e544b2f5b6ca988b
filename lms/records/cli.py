"""``flask records``: identity links from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

records_cli = AppGroup("records", help="The learning-record layer: identity links.")


def _both_languages(message) -> str:
    """A lazy message in English and in Chinese (operators read either)."""
    from flask_babel import force_locale

    with force_locale("en"):
        en = str(message)
    with force_locale("zh_CN"):
        zh = str(message)
    return en if en == zh else f"{en} / {zh}"


@records_cli.command("import-links")
@click.argument("file", type=click.File("rb"))
@click.option("--by", "by_login", help="Login of the administrator on whose behalf the links are made "
                                       "(default: the system).")
def import_links_command(file, by_login):
    """Link foreign accounts to users from a CSV FILE: homePage,account name,login (UTF-8, header
    line required). All or nothing: any bad line links nothing."""
    from lms.accounts.operations import find_user
    from lms.core.db import db
    from lms.records import links

    by = None
    if by_login:
        by = find_user(by_login)
        if by is None:
            raise click.ClickException(f"no user {by_login!r}")
    data = file.read(links.MAX_CSV_BYTES + 1)
    try:
        result = links.import_links(data, by, system=by is None)
    except links.LinkImportError as exc:
        db.session.rollback()
        for err in exc.errors:
            where = f"line {err.line} / 第 {err.line} 行" if err.line else "file / 文件"
            click.echo(f"{where}: {_both_languages(err.message)}", err=True)
        raise click.ClickException(_both_languages(exc.message)) from None
    db.session.commit()
    click.echo(f"linked {result.linked} accounts for {result.users} users; {result.unchanged} already linked")


def init_app(app) -> None:
    app.cli.add_command(records_cli)
