"""Teacher views: gradebook, per-learner progress, item analysis, grading queue, exports, scope."""
import io

import sqlalchemy as sa

from courses.delivery import operations as ops
from courses.models import Submission
from lms.core.db import db
from lms.testing import csrf_token_from
from tests.courses.delivery_support import build_world, correct_form, statements_for, wrong_form  # noqa: F401


def _with_results(create_user, create_org):
    w = build_world(create_user, create_org, kinds=("text", "quiz", "practical"), learners=2)
    quiz = w.lesson("quiz")
    a = ops.start_attempt(w.learners[0], quiz.id)
    ops.submit_attempt(w.learners[0], a.id, correct_form(w.questions))
    b = ops.start_attempt(w.learners[1], quiz.id)
    ops.submit_attempt(w.learners[1], b.id, wrong_form(w.questions))
    ops.submit_practical(w.learners[0], w.lesson("practical").id, "我接好了开关电路。")
    db.session.commit()
    return w


def test_gradebook_shows_the_class_and_exports(client, auth, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    auth.login(w.teacher)
    page = client.get(f"/teach/course/{w.course.id}?class_id={w.cls.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "学员1" in html and "学员2" in html and "100%" in html and "0%" in html
    csv_resp = client.get(f"/teach/course/{w.course.id}/gradebook.csv")
    assert csv_resp.status_code == 200 and "学员1" in csv_resp.data.decode("utf-8-sig")
    xlsx = client.get(f"/teach/course/{w.course.id}/gradebook.xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(ws.values)
    assert len(rows) == 3 and rows[1][0] in ("学员1", "学员2")
    api = client.get(f"/api/v1/courses/teaching/classes/{w.cls.id}/results").get_json()
    assert len(api["items"]) == 2


def test_item_analysis_counts_correct_answers(client, auth, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    auth.login(w.teacher)
    html = client.get(f"/teach/lesson/{w.lesson('quiz').id}/items").get_data(as_text=True)
    assert html.count("50%") == 4  # each question: one learner right, one wrong


def test_grading_a_practical_task_completes_the_lesson_and_records_it(client, auth, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    sub = db.session.scalars(sa.select(Submission)).one()
    auth.login(w.teacher)
    queue = client.get("/teach/queue").get_data(as_text=True)
    assert "学员1" in queue
    page = client.get(f"/teach/submissions/{sub.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    bad = client.post(f"/teach/submissions/{sub.id}", data={"csrf_token": token, "score": "150", "passed": "y"})
    assert bad.status_code == 200 and db.session.get(Submission, sub.id).status == "submitted"
    resp = client.post(f"/teach/submissions/{sub.id}", data={"csrf_token": token, "score": "85", "passed": "y",
                                                              "comment": "接线规范"})
    assert resp.status_code == 302
    sub = db.session.get(Submission, sub.id)
    assert (sub.status, sub.score, sub.passed, sub.graded_by_id) == ("graded", 85, True, w.teacher.id)
    assert w.lesson("practical").id in ops.completed_lesson_ids(sub.enrolment)
    [st] = statements_for(w.learners[0], "passed", w.lesson("practical").activity_iri)
    assert st.result["score"]["raw"] == 85 and st.full["context"]["instructor"]["account"]["name"] == str(w.teacher.uuid)
    assert client.post(f"/teach/submissions/{sub.id}", data={"csrf_token": token, "score": "10"}).status_code == 409


def test_teachers_see_only_their_courses_and_classes(client, auth, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    other_school = create_org("另一所学校", "institution")
    other_teacher = create_user("teacher", other_school)
    learner = create_user("learner", other_school)
    auth.login(other_teacher)
    assert client.get(f"/teach/course/{w.course.id}").status_code == 404
    assert client.get(f"/teach/lesson/{w.lesson('quiz').id}/items").status_code == 404
    sub = db.session.scalars(sa.select(Submission)).one()
    assert client.get(f"/teach/submissions/{sub.id}").status_code == 404
    assert client.get(f"/teach/enrolment/{w.enrolments[0].id}").status_code == 404
    assert client.get(f"/api/v1/courses/teaching/classes/{w.cls.id}/results").status_code == 404
    auth.logout()
    auth.login(learner)
    assert client.get("/teach/").status_code == 403


def test_per_learner_progress_page(client, auth, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    auth.login(w.teacher)
    html = client.get(f"/teach/enrolment/{w.enrolments[0].id}").get_data(as_text=True)
    assert "学员1" in html and "quiz课" in html and "5/5" in html


def test_learner_api_lists_enrolments_with_progress(client, api_token, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    headers = api_token(w.learners[0])
    items = client.get("/api/v1/courses/my/enrolments", headers=headers).get_json()["items"]
    assert len(items) == 1 and items[0]["course_code"] == "ELEC-101" and items[0]["progress"] > 0
    detail = client.get(f"/api/v1/courses/my/enrolments/{items[0]['id']}", headers=headers).get_json()
    assert {x["kind"]: x["status"] for x in detail["lessons"]}["quiz"] == "completed"
    other = client.get(f"/api/v1/courses/my/enrolments/{w.enrolments[1].id}", headers=headers)
    assert other.status_code == 404


def test_teacher_course_results_api_and_scope(client, api_token, app, create_user, create_org):
    w = _with_results(create_user, create_org)
    body = client.get(f"/api/v1/courses/teaching/courses/{w.course.id}/results", headers=api_token(w.teacher)).get_json()
    quiz = str(w.lesson("quiz").id)
    passed = sorted(item["results"][quiz]["passed"] for item in body["items"])
    assert passed == [False, True]
    assert client.get(f"/api/v1/courses/teaching/courses/{w.course.id}/results?class_id=x",
                      headers=api_token(w.teacher)).status_code == 400
    learner = api_token(w.learners[0])
    assert client.get(f"/api/v1/courses/teaching/courses/{w.course.id}/results", headers=learner).status_code == 403


def test_video_report_api_uses_the_same_rules(client, api_token, app, create_user, create_org):
    w = build_world(create_user, create_org, kinds=("video",))
    headers = api_token(w.learner)
    video = w.lesson("video")
    resp = client.post(f"/api/v1/courses/lessons/{video.id}/media", json={"event": "start", "position": 0,
                                                                          "watched": 0, "duration": 100}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["progress"] == 0
    resp = client.post(f"/api/v1/courses/lessons/{video.id}/media", json={"position": 100, "watched": 500},
                       headers=headers)
    assert resp.status_code == 200 and resp.get_json()["completed"] is False  # capped by the wall clock
    resp = client.post(f"/api/v1/courses/lessons/{video.id}/media", json={"position": -1, "watched": 1},
                       headers=headers)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_report"
