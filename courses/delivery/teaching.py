"""What teachers see of their learners: scope, gradebook, item analysis, grading queue, exports.

Scope (DESIGN.md section 7): a teacher sees the courses they teach (all their enrolments) and
the classes they are in charge of (those enrolments only); a mentor sees the classes of the
organisations where they are a mentor; supervisors and system administrators see everything,
and supervisors change nothing.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import sqlalchemy as sa

from courses.models import (Course, CourseClass, Enrolment, Lesson, LessonProgress, QuizAnswer, QuizAttempt,
                            Submission, course_teachers)
from lms.core.db import db
from lms.core.spreadsheets import csv_bytes, write_rows
from lms.core.permissions import is_supervisor


def _sees_all(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and (user.is_system_admin or is_supervisor(user)))


def _class_filter(user):
    """SQL condition on CourseClass for the classes ``user`` is in charge of (teacher or mentor)."""
    cond = CourseClass.teacher_id == user.id
    mentor_orgs = user.organisation_ids("mentor")
    if mentor_orgs:
        cond = sa.or_(cond, CourseClass.organisation_id.in_(mentor_orgs))
    return cond


def taught_courses(user) -> list[Course]:
    """Courses whose results ``user`` may see."""
    if not getattr(user, "is_authenticated", False):
        return []
    stmt = sa.select(Course).where(Course.status != "draft").order_by(Course.code)
    if not _sees_all(user):
        teaches = sa.select(course_teachers.c.course_id).where(course_teachers.c.user_id == user.id)
        in_class = sa.select(CourseClass.course_id).where(_class_filter(user))
        stmt = stmt.where(sa.or_(Course.id.in_(teaches), Course.id.in_(in_class)))
    return list(db.session.scalars(stmt))


def teaches_course(user, course: Course) -> bool:
    return _sees_all(user) or any(t.id == user.id for t in course.teachers)


def visible_classes(user, course: Course) -> list[CourseClass]:
    stmt = sa.select(CourseClass).where(CourseClass.course_id == course.id).order_by(CourseClass.name)
    if not teaches_course(user, course):
        stmt = stmt.where(_class_filter(user))
    return list(db.session.scalars(stmt))


def visible_enrolments(user, course: Course, class_id: int | None = None) -> list[Enrolment]:
    """Enrolments of ``course`` that ``user`` may see, optionally of one class."""
    stmt = sa.select(Enrolment).where(Enrolment.course_id == course.id)
    if not teaches_course(user, course):
        stmt = stmt.where(Enrolment.class_id.in_([c.id for c in visible_classes(user, course)] or [-1]))
    if class_id is not None:
        stmt = stmt.where(Enrolment.class_id == class_id)
    from lms.accounts.models import User

    stmt = stmt.join(User, User.id == Enrolment.user_id).order_by(User.real_name, User.id)
    return list(db.session.scalars(stmt))


def may_see_enrolment(user, enrolment: Enrolment) -> bool:
    if _sees_all(user) or teaches_course(user, enrolment.course):
        return True
    cls = enrolment.course_class
    if cls is None:
        return False
    return cls.teacher_id == user.id or cls.organisation_id in user.organisation_ids("mentor")


def may_grade(user, submission: Submission) -> bool:
    """Course teachers, the class teacher and the class organisation's mentors grade; supervisors never."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_system_admin:
        return True
    if is_supervisor(user) and not (user.roles() & {"teacher", "mentor"}):
        return False
    enrolment = submission.enrolment
    if any(t.id == user.id for t in enrolment.course.teachers):
        return True
    cls = enrolment.course_class
    return cls is not None and (cls.teacher_id == user.id or cls.organisation_id in user.organisation_ids("mentor"))


def grading_queue(user) -> list[Submission]:
    """Submissions waiting for a grade that ``user`` may grade, oldest first."""
    stmt = sa.select(Submission).where(Submission.status == "submitted").order_by(Submission.submitted_at)
    return [s for s in db.session.scalars(stmt) if may_grade(user, s)]


# --- gradebook ------------------------------------------------------------------------------


@dataclass
class GradebookRow:
    enrolment: Enrolment
    progress_percent: int
    completed_lessons: int
    study_hours: object
    #: per assessed lesson id: text shown in the cell ("85% ✓", "40% ✗", "—", "待评分")
    cells: dict[int, str] = field(default_factory=dict)
    #: per assessed lesson id: True passed, False not passed, None no result
    passed: dict[int, bool | None] = field(default_factory=dict)


def assessed_lessons(course: Course) -> list[Lesson]:
    return [lesson for lesson in course.live_lessons if lesson.kind in ("quiz", "practical")]


