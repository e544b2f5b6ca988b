"""Builders for the authoring, catalogue, enrolment and package tests."""
from __future__ import annotations

from lms.testing import csrf_token_from


def post_form(client, page_url: str, data: dict, *, action: str | None = None, **kw):
    """GET ``page_url`` for its CSRF token, then POST ``data`` to ``action`` (default: the page)."""
    resp = client.get(page_url)
    assert resp.status_code == 200, resp.status_code
    payload = {"csrf_token": csrf_token_from(resp.get_data(as_text=True)), **data}
    return client.post(action or page_url, data=payload, **kw)


def school_with_teacher(create_user, create_org, name="江南技师学院"):
    school = create_org(name, "institution")
    teacher = create_user("teacher", school, real_name="王老师")
    return school, teacher


def full_course(teacher, school, *, code="WELD-101", publish=True):
    """A course with a text, a video (URL), a quiz of three questions and a practical task."""
    from courses.operations import authoring as ops
    from lms.core.db import db

    course = ops.create_course(teacher, organisation_id=school.id, code=code, title_zh="焊接基础",
                               title_en="Welding basics", description_zh_source="**焊接**入门",
                               occupation_code="6-18-02-04", levels=[1, 2], study_hours=12.5, subsidised=True,
                               subsidy_catalogue_number="JS-2026-0001")
    m1 = ops.add_module(teacher, course, "第一章", "Chapter 1")
    ops.add_lesson(teacher, m1, "text", title_zh="安全须知", body_source="# 安全\n\n戴好面罩。", duration_seconds=300)
    ops.add_lesson(teacher, m1, "video", title_zh="演示", video_url="https://media.example.com/weld.mp4",
                   duration_seconds=120)
    m2 = ops.add_module(teacher, course, "第二章", "Chapter 2")
    quiz = ops.add_lesson(teacher, m2, "quiz", title_zh="测验", pass_mark=60, max_attempts=2)
    ops.add_question(teacher, quiz, "single", prompt="焊接时应佩戴？", choices_text="* 面罩 | Mask\n墨镜 | Sunglasses",
                     points=2)
    ops.add_question(teacher, quiz, "truefalse", prompt="可以在易燃物旁焊接。", truefalse_answer="false")
    ops.add_question(teacher, quiz, "fillin", prompt="电弧焊的英文缩写？", accepted_answers="SMAW\nMMA")
    ops.add_lesson(teacher, m2, "practical", title_zh="实操", body_source="焊一条直线焊缝并拍照。")
    if publish:
        ops.publish(teacher, course)
    db.session.commit()
    return course
