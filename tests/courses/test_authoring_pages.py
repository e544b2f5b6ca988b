"""Every authoring, catalogue and enrolment page renders for the people who may use it, in both
languages, with labelled fields; the CLI exports and imports packages."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from courses.models import LESSON_KINDS, Course
from lms.core.db import db
from tests.courses.authoring_support import full_course, school_with_teacher


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_teacher_pages_render(app, client, auth, create_user, create_org, language):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    module = course.live_modules[0]
    quiz = course.live_lessons[2]
    auth.login(teacher)
    if language == "en":
        page = client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        client.post("/lang/en", data={"csrf_token": token, "next": "/"})
    urls = ["/courses/manage/", "/courses/manage/new", f"/courses/manage/{course.id}", "/courses/manage/import",
            f"/courses/manage/{course.id}/files", f"/courses/manage/{course.id}/preview",
            f"/courses/manage/modules/{module.id}", f"/courses/manage/lessons/{quiz.id}/questions/new",
            f"/courses/manage/lessons/{quiz.id}/preview", f"/courses/{course.id}", f"/courses/{course.id}/enrolments",
            f"/courses/{course.id}/classes", "/courses/"]
    urls += [f"/courses/manage/modules/{module.id}/lessons/new?kind={kind}" for kind in LESSON_KINDS]
    urls += [f"/courses/manage/lessons/{lesson.id}" for lesson in course.live_lessons]
    urls += [f"/courses/manage/questions/{q.id}" for q in quiz.live_questions]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        html = resp.get_data(as_text=True)
        # every visible input has a label
        for m in re.finditer(r'<(?:input|select|textarea)\b([^>]*)>', html):
            attrs = m.group(1)
            if 'type="hidden"' in attrs or 'type="submit"' in attrs:
                continue
            ident = re.search(r'\bid="([^"]+)"', attrs)
            assert ident and f'for="{ident.group(1)}"' in html or "<label" in html[max(0, m.start() - 200):m.start()], \
                (url, attrs)
    if language == "en":
        assert "Course authoring" in client.get("/courses/manage/").get_data(as_text=True)
    else:
        assert "课程编辑" in client.get("/courses/manage/").get_data(as_text=True)


def test_unknown_ids_answer_404(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    auth.login(teacher)
    for url in ["/courses/manage/999", "/courses/manage/lessons/999", "/courses/manage/questions/999",
                "/courses/manage/modules/999", "/courses/999", "/courses/999/files/courses/x/y.png"]:
        assert client.get(url).status_code == 404, url


def test_new_lesson_of_unknown_kind_is_404(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    auth.login(teacher)
    assert client.get(f"/courses/manage/modules/{course.live_modules[0].id}/lessons/new?kind=hologram").status_code == 404


def test_cli_export_and_import(app, runner, create_user, create_org, tmp_path):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    path = tmp_path / "weld.zip"
    result = runner.invoke(args=["courses", "export", "WELD-101", str(path)])
    assert result.exit_code == 0, result.output
    db.session.delete(db.session.get(Course, course.id))
    db.session.commit()
    result = runner.invoke(args=["courses", "import", str(path), "--as-user", teacher.login,
                                 "--organisation-id", str(school.id)])
    assert result.exit_code == 0, result.output
    copy = db.session.scalars(sa.select(Course).filter_by(code="WELD-101")).one()
    assert copy.status == "draft" and len(copy.live_lessons) == 4
    result = runner.invoke(args=["courses", "export", "NOPE", str(path)])
    assert result.exit_code != 0 and "no course" in result.output


def test_demo_seeder_publishes_a_course_with_the_learner_enrolled(app):
    from courses.models import Enrolment
    from lms import demo

    lines = demo.seed(app)
    db.session.commit()
    course = db.session.scalars(sa.select(Course).filter_by(code="DEMO-SAFE-101")).one()
    assert course.status == "published"
    assert {lesson.kind for lesson in course.live_lessons} >= {"text", "video", "quiz", "practical"}
    assert course.live_lessons[1].video_url.startswith("https://")
    assert [t.login for t in course.teachers] == ["teacher@demo.lms"]
    e = db.session.scalars(sa.select(Enrolment)).one()
    assert e.user.login == "learner@demo.lms" and e.course_id == course.id
    assert any("DEMO-SAFE-101" in line for line in lines)
