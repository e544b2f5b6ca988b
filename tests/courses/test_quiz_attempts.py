"""Quiz attempts through the web pages: grading on the server, limits, deadlines, tampering."""
import datetime as dt

import sqlalchemy as sa

from courses.delivery import operations as ops
from courses.models import QuizAnswer, QuizAttempt
from lms.core.db import db, utcnow
from lms.testing import csrf_token_from
from tests.courses.delivery_support import build_world, correct_form, statements_for, world, wrong_form  # noqa: F401


def _start(client, quiz):
    page = client.get(f"/learn/lesson/{quiz.id}").get_data(as_text=True)
    resp = client.post(f"/learn/lesson/{quiz.id}/attempts", data={"csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    attempt_url = resp.headers["Location"]
    page = client.get(attempt_url).get_data(as_text=True)
    return attempt_url, csrf_token_from(page), page


def _counts():
    return (db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)),
            db.session.scalar(sa.select(sa.func.count()).select_from(QuizAnswer)))


def test_fail_then_pass_stores_every_answer(client, auth, world):
    auth.login(world.learner)
    quiz = world.lesson("quiz")
    url, token, page = _start(client, quiz)
    for q in world.questions:
        assert q.prompt in page
    resp = client.post(url, data={"csrf_token": token, **wrong_form(world.questions)})
    assert resp.status_code == 302
    result = client.get(url).get_data(as_text=True)
    assert "未通过" in result
    url2, token2, _ = _start(client, quiz)
    assert url2 != url
    client.post(url2, data={"csrf_token": token2, **correct_form(world.questions)})
    attempts = db.session.scalars(sa.select(QuizAttempt).order_by(QuizAttempt.number)).all()
    assert [(a.number, a.passed, a.score, a.max_score) for a in attempts] == [(1, False, 0, 5), (2, True, 5, 5)]
    answers = db.session.scalars(sa.select(QuizAnswer).where(QuizAnswer.attempt_id == attempts[1].id)).all()
    assert len(answers) == 4 and all(a.correct for a in answers)
    fill = next(a for a in answers if a.question_id == world.questions[3].id)
    assert fill.response == ["安培"] and fill.points == 1
    assert quiz.id in ops.completed_lesson_ids(attempts[1].enrolment)


def test_answers_are_graded_on_the_server_not_trusted_from_the_form(client, auth, world):
    auth.login(world.learner)
    url, token, _ = _start(client, world.lesson("quiz"))
    client.post(url, data={"csrf_token": token, "score": "100", "passed": "1", **wrong_form(world.questions)})
    a = db.session.scalars(sa.select(QuizAttempt)).one()
    assert a.score == 0 and a.passed is False


