"""Editing a published course never loses or corrupts learners' progress and results."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.models import (Course, Enrolment, Lesson, LessonProgress, Module, Question, QuizAnswer, QuizAttempt)
from courses.operations import authoring as ops
from courses.operations.enrolment import enrol
from courses.operations.errors import CourseError
from lms.core.db import db, utcnow
from tests.courses.authoring_support import full_course, post_form, school_with_teacher


@pytest.fixture
def studied(app, create_user, create_org):
    """A published course where a learner completed the text lesson and answered the quiz."""
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    learner = create_user("learner", school)
    enrolment = enrol(learner, course, by=learner)
    text, _video, quiz, _practical = course.live_lessons
    db.session.add(LessonProgress(enrolment_id=enrolment.id, lesson_id=text.id, status="completed", progress=1.0,
                                  seconds_spent=300, completed_at=utcnow()))
    q1 = quiz.live_questions[0]
    attempt = QuizAttempt(enrolment_id=enrolment.id, lesson_id=quiz.id, number=1, submitted_at=utcnow(), score=2,
                          max_score=4, scaled=0.5, passed=False, question_order=[q.id for q in quiz.live_questions])
    db.session.add(attempt)
    db.session.flush()
    db.session.add(QuizAnswer(attempt_id=attempt.id, question_id=q1.id, response=[q1.correct[0]], correct=True,
                              points=2, max_points=2))
    db.session.commit()
    return {"teacher": teacher, "course": course, "enrolment": enrolment, "text": text, "quiz": quiz, "q1": q1,
            "attempt": attempt, "learner": learner}


def _snapshot(enrolment_id):
    db.session.expire_all()
    progress = [(p.lesson_id, p.status, p.progress, p.seconds_spent) for p in db.session.scalars(
        sa.select(LessonProgress).filter_by(enrolment_id=enrolment_id).order_by(LessonProgress.id))]
    attempts = [(a.id, a.score, a.max_score, a.scaled, a.passed) for a in db.session.scalars(
        sa.select(QuizAttempt).filter_by(enrolment_id=enrolment_id))]
    answers = [(a.question_id, a.response, a.correct, a.points) for a in db.session.scalars(sa.select(QuizAnswer))]
    e = db.session.get(Enrolment, enrolment_id)
    return progress, attempts, answers, (e.status, str(e.registration))


def test_editing_content_of_a_published_course_keeps_progress_and_results(studied, client, auth):
    s = studied
    before = _snapshot(s["enrolment"].id)
    auth.login(s["teacher"])
    course_id = s["course"].id
    resp = post_form(client, f"/courses/manage/lessons/{s['text'].id}",
                     {"title_zh": "安全须知（修订）", "body_format": "markdown", "body_source": "新内容", "required": "y"})
    assert resp.status_code == 302
    resp = post_form(client, f"/courses/manage/questions/{s['q1'].id}",
                     {"kind": "single", "prompt": "焊接时应佩戴？", "choices_text": "面罩 | Mask\n* 墨镜 | Sunglasses",
                      "points": "5"})
    assert resp.status_code == 302
    resp = post_form(client, f"/courses/manage/{course_id}", {}, action=f"/courses/manage/{course_id}/publish")
    assert resp.status_code == 302
    assert _snapshot(s["enrolment"].id) == before  # answers keep response, correctness and points
    course = db.session.get(Course, course_id)
    assert course.version == 2 and course.status == "published"
    assert db.session.get(Question, s["q1"].id).points == 5


def test_removing_a_studied_lesson_archives_it_and_keeps_records(studied, client, auth):
    s = studied
    before = _snapshot(s["enrolment"].id)
    auth.login(s["teacher"])
    resp = post_form(client, f"/courses/manage/{s['course'].id}", {},
                     action=f"/courses/manage/lessons/{s['text'].id}/remove")
    assert resp.status_code == 302
    lesson = db.session.get(Lesson, s["text"].id)
    assert lesson is not None and lesson.archived_at is not None
    assert lesson.id not in [x.id for x in db.session.get(Course, s["course"].id).live_lessons]
    assert _snapshot(s["enrolment"].id) == before


def test_removing_an_answered_question_archives_it(studied):
    s = studied
    assert ops.remove_question(s["teacher"], s["q1"]) == "archived"
    db.session.commit()
    assert db.session.get(Question, s["q1"].id).archived_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAnswer)) == 1


def test_removing_an_unstudied_lesson_deletes_it(studied):
    s = studied
    video = db.session.get(Course, s["course"].id).live_lessons[1]
    assert ops.remove_lesson(s["teacher"], video) == "deleted"
    db.session.commit()
    assert db.session.get(Lesson, video.id) is None


def test_a_module_with_studied_lessons_is_archived_not_deleted(studied):
    s = studied
    module = db.session.get(Module, s["text"].module_id)
    assert ops.remove_module(s["teacher"], module) == "archived"
    db.session.commit()
    assert db.session.get(Lesson, s["text"].id) is not None
    assert _snapshot(s["enrolment"].id)[0][0][1] == "completed"


def test_a_change_that_would_break_a_published_course_is_refused(studied):
    s = studied
    quiz = db.session.get(Lesson, s["quiz"].id)
    for q in quiz.live_questions[1:]:
        ops.remove_question(s["teacher"], q)
    db.session.commit()
    with pytest.raises(CourseError) as info:
        ops.remove_question(s["teacher"], db.session.get(Question, s["q1"].id))
    assert info.value.status == 409
    db.session.rollback()
    assert db.session.get(Question, s["q1"].id).archived_at is None


def test_changing_the_kind_of_an_answered_question_is_refused(studied):
    s = studied
    with pytest.raises(CourseError):
        ops.update_question(s["teacher"], s["q1"], kind="fillin", prompt="x", accepted_answers="y")
    db.session.rollback()
    assert db.session.get(Question, s["q1"].id).kind == "single"