def gradebook(course: Course, enrolments: list[Enrolment]) -> tuple[list[Lesson], list[GradebookRow]]:
    """The class gradebook: one row per enrolment, one column per quiz or practical task (best result)."""
    from courses.delivery.operations import study_hours_of

    columns = assessed_lessons(course)
    ids = [e.id for e in enrolments]
    best: dict[tuple[int, int], tuple[float, bool]] = {}
    if ids:
        for a in db.session.scalars(sa.select(QuizAttempt).where(QuizAttempt.enrolment_id.in_(ids),
                                                                 QuizAttempt.submitted_at.is_not(None))):
            key = (a.enrolment_id, a.lesson_id)
            current = best.get(key)
            candidate = (a.scaled or 0.0, bool(a.passed))
            if current is None or candidate > current:
                best[key] = candidate
        for s in db.session.scalars(sa.select(Submission).where(Submission.enrolment_id.in_(ids))):
            key = (s.enrolment_id, s.lesson_id)
            if s.status == "graded":
                candidate = ((s.score or 0.0) / (s.max_score or 1.0), bool(s.passed))
                if key not in best or candidate > best[key]:
                    best[key] = candidate
            elif key not in best:
                best[key] = (-1.0, False)  # waiting for a grade
        done = dict(db.session.execute(
            sa.select(LessonProgress.enrolment_id, sa.func.count()).where(
                LessonProgress.enrolment_id.in_(ids), LessonProgress.status == "completed")
            .group_by(LessonProgress.enrolment_id)).all())
    else:
        done = {}
    rows = []
    for e in enrolments:
        row = GradebookRow(e, int(round((e.progress or 0) * 100)), int(done.get(e.id, 0)), study_hours_of(e))
        for lesson in columns:
            result = best.get((e.id, lesson.id))
            if result is None:
                row.cells[lesson.id], row.passed[lesson.id] = "—", None
            elif result[0] < 0:
                row.cells[lesson.id], row.passed[lesson.id] = "…", None
            else:
                row.cells[lesson.id] = f"{round(result[0] * 100)}%"
                row.passed[lesson.id] = result[1]
        rows.append(row)
    return columns, rows


def item_analysis(lesson: Lesson, enrolments: list[Enrolment] | None = None) -> list[dict]:
    """Per question of a quiz: how many answers, how many correct, the correct rate, average points."""
    stmt = (sa.select(QuizAnswer.question_id, sa.func.count(), sa.func.sum(sa.case((QuizAnswer.correct, 1), else_=0)),
                      sa.func.avg(QuizAnswer.points))
            .join(QuizAttempt, QuizAttempt.id == QuizAnswer.attempt_id)
            .where(QuizAttempt.lesson_id == lesson.id).group_by(QuizAnswer.question_id))
    if enrolments is not None:
        stmt = stmt.where(QuizAttempt.enrolment_id.in_([e.id for e in enrolments] or [-1]))
    stats = {qid: (n, int(c or 0), float(avg or 0)) for qid, n, c, avg in db.session.execute(stmt)}
    out = []
    for q in lesson.questions:
        n, correct, avg = stats.get(q.id, (0, 0, 0.0))
        if q.archived_at is not None and n == 0:
            continue
        out.append({"question": q, "attempts": n, "correct": correct,
                    "correct_rate": (correct / n) if n else None, "average_points": avg,
                    "archived": q.archived_at is not None})
    return out


# --- exports --------------------------------------------------------------------------------


def gradebook_table(course: Course, enrolments: list[Enrolment], lang: str = "zh") -> list[list]:
    """The gradebook as a table of plain values (header row first), for CSV and Excel."""
    from flask_babel import gettext as _

    columns, rows = gradebook(course, enrolments)
    header = [_("Learner"), _("Login"), _("Class"), _("Status"), _("Progress (%)"), _("Study hours"),
              _("Completed on")] + [lesson.title(lang) for lesson in columns]
    table = [header]
    for r in rows:
        e = r.enrolment
        table.append([e.user.display_name, e.user.login, e.course_class.name if e.course_class else "",
                      e.status, r.progress_percent, float(r.study_hours),
                      e.completed_at.strftime("%Y-%m-%d %H:%M") if e.completed_at else ""]
                     + [_cell_value(r, lesson.id) for lesson in columns])
    return table


def _cell_value(row: GradebookRow, lesson_id: int) -> str:
    text = row.cells[lesson_id]
    verdict = row.passed[lesson_id]
    if verdict is True:
        return text + " (passed)"
    if verdict is False:
        return text + " (not passed)"
    return "" if text == "—" else text


def gradebook_csv(table: list[list]) -> bytes:
    return csv_bytes(table)


def gradebook_xlsx(table: list[list], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = (title or "Gradebook")[:31].translate({ord(c): "_" for c in "[]:*?/\\"})
    write_rows(ws, table)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