def test_another_learners_attempt_is_404_and_changes_nothing(client, auth, app, create_user, create_org):
    w = build_world(create_user, create_org, learners=2)
    quiz = w.lesson("quiz")
    theirs = ops.start_attempt(w.learners[1], quiz.id)
    db.session.commit()
    auth.login(w.learners[0])
    page = client.get(f"/learn/lesson/{quiz.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    before = _counts()
    assert client.get(f"/learn/attempts/{theirs.id}").status_code == 404
    resp = client.post(f"/learn/attempts/{theirs.id}", data={"csrf_token": token, **correct_form(w.questions)})
    assert resp.status_code == 404
    assert _counts() == before
    assert db.session.get(QuizAttempt, theirs.id).submitted_at is None


def test_attempt_limit_is_enforced(client, auth, app, create_user, create_org):
    w = build_world(create_user, create_org, max_attempts=1)
    auth.login(w.learner)
    quiz = w.lesson("quiz")
    url, token, _ = _start(client, quiz)
    client.post(url, data={"csrf_token": token, **wrong_form(w.questions)})
    page = client.get(f"/learn/lesson/{quiz.id}").get_data(as_text=True)
    assert "data-testid=\"start-attempt\"" not in page
    before = _counts()
    resp = client.post(f"/learn/lesson/{quiz.id}/attempts", data={"csrf_token": csrf_token_from(page)})
    assert resp.status_code == 409 and "1" in resp.get_data(as_text=True)
    # and re-submitting the used attempt is refused too
    resp = client.post(url, data={"csrf_token": token, **correct_form(w.questions)})
    assert resp.status_code == 409
    assert _counts() == before
    assert db.session.scalars(sa.select(QuizAttempt)).one().passed is False


def test_answers_after_the_deadline_are_refused(client, auth, app, create_user, create_org):
    w = build_world(create_user, create_org, time_limit=60)
    auth.login(w.learner)
    url, token, page = _start(client, w.lesson("quiz"))
    assert 'role="timer"' in page
    attempt = db.session.scalars(sa.select(QuizAttempt)).one()
    attempt.started_at = utcnow() - dt.timedelta(minutes=5)
    attempt.deadline = utcnow() - dt.timedelta(minutes=4)
    db.session.commit()
    before = _counts()
    resp = client.post(url, data={"csrf_token": token, **correct_form(w.questions)})
    assert resp.status_code == 409
    assert _counts() == before
    assert db.session.get(QuizAttempt, attempt.id).submitted_at is None
    # the next start closes the expired attempt as failed and opens attempt 2
    ops.start_attempt(w.learner, w.lesson("quiz").id)
    db.session.commit()
    rows = db.session.scalars(sa.select(QuizAttempt).order_by(QuizAttempt.number)).all()
    assert rows[0].passed is False and rows[0].submitted_at is not None and len(rows) == 2


def test_unknown_choice_or_question_is_400_and_changes_nothing(client, auth, world):
    auth.login(world.learner)
    url, token, _ = _start(client, world.lesson("quiz"))
    q0 = world.questions[0]
    before = _counts()
    for bad in ({f"q{q0.id}": ["c-nope"]}, {"q999999": ["x"]}, {f"q{q0.id}": [q0.correct[0], q0.choices[1]["id"]]},
                {f"q{world.questions[2].id}": ["maybe"]}):
        resp = client.post(url, data={"csrf_token": token, **bad})
        assert resp.status_code == 400, bad
    assert _counts() == before
    assert db.session.scalars(sa.select(QuizAttempt)).one().submitted_at is None


def test_quiz_of_unpublished_or_unenrolled_course_is_refused(client, auth, app, create_user, create_org):
    from courses.operations import authoring

    w = build_world(create_user, create_org)
    quiz = w.lesson("quiz")
    stranger = create_user("learner", w.school)
    auth.login(stranger)
    page = client.get("/learn/").get_data(as_text=True)
    assert client.post(f"/learn/lesson/{quiz.id}/attempts", data={"csrf_token": csrf_token_from(page)}).status_code == 403
    auth.logout()
    attempt = ops.start_attempt(w.learner, quiz.id)
    authoring.archive(w.teacher, w.course)
    db.session.commit()
    auth.login(w.learner)
    page = client.get("/learn/").get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post(f"/learn/lesson/{quiz.id}/attempts", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/learn/attempts/{attempt.id}", data={"csrf_token": token, **correct_form(w.questions)}).status_code == 404
    assert db.session.get(QuizAttempt, attempt.id).submitted_at is None


def test_shuffled_attempts_store_their_order(app, create_user, create_org):
    w = build_world(create_user, create_org, shuffle=True)
    attempt = ops.start_attempt(w.learner, w.lesson("quiz").id)
    db.session.commit()
    assert sorted(attempt.question_order) == sorted(q.id for q in w.questions)
    multi = w.questions[1]
    assert sorted(attempt.choice_order[str(multi.id)]) == sorted(c["id"] for c in multi.choices)
    shown = [q.id for q in ops.attempt_questions(attempt)]
    assert shown == attempt.question_order
    # the open attempt is resumed, not replaced
    assert ops.start_attempt(w.learner, w.lesson("quiz").id).id == attempt.id


def test_quiz_api_round_trip(client, api_token, world):
    headers = api_token(world.learner)
    quiz = world.lesson("quiz")
    resp = client.post(f"/api/v1/courses/lessons/{quiz.id}/attempts", headers=headers)
    assert resp.status_code == 201
    body = resp.get_json()
    assert len(body["questions"]) == 4 and "correct" not in body["questions"][0]
    answers = {k[1:]: v for k, v in correct_form(world.questions).items()}
    resp = client.post(f"/api/v1/courses/attempts/{body['id']}/submit", json={"answers": answers}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["passed"] is True
    resp = client.post(f"/api/v1/courses/attempts/{body['id']}/submit", json={"answers": answers}, headers=headers)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "already_submitted"
    results = client.get("/api/v1/courses/my/results", headers=headers).get_json()["items"]
    assert [r["passed"] for r in results] == [True]


def test_a_raced_double_submit_is_a_clean_409(client, auth, world, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    auth.login(world.learner)
    quiz = world.lesson("quiz")
    page = client.get(f"/learn/lesson/{quiz.id}").get_data(as_text=True)

    def raced(*a, **kw):
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key"))

    monkeypatch.setattr(ops, "start_attempt", raced)
    resp = client.post(f"/learn/lesson/{quiz.id}/attempts", data={"csrf_token": csrf_token_from(page)})
    assert resp.status_code == 409
    assert _counts() == (0, 0)
