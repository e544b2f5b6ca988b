"""Authoring through the real forms (with CSRF): courses, modules, lessons, questions, publication."""
from __future__ import annotations

import re

import pytest

import sqlalchemy as sa

from courses.models import Course, Lesson, Module, Question
from lms.core.db import db
from tests.courses.authoring_support import full_course, post_form, school_with_teacher


def _new_course(client, **extra):
    data = {"code": "CNC-201", "title_zh": "数控车床编程", "title_en": "CNC lathe programming",
            "description_format": "markdown", "description_zh_source": "学习 **G 代码**",
            "occupation_code": "6-18-01-01", "levels": ["2", "3"], "study_hours": "16",
            "self_enrolment": "y", **extra}
    return post_form(client, "/courses/manage/new", data)


def test_teacher_authors_a_course_through_the_forms(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    auth.login(teacher)
    resp = _new_course(client, organisation_id=str(school.id))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    course = db.session.scalars(sa.select(Course).filter_by(code="CNC-201")).one()
    assert course.status == "draft" and course.levels == [2, 3] and course.study_hours == 16
    assert course.description_zh == "<p>学习 <strong>G 代码</strong></p>"
    assert [t.id for t in course.teachers] == [teacher.id] and course.organisation_id == school.id

    edit = f"/courses/manage/{course.id}"
    resp = post_form(client, edit, {"title_zh": "第一章 基础", "title_en": ""},
                     action=f"/courses/manage/{course.id}/modules")
    assert resp.status_code == 302
    module = db.session.scalars(sa.select(Module).filter_by(course_id=course.id)).one()

    new_text = f"/courses/manage/modules/{module.id}/lessons/new?kind=text"
    resp = post_form(client, new_text, {"title_zh": "坐标系", "required": "y", "body_format": "markdown",
                                        "body_source": "右手*笛卡尔*坐标系", "duration_minutes": "10"})
    assert resp.status_code == 302
    new_quiz = f"/courses/manage/modules/{module.id}/lessons/new?kind=quiz"
    resp = post_form(client, new_quiz, {"title_zh": "小测", "required": "y", "body_format": "markdown",
                                        "pass_mark": "80", "max_attempts": "3", "time_limit_minutes": "15",
                                        "shuffle": "y"})
    assert resp.status_code == 302
    text, quiz = db.session.scalars(sa.select(Lesson).filter_by(course_id=course.id).order_by(Lesson.position)).all()
    assert text.duration_seconds == 600 and text.body_html == "<p>右手<em>笛卡尔</em>坐标系</p>"
    assert (quiz.pass_mark, quiz.max_attempts, quiz.time_limit_seconds, quiz.shuffle) == (80, 3, 900, True)

    resp = post_form(client, f"/courses/manage/lessons/{quiz.id}/questions/new",
                     {"kind": "multiple", "prompt": "哪些是 G 代码？", "choices_text": "* G01\nM03\n* G02 | arc",
                      "points": "2"})
    assert resp.status_code == 302
    q = db.session.scalars(sa.select(Question).filter_by(lesson_id=quiz.id)).one()
    assert [c["text"] for c in q.choices] == ["G01", "M03", "G02"] and q.choices[2]["text_en"] == "arc"
    assert q.correct == [q.choices[0]["id"], q.choices[2]["id"]] and q.points == 2

    resp = post_form(client, edit, {}, action=f"/courses/manage/{course.id}/publish")
    assert resp.status_code == 302
    assert db.session.get(Course, course.id).status == "published"


def test_form_posts_without_csrf_token_are_refused(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    auth.login(teacher)
    resp = client.post("/courses/manage/new", data={"code": "X-1", "title_zh": "无令牌", "study_hours": "1"})
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_invalid_course_input_is_shown_on_the_form_and_nothing_is_saved(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    full_course(teacher, school, code="TAKEN-1")
    auth.login(teacher)
    resp = _new_course(client, code="TAKEN-1")
    assert resp.status_code == 409
    assert "TAKEN-1" in resp.get_data(as_text=True)
    resp = _new_course(client, occupation_code="not a code")
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 1


def test_publishing_a_course_without_lessons_is_refused_with_a_message(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    auth.login(teacher)
    _new_course(client)
    course = db.session.scalars(sa.select(Course)).one()
    resp = post_form(client, f"/courses/manage/{course.id}", {}, action=f"/courses/manage/{course.id}/publish",
                     follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "cannot be published" in html or "不能发布" in html
    assert db.session.get(Course, course.id).status == "draft"


def test_publishing_a_quiz_without_questions_is_refused(app, client, auth, create_user, create_org):
    from courses.operations import authoring as ops

    school, teacher = school_with_teacher(create_user, create_org)
    course = ops.create_course(teacher, organisation_id=school.id, code="Q-0", title_zh="空测验")
    module = ops.add_module(teacher, course, "一")
    ops.add_lesson(teacher, module, "text", title_zh="正文", body_source="内容")
    ops.add_lesson(teacher, module, "quiz", title_zh="空的测验")
    db.session.commit()
    problems = ops.publish_problems(course)
    assert any("空的测验" in p for p in problems)
    auth.login(teacher)
    resp = post_form(client, f"/courses/manage/{course.id}", {}, action=f"/courses/manage/{course.id}/publish",
                     follow_redirects=True)
    assert "空的测验" in resp.get_data(as_text=True)
    assert db.session.get(Course, course.id).status == "draft"


def test_script_and_event_handlers_are_removed_when_saving(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    module = course.live_modules[0]
    auth.login(teacher)
    resp = post_form(client, f"/courses/manage/modules/{module.id}/lessons/new?kind=text",
                     {"title_zh": "危险内容", "body_format": "html", "required": "y",
                      "body_source": '<p onclick="steal()">好<script>alert(1)</script>'
                                     '<a href="javascript:alert(2)">链接</a><img src="x.png" onerror="alert(3)"></p>'})
    assert resp.status_code == 302
    lesson = db.session.scalars(sa.select(Lesson).filter_by(title_zh="危险内容")).one()
    assert "<script" not in lesson.body_html and "alert" not in lesson.body_html
    assert "onclick" not in lesson.body_html and "onerror" not in lesson.body_html
    assert "javascript:" not in lesson.body_html and '<img src="x.png">' in lesson.body_html
    page = client.get(f"/courses/manage/lessons/{lesson.id}/preview").get_data(as_text=True)
    assert "<script>alert(1)" not in page


def test_a_teacher_cannot_edit_another_teachers_course(app, client, auth, create_user, create_org):
    school, owner = school_with_teacher(create_user, create_org)
    draft = full_course(owner, school, code="DRAFT-1", publish=False)
    published = full_course(owner, school, code="PUB-1")
    other = create_user("teacher", school)
    auth.login(other)
    assert client.get(f"/courses/manage/{draft.id}").status_code == 404  # cannot even see a draft
    assert client.get(f"/courses/manage/{published.id}").status_code == 403
    lesson = published.live_lessons[0]
    assert client.get(f"/courses/manage/lessons/{lesson.id}").status_code == 403
    token = client.get("/courses/manage/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', token).group(1)
    resp = client.post(f"/courses/manage/lessons/{lesson.id}/remove", data={"csrf_token": csrf})
    assert resp.status_code == 403
    resp = client.post(f"/courses/manage/{published.id}", data={"csrf_token": csrf, "code": "HACK",
                                                                "title_zh": "被改", "study_hours": "1"})
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Course, published.id).title_zh == "焊接基础"
    assert db.session.get(Lesson, lesson.id) is not None


def test_learner_cannot_open_authoring_pages(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    learner = create_user("learner", school)
    auth.login(learner)
    assert client.get("/courses/manage/").status_code == 403
    assert client.get("/courses/manage/new").status_code == 403
    assert client.get(f"/courses/manage/{course.id}").status_code == 403


def test_reordering_lessons_and_questions(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    text, video = course.live_modules[0].live_lessons
    quiz = course.live_lessons[2]
    first_q = quiz.live_questions[0]
    auth.login(teacher)
    edit = f"/courses/manage/{course.id}"
    assert post_form(client, edit, {}, action=f"/courses/manage/lessons/{video.id}/move/up").status_code == 302
    assert post_form(client, edit, {}, action=f"/courses/manage/questions/{first_q.id}/move/down").status_code == 302
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert [lesson.id for lesson in course.live_modules[0].live_lessons] == [video.id, text.id]
    assert db.session.get(Lesson, quiz.id).live_questions[1].id == first_q.id


def test_question_edit_keeps_choice_ids_of_unchanged_and_reworded_choices(app, create_user, create_org):
    from courses.operations import authoring as ops

    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    q = course.live_lessons[2].live_questions[0]
    mask, glasses = [c["id"] for c in q.choices]
    ops.update_question(teacher, q, prompt="焊接时必须佩戴？", choices_text="* 焊接面罩 | Welding mask\n墨镜\n手套",
                        points=3)
    db.session.commit()
    q = db.session.get(Question, q.id)
    assert [c["id"] for c in q.choices][:2] == [mask, glasses]
    assert q.correct == [mask] and q.choices[0]["text"] == "焊接面罩" and len(q.choices) == 3


def test_preview_shows_the_draft_syllabus_and_lesson(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    auth.login(teacher)
    html = client.get(f"/courses/manage/{course.id}/preview").get_data(as_text=True)
    assert "焊接基础" in html and "安全须知" in html and "测验" in html
    quiz = course.live_lessons[2]
    assert f"/courses/manage/lessons/{quiz.id}/preview" in html
    html = client.get(f"/courses/manage/lessons/{quiz.id}/preview").get_data(as_text=True)
    assert "焊接时应佩戴？" in html and "面罩" in html


def test_co_teachers_may_edit_and_outsiders_cannot_be_added(app, client, auth, create_user, create_org):
    from courses.operations import authoring as ops
    from courses.operations.errors import CourseError

    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    colleague = create_user("teacher", school, login="colleague@school.cn")
    stranger = create_user("teacher", create_org("别的学校", "institution"), login="stranger@else.cn")
    auth.login(teacher)
    edit = f"/courses/manage/{course.id}"
    assert post_form(client, edit, {"login": "colleague@school.cn"},
                     action=f"/courses/manage/{course.id}/teachers").status_code == 302
    post_form(client, edit, {"login": "stranger@else.cn"}, action=f"/courses/manage/{course.id}/teachers")
    db.session.expire_all()
    assert {t.id for t in db.session.get(Course, course.id).teachers} == {teacher.id, colleague.id}
    auth.logout()
    auth.login(colleague)
    assert client.get(edit).status_code == 200
    with pytest.raises(CourseError):
        ops.add_teacher(stranger, db.session.get(Course, course.id), stranger)
    db.session.rollback()


def test_a_lesson_cannot_be_moved_into_another_courses_module(app, create_user, create_org):
    from courses.operations import authoring as ops
    from courses.operations.errors import CourseError

    school, teacher = school_with_teacher(create_user, create_org)
    one = full_course(teacher, school, code="ONE-1", publish=False)
    two = full_course(teacher, school, code="TWO-2", publish=False)
    lesson = one.live_lessons[0]
    with pytest.raises(CourseError):
        ops.move_lesson_to_module(teacher, lesson, two.live_modules[0])
    db.session.rollback()
    assert db.session.get(Lesson, lesson.id).course_id == one.id
    ops.move_lesson_to_module(teacher, lesson, one.live_modules[1])
    db.session.commit()
    assert db.session.get(Lesson, lesson.id).module_id == one.live_modules[1].id


def test_supervisor_sees_every_course_but_cannot_edit(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    draft = full_course(teacher, school, publish=False)
    supervisor = create_user("supervisor", create_org("人社厅", "authority"))
    auth.login(supervisor)
    assert client.get(f"/courses/{draft.id}").status_code == 200
    assert client.get(f"/courses/manage/{draft.id}").status_code == 403


def test_moving_a_lesson_to_another_module_through_the_form(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    text = course.live_lessons[0]
    target = course.live_modules[1]
    auth.login(teacher)
    resp = post_form(client, f"/courses/manage/lessons/{text.id}", {"module_id": str(target.id)},
                     action=f"/courses/manage/lessons/{text.id}/move/to-module")
    assert resp.status_code == 302
    assert db.session.get(Lesson, text.id).module_id == target.id
