"""The lesson player: opening lessons, resuming, video progress, documents, completion rules."""
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from courses.delivery import operations as ops
from lms.core.db import db, utcnow
from tests.courses.delivery_support import build_world, correct_form, statements_for, world  # noqa: F401


def _login(auth, user):
    resp = auth.login(user)
    assert resp.status_code in (302, 303)


def _token(client, url):
    from lms.testing import csrf_token_from

    return csrf_token_from(client.get(url).get_data(as_text=True))


def test_text_lesson_is_completed_when_marked_read_and_resume_points_to_the_next(client, auth, world):
    _login(auth, world.learner)
    text, video = world.lesson("text"), world.lesson("video")
    resp = client.get(f"/learn/lesson/{text.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "安全第一" in html and "<strong>不要</strong>" in html
    assert f"/learn/lesson/{video.id}" in html  # next
    token = _token(client, f"/learn/lesson/{text.id}")
    assert client.post(f"/learn/lesson/{text.id}/open", headers={"X-CSRFToken": token}).status_code == 200
    resp = client.post(f"/learn/lesson/{text.id}/complete", data={"csrf_token": token})
    assert resp.status_code == 302
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    assert e.last_lesson_id == text.id
    assert ops.completed_lesson_ids(e) == {text.id}
    assert round(e.progress, 2) == 0.33
    resp = client.get(f"/learn/course/{world.course.id}/resume")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/learn/lesson/{video.id}")
    page = client.get(f"/learn/course/{world.course.id}").get_data(as_text=True)
    assert "33%" in page and "status-done" in page


def test_reopening_within_a_session_records_launch_once(client, auth, world):
    _login(auth, world.learner)
    text = world.lesson("text")
    token = _token(client, f"/learn/lesson/{text.id}")
    for _ in range(3):
        assert client.get(f"/learn/lesson/{text.id}").status_code == 200
        assert client.post(f"/learn/lesson/{text.id}/open", headers={"X-CSRFToken": token}).status_code == 200
        assert client.post(f"/learn/lesson/{text.id}/complete", data={"csrf_token": token}).status_code == 302
    launched = statements_for(world.learner, "launched", text.activity_iri)
    assert len(launched) == 1
    assert len(statements_for(world.learner, "completed", text.activity_iri)) == 1


def test_new_session_after_a_gap_launches_again(world):
    text = world.lesson("text")
    t0 = utcnow()
    ops.open_lesson(world.learner, text.id, now=t0)
    ops.open_lesson(world.learner, text.id, now=t0 + dt.timedelta(minutes=5))
    ops.open_lesson(world.learner, text.id, now=t0 + dt.timedelta(minutes=50))
    db.session.commit()
    assert len(statements_for(world.learner, "launched", text.activity_iri)) == 2


def test_video_progress_reports_need_csrf_and_track_what_was_played(client, auth, world):
    _login(auth, world.learner)
    video = world.lesson("video")
    page = client.get(f"/learn/lesson/{video.id}").get_data(as_text=True)
    assert "<video" in page and "data-report" in page
    from lms.testing import csrf_token_from

    token = csrf_token_from(page)
    url = f"/learn/lesson/{video.id}/media"
    assert client.post(url, json={"event": "start", "position": 0, "watched": 0, "duration": 100}).status_code == 400
    resp = client.post(url, json={"event": "start", "position": 0, "watched": 0, "duration": 100},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["progress"] == 0
    # the player claims 80 s played, but only moments passed since the last report: credit is capped
    resp = client.post(url, json={"event": "progress", "position": 80, "watched": 80, "duration": 100},
                       headers={"X-CSRFToken": token})
    data = resp.get_json()
    assert data["credited_seconds"] <= 6 and not data["completed"]
    assert client.post(url, json={"position": -3, "watched": 1}, headers={"X-CSRFToken": token}).status_code == 400
    assert client.post(url, json={"position": "x", "watched": 1}, headers={"X-CSRFToken": token}).status_code == 400


def test_video_completes_at_ninety_percent_watched(world):
    video = world.lesson("video")
    t0 = utcnow()
    ops.open_lesson(world.learner, video.id, now=t0)
    ops.report_media(world.learner, video.id, position=0, watched=0, duration=100, event="start", now=t0)
    for i in range(1, 9):  # 8 reports of 10 s: 80 s
        r = ops.report_media(world.learner, video.id, position=10 * i, watched=10, duration=100, now=t0 + dt.timedelta(seconds=10 * i))
    assert r["progress"] == 80 and not r["completed"]
    r = ops.report_media(world.learner, video.id, position=95, watched=15, duration=100, event="ended",
                         now=t0 + dt.timedelta(seconds=95))
    db.session.commit()
    assert r["completed"] and r["progress"] == 95
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    assert e.seconds_credited == 95
    assert len(statements_for(world.learner, "progressed", video.activity_iri)) == 9
    assert len(statements_for(world.learner, "initialized", video.activity_iri)) == 1
    assert len(statements_for(world.learner, "completed", video.activity_iri)) == 1
    assert ops.study_seconds_from_statements(e) == e.seconds_credited


def test_skipping_to_the_end_does_not_complete_a_video(world):
    video = world.lesson("video")
    t0 = utcnow()
    ops.open_lesson(world.learner, video.id, now=t0)
    r = ops.report_media(world.learner, video.id, position=99, watched=3, duration=100, event="ended",
                         now=t0 + dt.timedelta(seconds=5))
    assert not r["completed"] and r["progress"] == 3


def test_course_completes_when_all_required_lessons_are_done(world):
    text, video, quiz = world.lesson("text"), world.lesson("video"), world.lesson("quiz")
    t0 = utcnow()
    ops.open_lesson(world.learner, text.id, now=t0)
    ops.open_lesson(world.learner, video.id, now=t0)
    ops.report_media(world.learner, video.id, position=95, watched=95, duration=100, now=t0 + dt.timedelta(seconds=60))
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    assert e.completed_at is None
    attempt = ops.start_attempt(world.learner, quiz.id, now=t0)
    ops.submit_attempt(world.learner, attempt.id, correct_form(world.questions), now=t0 + dt.timedelta(seconds=90))
    db.session.commit()
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    assert e.completed_at is not None and e.status == "completed" and e.progress == 1.0
    done = statements_for(world.learner, "completed", world.course.activity_iri)
    assert len(done) == 1 and done[0].result["duration"]


def test_optional_lessons_are_not_needed_for_completion(app, create_user, create_org):
    from courses.operations import authoring

    w = build_world(create_user, create_org, kinds=("text", "video"))
    authoring.update_lesson(w.teacher, w.lesson("video"), required=False)
    db.session.commit()
    ops.open_lesson(w.learner, w.lesson("text").id)
    db.session.commit()
    e = db.session.get(type(w.enrolment), w.enrolment.id)
    assert e.completed_at is not None


def test_unpublished_and_unenrolled_courses_are_refused(client, auth, app, create_user, create_org):
    w = build_world(create_user, create_org, publish=False, learners=0)
    stranger = create_user("learner", w.school)
    _login(auth, stranger)
    assert client.get(f"/learn/lesson/{w.lesson('text').id}").status_code == 404
    assert client.get(f"/learn/course/{w.course.id}").status_code == 404
    from courses.operations import authoring

    authoring.publish(w.teacher, w.course)
    db.session.commit()
    assert client.get(f"/learn/lesson/{w.lesson('text').id}").status_code == 403
    assert client.get(f"/learn/course/{w.course.id}").status_code == 403
    assert client.get("/learn/lesson/999999").status_code == 404


def test_document_download_checks_access(client, auth, app, create_user, create_org):
    w = build_world(create_user, create_org, kinds=("document",))
    lesson = w.lesson("document")
    stranger = create_user("learner", w.school)
    _login(auth, stranger)
    assert client.get(f"/learn/lesson/{lesson.id}/document").status_code == 403
    auth.logout()
    _login(auth, w.learner)
    resp = client.get(f"/learn/lesson/{lesson.id}/document")
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4 test"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert client.get(f"/learn/lesson/{lesson.id}").status_code == 200  # a GET does not complete it
    assert lesson.id not in ops.completed_lesson_ids(db.session.get(type(w.enrolment), w.enrolment.id))
    token = _token(client, f"/learn/lesson/{lesson.id}")
    assert client.post(f"/learn/lesson/{lesson.id}/complete", data={"csrf_token": token}).status_code == 302
    assert lesson.id in ops.completed_lesson_ids(db.session.get(type(w.enrolment), w.enrolment.id))


def test_my_learning_lists_enrolments_with_study_hours(client, auth, world):
    _login(auth, world.learner)
    page = client.get("/learn/").get_data(as_text=True)
    assert "电工基础" in page and "0.0" in page


def test_editing_a_published_course_keeps_progress_and_results(world):
    from courses.models import QuizAnswer, QuizAttempt
    from courses.operations import authoring

    text, quiz = world.lesson("text"), world.lesson("quiz")
    ops.open_lesson(world.learner, text.id)
    attempt = ops.start_attempt(world.learner, quiz.id)
    ops.submit_attempt(world.learner, attempt.id, correct_form(world.questions))
    db.session.commit()
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    before = (ops.completed_lesson_ids(e), attempt.score, attempt.passed)
    # the teacher edits: changes the answer key and the points, removes a question, renames the lesson
    q0, q3 = world.questions[0], world.questions[3]
    authoring.update_question(world.teacher, q0, prompt=q0.prompt, choices_text="36\n*220\n380", points=5)
    authoring.remove_question(world.teacher, q3)
    authoring.update_lesson(world.teacher, text, title_zh="安全用电（修订）")
    authoring.update_lesson(world.teacher, quiz, pass_mark=100)
    authoring.publish(world.teacher, world.course)
    db.session.commit()
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    a = db.session.get(QuizAttempt, attempt.id)
    assert (ops.completed_lesson_ids(e), a.score, a.passed) == before
    answers = {x.question_id: x for x in db.session.scalars(__import__("sqlalchemy").select(QuizAnswer).where(
        QuizAnswer.attempt_id == a.id))}
    assert answers[q0.id].correct and answers[q0.id].points == 1 and answers[q3.id].points == 1
    # the learner can still open the course and the lessons
    ops.open_lesson(world.learner, text.id)
    db.session.commit()
    assert text.id in ops.completed_lesson_ids(e)


def _launched_minutes_ago(auth_header: str, minutes: int) -> None:
    """Move a launch credential's creation back in time (as if the content ran that long)."""
    import base64
    import datetime as dt

    from flask import current_app

    from lms.xapi.models import Client

    key = base64.b64decode(auth_header.split()[1]).decode().split(":")[0]
    row = db.session.scalars(sa.select(Client).where(Client.key == key)).one()
    row.created_at = row.created_at - dt.timedelta(minutes=minutes)
    db.session.commit()
    current_app.extensions.get("xapi_client_cache", {}).pop(key, None)


def test_launched_content_never_counts_more_than_the_session_the_server_observed(client, auth, app, create_user,
                                                                                 create_org):
    """DESIGN 8: a launch credential's durations are bounded by the time from the launch to the
    content's request (plus a minute's grace): 20 `terminated` PT12H right after launch count 60 s."""
    from urllib.parse import parse_qs, urlsplit

    from lms.testing import csrf_token_from

    w = build_world(create_user, create_org, kinds=("text", "external"))
    lesson = w.lesson("external")
    auth.login(w.learner)
    page = client.get(f"/learn/lesson/{lesson.id}").get_data(as_text=True)
    resp = client.post(f"/learn/lesson/{lesson.id}/launch", data={"csrf_token": csrf_token_from(page)})
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    actor = json.loads(q["actor"][0])
    batch = [{"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/terminated"},
              "object": {"id": lesson.activity_iri}, "result": {"duration": "PT12H"},
              "context": {"registration": str(w.enrolment.registration)}} for _ in range(20)]
    resp = client.post("/xapi/statements", json=batch,
                       headers={"Authorization": q["auth"][0], "X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    e = db.session.get(type(w.enrolment), w.enrolment.id)
    assert 0 < e.seconds_credited <= 61
    assert ops.study_seconds_from_statements(e) == e.seconds_credited


def test_external_activity_launch_and_completion_from_its_statements(client, auth, app, create_user, create_org):
    import base64
    import json
    from urllib.parse import parse_qs, urlsplit

    w = build_world(create_user, create_org, kinds=("text", "external"))
    lesson = w.lesson("external")
    auth.login(w.learner)
    page = client.get(f"/learn/lesson/{lesson.id}").get_data(as_text=True)
    from lms.testing import csrf_token_from

    resp = client.post(f"/learn/lesson/{lesson.id}/launch", data={"csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302
    url = urlsplit(resp.headers["Location"])
    assert url.netloc == "content.example.com"
    q = parse_qs(url.query)
    assert q["lang"] == ["zh"]
    assert q["endpoint"][0].endswith("/xapi/") and q["activityId"] == [lesson.activity_iri]
    assert q["registration"] == [str(w.enrolment.registration)]
    actor = json.loads(q["actor"][0])
    assert actor["account"]["name"] == str(w.learner.uuid)
    assert q["auth"][0].startswith("Basic ")
    assert len(statements_for(w.learner, "launched", lesson.activity_iri)) == 1
    # the content reports back through the LRS with the launch credential, ten minutes later
    _launched_minutes_ago(q["auth"][0], 10)
    statement = {"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
                 "object": {"id": lesson.activity_iri, "objectType": "Activity"},
                 "result": {"completion": True, "duration": "PT7M30S"},
                 "context": {"registration": str(w.enrolment.registration)}}
    terminated = dict(statement, verb={"id": "http://adlnet.gov/expapi/verbs/terminated", "display": {"en-US": "terminated"}},
                      result={"duration": "PT8M"})
    resp = client.post("/xapi/statements", json=[statement, terminated],
                       headers={"Authorization": q["auth"][0], "X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    e = db.session.get(type(w.enrolment), w.enrolment.id)
    assert lesson.id in ops.completed_lesson_ids(e)
    # one launch is one session: it counts its longest duration once (terminated: 8 min)
    assert e.seconds_credited == 480
    assert ops.study_seconds_from_statements(e) == 480
    # no duplicate "completed" from the platform for the lesson
    assert len(statements_for(w.learner, "completed", lesson.activity_iri)) == 1
    del base64


def test_practical_task_hand_in_with_files_and_access_to_them(client, auth, app, create_user, create_org):
    import io

    from courses.models import Submission

    w = build_world(create_user, create_org, kinds=("practical",), learners=2)
    lesson = w.lesson("practical")
    auth.login(w.learners[0])
    from lms.testing import csrf_token_from

    token = csrf_token_from(client.get(f"/learn/lesson/{lesson.id}").get_data(as_text=True))
    bad = client.post(f"/learn/lesson/{lesson.id}/submission", data={
        "csrf_token": token, "text": "见附件", "files": (io.BytesIO(b"MZ..."), "virus.exe")},
        content_type="multipart/form-data")
    assert bad.status_code == 302 and db.session.query(Submission).count() == 0
    resp = client.post(f"/learn/lesson/{lesson.id}/submission", data={
        "csrf_token": token, "text": "开关电路已接好", "files": (io.BytesIO(b"\x89PNG photo"), "电路.png")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    sub = db.session.query(Submission).one()
    assert sub.text == "开关电路已接好" and sub.files[0]["name"] == "电路.png"
    assert client.get(f"/learn/submissions/{sub.id}/files/0").data == b"\x89PNG photo"
    assert len(statements_for(w.learners[0], "attempted", lesson.activity_iri)) == 1
    # a second hand-in while the first waits for a grade is refused
    again = client.post(f"/learn/lesson/{lesson.id}/submission", data={"csrf_token": token, "text": "再交一次"})
    assert again.status_code == 302 and db.session.query(Submission).count() == 1
    auth.logout()
    auth.login(w.learners[1])
    assert client.get(f"/learn/submissions/{sub.id}/files/0").status_code == 404
    auth.logout()
    auth.login(w.teacher)
    assert client.get(f"/learn/submissions/{sub.id}/files/0").status_code == 200
    # graded as not passed: the learner may hand in again
    ops.grade_submission(w.teacher, sub.id, score=40, passed=False, comment="接线不规范")
    db.session.commit()
    ops.submit_practical(w.learners[0], lesson.id, "改好了")
    db.session.commit()
    assert db.session.query(Submission).count() == 2
    assert lesson.id not in ops.completed_lesson_ids(w.enrolments[0])


def test_a_video_is_completed_only_by_the_lessons_own_duration(world):
    video = world.lesson("video")  # authored: 100 s
    t0 = utcnow()
    ops.open_lesson(world.learner, video.id, now=t0)
    ops.report_media(world.learner, video.id, position=0, watched=0, duration=1, event="start", now=t0)
    r = ops.report_media(world.learner, video.id, position=1, watched=1, duration=1, event="ended",
                         now=t0 + dt.timedelta(seconds=2))
    assert not r["completed"] and r["progress"] == 1
    row = ops.progress_row(world.enrolment, video, create=False)
    assert row.media_duration == 100


def test_watch_reports_sent_together_share_one_wall_clock_window(world):
    video = world.lesson("video")
    t0 = utcnow()
    ops.open_lesson(world.learner, video.id, now=t0)
    ops.report_media(world.learner, video.id, position=0, watched=0, event="start", now=t0)
    t1 = t0 + dt.timedelta(seconds=5)
    credited = [ops.report_media(world.learner, video.id, position=5, watched=5, now=t1)["credited_seconds"]
                for _ in range(5)]
    assert sum(credited) <= 5 + 1e-6
    assert ops.progress_row(world.enrolment, video, create=False).watched_seconds <= 5 + 1e-6


def test_parallel_watch_reports_are_serialised_by_a_row_lock(app, world):
    """Five reports of 5 s sent at once, after 5 s of playback, count 5 s, not 25 s (PostgreSQL:
    each report waits for the previous one's lock)."""
    import threading

    from lms.accounts.models import User

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks (SQLite serialises writers itself)")
    video = world.lesson("video")
    t0 = utcnow() - dt.timedelta(seconds=5)
    ops.open_lesson(world.learner, video.id, now=t0)
    ops.report_media(world.learner, video.id, position=0, watched=0, event="start", now=t0)
    db.session.commit()
    uid, barrier, errors = world.learner.id, threading.Barrier(5), []

    def report():
        with app.app_context():
            try:
                user = db.session.get(User, uid)
                barrier.wait()
                ops.report_media(user, video.id, position=5, watched=5)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=report) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    db.session.expire_all()
    assert ops.progress_row(world.enrolment, video, create=False).watched_seconds <= 5 + 1  # plus clock jitter


def test_a_lesson_get_changes_nothing_and_records_no_statement(client, auth, world):
    """A cross-site link to a lesson (a GET) neither completes it nor records statements."""
    from lms.xapi.models import Statement

    _login(auth, world.learner)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Statement))
    for kind in ("text", "video", "quiz"):
        assert client.get(f"/learn/lesson/{world.lesson(kind).id}").status_code == 200
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    assert ops.completed_lesson_ids(e) == set() and e.last_lesson_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)) == before
    # a POST without the CSRF token (a cross-site form) is refused too
    assert client.post(f"/learn/lesson/{world.lesson('text').id}/complete").status_code == 400
    assert ops.completed_lesson_ids(db.session.get(type(world.enrolment), world.enrolment.id)) == set()


def test_only_text_and_document_lessons_are_marked_read(client, auth, world):
    _login(auth, world.learner)
    video = world.lesson("video")
    token = _token(client, f"/learn/lesson/{video.id}")
    assert client.post(f"/learn/lesson/{video.id}/complete", data={"csrf_token": token}).status_code == 400


def test_lesson_pages_carry_a_content_security_policy_with_a_nonce(client, auth, world):
    _login(auth, world.learner)
    resp = client.get(f"/learn/lesson/{world.lesson('video').id}")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    import re

    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    html = resp.get_data(as_text=True)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def _upload_files(root):
    import os

    base = os.path.join(root, "courses", "submissions")
    return sorted(os.path.join(d, n) for d, _s, names in os.walk(base) for n in names)


def _photo():
    import io

    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(b"%PDF-1.4 hand-in"), filename="work.pdf", content_type="application/pdf")


def test_a_refused_hand_in_leaves_no_orphan_file(app, create_user, create_org, monkeypatch):
    w = build_world(create_user, create_org, kinds=("practical",))
    lesson = w.lesson("practical")
    before = _upload_files(app.config["LMS_UPLOAD_DIR"])

    def fail(*a, **kw):
        raise RuntimeError("statement store down")

    monkeypatch.setattr(ops.statements, "practical_submitted", fail)
    with pytest.raises(RuntimeError):
        ops.submit_practical(w.learner, lesson.id, "我接好了", [_photo()])
    db.session.rollback()
    assert _upload_files(app.config["LMS_UPLOAD_DIR"]) == before


def test_parallel_hand_ins_store_one_submission_and_no_orphan_files(app, create_user, create_org):
    import threading

    from courses.models import Submission
    from lms.accounts.models import User

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL row locks (SQLite serialises writers itself)")
    w = build_world(create_user, create_org, kinds=("practical",))
    lesson_id, uid = w.lesson("practical").id, w.learner.id
    before = _upload_files(app.config["LMS_UPLOAD_DIR"])
    barrier, outcomes = threading.Barrier(4), []

    def hand_in():
        with app.app_context():
            try:
                user = db.session.get(User, uid)
                barrier.wait()
                ops.submit_practical(user, lesson_id, "两份", [_photo()])
                db.session.commit()
                outcomes.append("ok")
            except ops.DeliveryError as exc:
                db.session.rollback()
                outcomes.append(exc.status)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=hand_in) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes, key=str) == [409, 409, 409, "ok"]
    subs = db.session.scalars(sa.select(Submission).where(Submission.lesson_id == lesson_id)).all()
    assert len(subs) == 1
    assert len(_upload_files(app.config["LMS_UPLOAD_DIR"])) == len(before) + 1
