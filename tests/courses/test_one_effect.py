"""One effect per intent: 20 simultaneous identical enrolments (form, API, CSV) make one enrolment,
20 simultaneous gradings of one hand-in grade it once, nobody grades their own work, and the
delivery events go out once, after commit, never after a rollback."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core import extension_points as events
from lms.core.db import db
from lms.testing import WebSession, in_parallel
from tests.courses.delivery_support import build_world

N = 20


def _statuses(results):
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = [status for status, _body in results]
    assert all(s < 500 for s in statuses), statuses
    return statuses


def _enrolments(course_id, user_id):
    from courses.models import Enrolment

    return db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)
                             .where(Enrolment.course_id == course_id, Enrolment.user_id == user_id))


def test_twenty_simultaneous_self_enrolments_make_one(app, live_server, create_user, create_org):
    w = build_world(create_user, create_org, kinds=("text",), learners=0)
    learner = create_user("learner", w.school)
    w.course.self_enrolment = True
    db.session.commit()
    course_id, learner_id = w.course.id, learner.id
    db.session.rollback()
    web = WebSession(live_server.url).login(learner)
    token = web.csrf(f"/courses/{course_id}")
    statuses = _statuses(in_parallel(N, lambda i: web.request("POST", f"/courses/{course_id}/enrol",
                                                              form={"csrf_token": token})))
    assert set(statuses) <= {302, 303}, statuses
    assert _enrolments(course_id, learner_id) == 1


def test_twenty_simultaneous_api_and_csv_enrolments_make_one_each(app, live_server, create_user, create_org,
                                                                  api_token):
    w = build_world(create_user, create_org, kinds=("text",), learners=0)
    admin = create_user("institution_admin", w.school)
    one, two = create_user("learner", w.school), create_user("learner", w.school)
    course_id, headers = w.course.id, api_token(admin)
    one_id, two_id, two_login = one.id, two.id, two.login
    db.session.rollback()
    web = WebSession(live_server.url)
    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/api/v1/courses/{course_id}/enrolments", json={"user_id": one_id}, headers=headers)))
    assert statuses.count(201) == 1 and statuses.count(409) == N - 1, statuses
    assert _enrolments(course_id, one_id) == 1
    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/api/v1/courses/{course_id}/enrolments/bulk", json={"csv": f"login\n{two_login}\n"},
        headers=headers)))
    assert set(statuses) == {201}, statuses
    assert _enrolments(course_id, two_id) == 1


def test_twenty_simultaneous_gradings_of_one_hand_in_grade_it_once(app, live_server, create_user, create_org):
    from courses.delivery import operations as ops
    from courses.models import Submission
    from lms.xapi.models import Statement

    w = build_world(create_user, create_org, kinds=("practical",))
    sub = ops.submit_practical(w.learner, w.lesson("practical").id, "接好了")
    db.session.commit()
    sub_id, teacher = sub.id, w.teacher
    db.session.rollback()
    web = WebSession(live_server.url).login(teacher)
    token = web.csrf(f"/teach/submissions/{sub_id}")
    form = {"csrf_token": token, "score": "88", "passed": "y", "comment": "好"}
    statuses = _statuses(in_parallel(N, lambda i: web.request("POST", f"/teach/submissions/{sub_id}", form=form)))
    assert statuses.count(302) == 1 and statuses.count(409) == N - 1, statuses
    db.session.expire_all()
    assert db.session.get(Submission, sub_id).status == "graded"
    graded = [s for s in db.session.scalars(sa.select(Statement))
              if s.full["verb"]["id"] in ("http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/failed")]
    assert len(graded) == 1


def test_nobody_grades_their_own_hand_in(app, client, auth, create_user, create_org):
    from courses.delivery import operations as ops
    from courses.models import CourseClass, Submission
    from courses.operations.enrolment import enrol

    w = build_world(create_user, create_org, kinds=("practical",), learners=0)
    mentor = create_user("mentor", w.school)  # grades the class's work, and studies in it too
    enrol(mentor, w.course, by=mentor, course_class=db.session.get(CourseClass, w.cls.id))
    sub = ops.submit_practical(mentor, w.lesson("practical").id, "我自己的作业")
    db.session.commit()
    auth.login(mentor)
    page = client.get(f"/teach/submissions/{sub.id}")
    from lms.testing import csrf_token_from

    r = client.post(f"/teach/submissions/{sub.id}", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                                          "score": "100", "passed": "y"})
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Submission, sub.id).status == "submitted"


def test_delivery_events_are_sent_once_after_commit_and_never_after_rollback(app, create_user, create_org,
                                                                             received_events):
    from courses.delivery import operations as ops
    from courses.operations.enrolment import enrol

    enrolled = received_events(events.enrolment_created)
    lessons = received_events(events.lesson_completed)
    courses_done = received_events(events.course_completed)
    w = build_world(create_user, create_org, kinds=("text",), learners=0)
    learner = create_user("learner", w.school)
    enrol(learner, w.course, by=w.teacher)
    db.session.rollback()
    assert enrolled == []
    enrolment = enrol(learner, w.course, by=w.teacher)
    assert enrolled == []
    db.session.commit()
    assert [s for s, _kw in enrolled] == [enrolment]
    ops.open_lesson(learner, w.lesson("text").id)
    db.session.rollback()
    assert lessons == [] and courses_done == []
    ops.open_lesson(learner, w.lesson("text").id)
    db.session.commit()
    assert lessons == [(enrolment, {"lesson_id": w.lesson("text").id})]
    assert [s for s, _kw in courses_done] == [enrolment]
    ops.open_lesson(learner, w.lesson("text").id)  # already completed: no second event
    db.session.commit()
    assert len(lessons) == 1 and len(courses_done) == 1


def test_a_regrade_is_an_explicit_action(app, create_user, create_org):
    import pytest

    from courses.delivery import operations as ops

    w = build_world(create_user, create_org, kinds=("practical",))
    sub = ops.submit_practical(w.learner, w.lesson("practical").id, "接好了")
    with pytest.raises(ops.DeliveryError) as info:
        ops.regrade_submission(w.teacher, sub.id, score=50, passed=False)
    assert info.value.code == "not_graded"
    ops.grade_submission(w.teacher, sub.id, score=40, passed=False)
    with pytest.raises(ops.DeliveryError) as info:
        ops.grade_submission(w.teacher, sub.id, score=90, passed=True)
    assert info.value.code == "already_graded"
    ops.regrade_submission(w.teacher, sub.id, score=90, passed=True, comment="复核后通过")
    db.session.commit()
    assert (sub.score, sub.passed, sub.comment) == (90, True, "复核后通过")
    assert ops.progress_row(w.enrolment, w.lesson("practical")).status == "completed"
