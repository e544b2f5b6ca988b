"""Enrolment rules: self-enrolment, enrolment by an organisation's administrator (one or a CSV),
withdrawal, classes.

An enrolment is recorded in the LRS as a ``registered`` statement in the same transaction; its
``registration`` UUID is the xAPI context registration of everything the learner then does.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.models import Course, CourseClass, Enrolment
from courses.operations.errors import CourseError
from courses.setup import ADMIN_ROLES, may_edit_course
from lms.accounts.operations import find_user
from lms.core import extension_points as events
from lms.core import permissions
from lms.core.db import db, insert_once, lock_row, utcnow
from lms.core.events import send_after_commit

#: Largest CSV accepted for bulk enrolment.
MAX_CSV_LINES = 5000


def _check_enrollable(course: Course) -> None:
    if course.status != "published":
        raise CourseError(_l("This course is not open for enrolment."), status=409, code="not_enrollable")


def _may_enrol_learner(by, learner, course: Course) -> bool:
    """An administrator may enrol members of their organisation; a course's teachers may enrol
    members of the course's organisation (system admins: anyone)."""
    if by.is_system_admin:
        return True
    if permissions.is_supervisor(by):
        return False
    if course.organisation_id is not None and course.organisation_id in learner.organisation_ids() \
            and may_edit_course(by, course):
        return True
    orgs = by.organisation_ids(*ADMIN_ROLES)
    return bool(orgs & learner.organisation_ids()) and any(permissions.can(by, "courses.enrol_others", o) for o in orgs)


def enrol(learner, course: Course, *, by, course_class: CourseClass | None = None) -> Enrolment:
    """Enrol ``learner`` in ``course``; ``by`` is the learner (self-enrolment) or an administrator.

    A withdrawn enrolment is re-activated (same registration, records kept).
    """
    if learner is None:
        raise CourseError(_l("No account with this login."), "login", status=404, code="not_found")
    _check_enrollable(course)
    if permissions.is_supervisor(by) and not by.is_system_admin and "learner" not in by.roles():
        raise CourseError(_l("Supervisors have read-only access."), status=403, code="forbidden")
    if by.id == learner.id:
        if not course.self_enrolment and not _may_enrol_learner(by, learner, course):
            raise CourseError(_l("This course does not allow self-enrolment; ask your organisation to enrol you."),
                              status=403, code="self_enrolment_closed")
    elif not _may_enrol_learner(by, learner, course):
        raise CourseError(_l("You may only enrol members of your organisation."), "login", status=403,
                          code="forbidden")
    if course_class is not None and course_class.course_id != course.id:
        raise CourseError(_l("Choose a class of this course."), "class_id")
    def find():
        return db.session.scalars(sa.select(Enrolment).filter_by(user_id=learner.id, course_id=course.id)).first()

    def already():
        return CourseError(_l("%(name)s is already enrolled in this course.", name=learner.display_name),
                           "login", status=409, code="already_enrolled")

    existing = find()
    if existing is not None:
        lock_row(existing)  # two re-activations at once: the second finds it active
        if existing.status != "withdrawn":
            raise already()
        existing.status = "completed" if existing.completed_at else "active"
        existing.withdrawn_at = None
        if course_class is not None:
            existing.class_id = course_class.id
        db.session.flush()
        send_after_commit(events.enrolment_created, existing)
        return existing
    # A concurrent identical request may insert the same enrolment first: the unique constraint
    # on (user, course) decides, and the loser answers as if it had come second.
    enrolment, created = insert_once(Enrolment(user=learner, course=course, enrolled_by_id=by.id,
                                               class_id=course_class.id if course_class else None,
                                               enrolled_at=utcnow()), find)
    if not created:
        raise already()
    from courses.delivery import statements as delivery_statements  # the one place statements are built

    delivery_statements.enrolled(enrolment)
    send_after_commit(events.enrolment_created, enrolment)
    return enrolment


def withdraw(enrolment: Enrolment, *, by) -> Enrolment:
    """Withdraw an enrolment (the learner, or an administrator of theirs). Records are kept."""
    if by.id != enrolment.user_id and not _may_enrol_learner(by, enrolment.user, enrolment.course) \
            and not may_edit_course(by, enrolment.course):
        raise CourseError(_l("You may not change this enrolment."), status=403, code="forbidden")
    if enrolment.status == "withdrawn":
        raise CourseError(_l("This enrolment is already withdrawn."), status=409, code="conflict")
    enrolment.status = "withdrawn"
    enrolment.withdrawn_at = utcnow()
    db.session.flush()
    return enrolment


@dataclass
class BulkReport:
    """The outcome of a bulk enrolment: per-line errors, or the enrolments made."""

    #: (line number, login, message) for every line that could not be enrolled
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    #: (line number, login) enrolled
    enrolled: list[tuple[int, str]] = field(default_factory=list)
    #: (line number, login) already enrolled, left as they were
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _find_class(course: Course, name: str) -> CourseClass | None:
    return db.session.scalars(sa.select(CourseClass).filter_by(course_id=course.id, name=name)).first()


