"""Home-page panel of the courses plugin: newest courses, and the author's drafts."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from markupsafe import Markup

from courses.models import Course, course_teachers
from courses.setup import catalogue_stmt
from lms.core.db import db
from lms.core.permissions import can


def home_panel(user):
    newest = db.session.scalars(catalogue_stmt(user).order_by(Course.published_at.desc(), Course.id.desc())
                                .limit(3)).all()
    drafts = []
    if getattr(user, "is_authenticated", False) and can(user, "courses.author"):
        drafts = db.session.scalars(sa.select(Course).where(
            Course.status == "draft",
            sa.or_(Course.created_by_id == user.id,
                   Course.id.in_(sa.select(course_teachers.c.course_id).where(course_teachers.c.user_id == user.id))))
            .order_by(Course.updated_at.desc()).limit(5)).all()
    if not newest and not drafts:
        return None
    return Markup(render_template("courses/_home_panel.html", newest=newest, drafts=drafts))
