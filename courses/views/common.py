"""Lookups shared by the courses pages: every row goes through the visibility scopes."""
from __future__ import annotations

from flask import abort, flash
from flask_babel import get_locale

from courses.models import Course, Lesson, Module, Question
from courses.setup import may_edit_course
from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, is_supervisor


def lang() -> str:
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def visible_course(course_id: int) -> Course:
    return get_visible_or_404(acting_user(), Course, course_id)


def editable_course(course_id: int) -> Course:
    """A course the acting user may author: 404 when they cannot see it, 403 when only see it."""
    course = visible_course(course_id)
    user = acting_user()
    if not may_edit_course(user, course) or (is_supervisor(user) and not user.is_system_admin):
        abort(403)
    return course


def editable_module(module_id: int) -> Module:
    module = db.session.get(Module, module_id) or abort(404)
    editable_course(module.course_id)
    return module


def editable_lesson(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id) or abort(404)
    editable_course(lesson.course_id)
    return lesson


def editable_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id) or abort(404)
    editable_course(question.lesson.course_id)
    return question


def flash_error(exc) -> None:
    flash(str(exc.message), "danger")