def bulk_enrol_csv(by, course: Course, text: str) -> BulkReport:
    """Enrol the learners listed in a CSV (``login[,class]``, header optional), all or nothing.

    Every line is checked first; if any line is wrong, nobody is enrolled and the report lists
    each faulty line with its number. Learners already enrolled are skipped (reported).
    """
    _check_enrollable(course)
    if not (by.is_system_admin or by.organisation_ids(*ADMIN_ROLES) or may_edit_course(by, course)) \
            or permissions.is_supervisor(by):
        raise CourseError(_l("You may not enrol other people."), status=403, code="forbidden")
    report = BulkReport()
    rows = list(csv.reader(io.StringIO((text or "").lstrip("\ufeff"))))
    if len(rows) > MAX_CSV_LINES:
        raise CourseError(_l("At most %(n)s lines at a time.", n=MAX_CSV_LINES), "csv_file")
    plan = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        login = cells[0]
        if number == 1 and login.lower() in ("login", "email", "mobile", "账号", "登录名"):
            continue
        class_name = cells[1] if len(cells) > 1 else ""
        learner = find_user(login) if login else None
        course_class = _find_class(course, class_name) if class_name else None
        if not login:
            report.errors.append((number, login, str(_l("No login given."))))
        elif login.lower() in seen:
            report.errors.append((number, login, str(_l("Duplicate of line %(n)s.", n=seen[login.lower()]))))
        elif learner is None:
            report.errors.append((number, login, str(_l("No account with this login."))))
        elif not _may_enrol_learner(by, learner, course):
            report.errors.append((number, login, str(_l("Not a member of your organisation."))))
        elif class_name and course_class is None:
            report.errors.append((number, login, str(_l("No class named “%(name)s” in this course.",
                                                        name=class_name))))
        else:
            plan.append((number, login, learner, course_class))
        seen.setdefault(login.lower(), number)
    if not plan and not report.errors:
        raise CourseError(_l("The file lists no learners."), "csv_file")
    if report.errors:
        return report
    for number, login, learner, course_class in plan:
        existing = db.session.scalars(sa.select(Enrolment).filter_by(user_id=learner.id, course_id=course.id)).first()
        if existing is not None and existing.status != "withdrawn":
            report.skipped.append((number, login))
            continue
        try:
            enrol(learner, course, by=by, course_class=course_class)
        except CourseError as exc:
            if exc.code != "already_enrolled":  # enrolled meanwhile by a concurrent request
                raise
            report.skipped.append((number, login))
            continue
        report.enrolled.append((number, login))
    return report


# --- classes ---------------------------------------------------------------------------------


def _may_manage_classes(by, course: Course, organisation_id: int | None) -> bool:
    if by.is_system_admin or may_edit_course(by, course):
        return True
    if permissions.is_supervisor(by):
        return False
    return organisation_id is not None and permissions.can(by, "courses.manage_classes", organisation_id) and \
        bool(by.roles(organisation_id) & set(ADMIN_ROLES))


def create_class(by, course: Course, name: str, *, teacher=None, organisation_id: int | None = None) -> CourseClass:
    """A class of ``course`` under ``teacher`` in ``organisation_id``."""
    name = (name or "").strip()
    if not name:
        raise CourseError(_l("The class name is required."), "name")
    if organisation_id is None:
        organisation_id = course.organisation_id
    if not _may_manage_classes(by, course, organisation_id):
        raise CourseError(_l("You may not create classes for this course."), status=403, code="forbidden")
    if _find_class(course, name) is not None:
        raise CourseError(_l("This course already has a class with that name."), "name", status=409, code="conflict")
    if teacher is not None and not teacher.is_system_admin and not (
            teacher.roles(organisation_id) & {"teacher", "mentor"} or teacher in course.teachers):
        raise CourseError(_l("The teacher must be a teacher or mentor of the class's organisation."), "teacher_login")
    row = CourseClass(course=course, name=name[:200], teacher=teacher, organisation_id=organisation_id)
    db.session.add(row)
    db.session.flush()
    return row


def assign_class(by, enrolment: Enrolment, course_class: CourseClass | None) -> Enrolment:
    """Put an enrolment in a class (or take it out with ``None``)."""
    course = enrolment.course
    target_org = course_class.organisation_id if course_class else None
    if not (_may_manage_classes(by, course, target_org) or _may_enrol_learner(by, enrolment.user, course)):
        raise CourseError(_l("You may not change this enrolment."), status=403, code="forbidden")
    if course_class is not None and course_class.course_id != enrolment.course_id:
        raise CourseError(_l("Choose a class of this course."), "class_id")
    enrolment.class_id = course_class.id if course_class else None
    db.session.flush()
    return enrolment
