"""``flask --app lms courses ...``: export and import course packages."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

group = click.Group("courses", help="Courses: export and import course packages.")


@group.command("export")
@click.argument("code")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_cmd(code, path):
    """Write the package of the course CODE to PATH (.zip)."""
    from courses.models import Course
    from courses.operations import packages
    from lms.core.db import db

    course = db.session.scalars(sa.select(Course).where(Course.code == code)).first()
    if course is None:
        raise click.ClickException(f"no course with code {code}")
    with open(path, "wb") as fh:
        fh.write(packages.export_course(course))
    click.echo(f"exported {code} to {path}")


@group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "login", required=True, help="Login of the teacher or administrator importing it.")
@click.option("--organisation-id", type=int, default=None)
@click.option("--code", default=None, help="New course code, if the package's code is taken.")
@with_appcontext
def import_cmd(path, login, organisation_id, code):
    """Import the course package at PATH as a draft course."""
    from courses.operations import packages
    from courses.operations.errors import CourseError
    from lms.accounts.operations import find_user
    from lms.core.db import db

    user = find_user(login)
    if user is None:
        raise click.ClickException(f"no account {login}")
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        course = packages.import_course(user, data, organisation_id=organisation_id, code=code)
    except CourseError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"imported {course.code} (id {course.id}) as a draft")
