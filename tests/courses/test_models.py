"""The courses data model: activity IRIs, level tags, constraints, ordering."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.models import Course, Enrolment, Lesson, LessonProgress
from lms.core.db import db
from tests.courses.authoring_support import full_course, school_with_teacher


def test_activity_iris_are_stable_and_under_the_base_iri(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    base = app.config["LMS_BASE_IRI"].rstrip("/")
    lesson = course.live_lessons[0]
    question = course.live_lessons[2].live_questions[0]
    assert course.activity_iri == f"{base}/course/{course.uuid}"
    assert course.live_modules[0].activity_iri == f"{base}/module/{course.live_modules[0].uuid}"
    assert lesson.activity_iri == f"{base}/lesson/{lesson.uuid}"
    assert question.activity_iri == f"{base}/question/{question.uuid}"
    before = lesson.activity_iri
    lesson.title_zh = "改名"
    db.session.commit()
    assert db.session.get(Lesson, lesson.id).activity_iri == before


def test_levels_are_a_sorted_set_of_ladder_rungs(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    course.levels = [3, 1, 3]
    db.session.commit()
    assert db.session.get(Course, course.id).levels == [1, 3]


def test_live_lessons_follow_module_then_lesson_order_and_skip_archived(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    kinds = [lesson.kind for lesson in course.live_lessons]
    assert kinds == ["text", "video", "quiz", "practical"]
    from lms.core.db import utcnow

    course.live_lessons[1].archived_at = utcnow()
    db.session.commit()
    assert [lesson.kind for lesson in db.session.get(Course, course.id).live_lessons] == ["text", "quiz", "practical"]


def test_one_enrolment_per_learner_and_course(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    learner = create_user("learner", school)
    db.session.add(Enrolment(user_id=learner.id, course_id=course.id))
    db.session.commit()
    db.session.add(Enrolment(user_id=learner.id, course_id=course.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_progress_is_bounded_and_unique_per_lesson(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    learner = create_user("learner", school)
    e = Enrolment(user_id=learner.id, course_id=course.id)
    db.session.add(e)
    db.session.flush()
    lesson = course.live_lessons[0]
    db.session.add(LessonProgress(enrolment_id=e.id, lesson_id=lesson.id, progress=1.5))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
