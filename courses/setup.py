"""Permissions and visibility scopes of the courses plugin.

Who sees what (DESIGN.md section 7):

* a course: everyone logged in sees published courses; teachers see the courses they teach or
  created; an organisation's administrators see its courses; learners also see courses they are
  enrolled in (even when archived); supervisors see all;
* an enrolment: the learner's own; a course's teachers, a class's teacher; administrators and
  mentors of an organisation the learner belongs to, or of the course's organisation;
* a class: its teacher, the course's teachers, its organisation's administrators, its learners.

Who may change what: :func:`may_edit_course` (course teachers, the creator, the owning
organisation's institution administrators, system administrators; never supervisors).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.models import Course, CourseClass, Enrolment, course_teachers
from lms.core import permissions
from lms.organisations.models import Membership

ADMIN_ROLES = ("enterprise_admin", "institution_admin")

#: Labels of the skill-ladder rungs (职业技能等级).
LEVEL_LABELS = {
    0: _l("Apprentice (学徒工)"), 1: _l("Level 5 / Junior worker (初级工)"),
    2: _l("Level 4 / Intermediate worker (中级工)"), 3: _l("Level 3 / Senior worker (高级工)"),
    4: _l("Level 2 / Technician (技师)"), 5: _l("Level 1 / Senior technician (高级技师)"),
    6: _l("Special-grade technician (特级技师)"), 7: _l("Chief technician (首席技师)"),
}
STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "archived": _l("Archived")}
KIND_LABELS = {"text": _l("Text"), "video": _l("Video"), "document": _l("Document"), "quiz": _l("Quiz"),
               "practical": _l("Practical task"), "external": _l("External activity")}
QUESTION_KIND_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"),
                        "truefalse": _l("True / false"), "fillin": _l("Fill in the blank")}
ENROLMENT_STATUS_LABELS = {"active": _l("Active"), "completed": _l("Completed"), "withdrawn": _l("Withdrawn")}


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_course_teacher(user, course) -> bool:
    return _authenticated(user) and (course.created_by_id == user.id or any(t.id == user.id for t in course.teachers))


def may_edit_course(user, course) -> bool:
    """Whether ``user`` may author ``course`` (never a supervisor acting read-only)."""
    if not _authenticated(user):
        return False
    if user.is_system_admin:
        return True
    if is_course_teacher(user, course):
        return True
    return course.organisation_id is not None and "institution_admin" in user.roles(course.organisation_id)


def may_teach_course(user, course) -> bool:
    """Teachers of the course (and its editors): see every enrolment, class and result of it."""
    return may_edit_course(user, course)


def may_manage_enrolments(user, organisation_id: int | None = None) -> bool:
    return permissions.can(user, "courses.enrol_others", organisation_id)


def _teaches_stmt(user):
    return sa.select(course_teachers.c.course_id).where(course_teachers.c.user_id == user.id)


@permissions.scope(Course)
def _courses_visible(user, stmt):
    if permissions.is_supervisor(user):
        return stmt
    admin_orgs = user.organisation_ids(*ADMIN_ROLES)
    enrolled = sa.select(Enrolment.course_id).where(Enrolment.user_id == user.id)
    return stmt.where(sa.or_(
        Course.status == "published",
        Course.created_by_id == user.id,
        Course.id.in_(_teaches_stmt(user)),
        Course.id.in_(enrolled),
        Course.organisation_id.in_(admin_orgs or {-1}),
    ))


def _member_user_ids(org_ids):
    return sa.select(Membership.user_id).where(Membership.organisation_id.in_(org_ids or {-1}))


@permissions.scope(Enrolment)
def _enrolments_visible(user, stmt):
    if permissions.is_supervisor(user):
        return stmt
    staff_orgs = user.organisation_ids(*ADMIN_ROLES, "mentor")
    admin_orgs = user.organisation_ids(*ADMIN_ROLES)
    taught = sa.select(Course.id).where(sa.or_(Course.created_by_id == user.id, Course.id.in_(_teaches_stmt(user)),
                                               Course.organisation_id.in_(admin_orgs or {-1})))
    classes = sa.select(CourseClass.id).where(CourseClass.teacher_id == user.id)
    return stmt.where(sa.or_(
        Enrolment.user_id == user.id,
        Enrolment.course_id.in_(taught),
        Enrolment.class_id.in_(classes),
        Enrolment.user_id.in_(_member_user_ids(staff_orgs)),
    ))


@permissions.scope(CourseClass)
def _classes_visible(user, stmt):
    if permissions.is_supervisor(user):
        return stmt
    admin_orgs = user.organisation_ids(*ADMIN_ROLES)
    taught = sa.select(Course.id).where(sa.or_(Course.created_by_id == user.id, Course.id.in_(_teaches_stmt(user))))
    mine = sa.select(Enrolment.class_id).where(Enrolment.user_id == user.id, Enrolment.class_id.is_not(None))
    return stmt.where(sa.or_(
        CourseClass.teacher_id == user.id,
        CourseClass.course_id.in_(taught),
        CourseClass.organisation_id.in_(admin_orgs or {-1}),
        CourseClass.id.in_(mine),
    ))


def catalogue_stmt(user):
    """Published courses, for the catalogue (also for visitors who are not logged in)."""
    stmt = sa.select(Course).where(Course.status == "published")
    if _authenticated(user):
        return permissions.visible(user, Course, stmt)
    return stmt


def declare_permissions(app) -> None:
    permissions.declare(app, "courses.author", ("teacher", "institution_admin"),
                        _l("Create and edit courses"))
    permissions.declare(app, "courses.enrol_others", ADMIN_ROLES,
                        _l("Enrol members of the organisation in courses"))
    permissions.declare(app, "courses.manage_classes", ("teacher", *ADMIN_ROLES),
                        _l("Create classes and assign learners to them"))
