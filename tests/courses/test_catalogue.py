"""Catalogue: browse, search and filter published courses; course page; self-enrolment."""
from __future__ import annotations

import sqlalchemy as sa

from courses.models import Enrolment
from courses.operations import authoring as ops
from lms.core.db import db
from tests.courses.authoring_support import full_course, post_form, school_with_teacher


def _catalogue(client, **params):
    resp = client.get("/courses/", query_string=params)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _three_courses(create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    weld = full_course(teacher, school, code="WELD-101")  # 6-18-02-04, levels 1,2, subsidised
    cnc = ops.create_course(teacher, organisation_id=school.id, code="CNC-301", title_zh="数控高级编程",
                            occupation_code="6-18-01-01", levels=[3], study_hours=40)
    m = ops.add_module(teacher, cnc, "一")
    ops.add_lesson(teacher, m, "text", title_zh="宏程序", body_source="内容")
    ops.publish(teacher, cnc)
    draft = ops.create_course(teacher, organisation_id=school.id, code="DRAFT-9", title_zh="尚未发布的草稿")
    db.session.commit()
    return school, teacher, weld, cnc, draft


def test_catalogue_lists_published_courses_only(app, client, create_user, create_org):
    _three_courses(create_user, create_org)
    html = _catalogue(client)
    assert "焊接基础" in html and "数控高级编程" in html
    assert "尚未发布的草稿" not in html


def test_search_and_filters(app, client, create_user, create_org):
    _three_courses(create_user, create_org)
    html = _catalogue(client, q="数控")
    assert "数控高级编程" in html and "焊接基础" not in html
    html = _catalogue(client, occupation="6-18-02")
    assert "焊接基础" in html and "数控高级编程" not in html
    html = _catalogue(client, level="3")
    assert "数控高级编程" in html and "焊接基础" not in html
    html = _catalogue(client, subsidised="1")
    assert "焊接基础" in html and "数控高级编程" not in html
    html = _catalogue(client, subsidised="0")
    assert "数控高级编程" in html and "焊接基础" not in html


def test_course_page_shows_syllabus_and_hours(app, client, create_user, create_org):
    _school, _teacher, weld, _cnc, _draft = _three_courses(create_user, create_org)
    html = client.get(f"/courses/{weld.id}").get_data(as_text=True)
    assert "12.5" in html and "安全须知" in html and "第二章" in html and "JS-2026-0001" in html


def test_learner_cannot_see_drafts(app, client, auth, create_user, create_org):
    school, _teacher, _weld, _cnc, draft = _three_courses(create_user, create_org)
    learner = create_user("learner", school)
    auth.login(learner)
    assert client.get(f"/courses/{draft.id}").status_code == 404
    assert "尚未发布的草稿" not in _catalogue(client, q="草稿")
    auth.logout()
    assert client.get(f"/courses/{draft.id}").status_code == 404


def test_self_enrolment(app, client, auth, create_user, create_org):
    school, _teacher, weld, _cnc, _draft = _three_courses(create_user, create_org)
    learner = create_user("learner", school)
    auth.login(learner)
    resp = post_form(client, f"/courses/{weld.id}", {}, action=f"/courses/{weld.id}/enrol")
    assert resp.status_code == 302
    e = db.session.scalars(sa.select(Enrolment)).one()
    assert (e.user_id, e.course_id, e.status, e.enrolled_by_id) == (learner.id, weld.id, "active", learner.id)
    # enrolling twice is refused, nothing changes
    resp = post_form(client, f"/courses/{weld.id}", {}, action=f"/courses/{weld.id}/enrol")
    assert resp.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 1


def test_unpublished_course_is_not_enrollable(app, client, auth, create_user, create_org):
    school, teacher, weld, _cnc, draft = _three_courses(create_user, create_org)
    ops.archive(teacher, weld)
    db.session.commit()
    learner = create_user("learner", school)
    auth.login(learner)
    page = client.get(f"/courses/{weld.id}")
    assert page.status_code == 404  # archived: out of the catalogue for people not enrolled
    resp = post_form(client, "/courses/", {}, action=f"/courses/{weld.id}/enrol")
    assert resp.status_code == 404
    # the teacher sees the draft but cannot enrol in it either: a clear refusal
    auth.logout()
    auth.login(teacher)
    resp = post_form(client, f"/courses/{draft.id}", {}, action=f"/courses/{draft.id}/enrol",
                     follow_redirects=True)
    assert "not open for enrolment" in resp.get_data(as_text=True) or "未开放报名" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 0


def test_course_without_self_enrolment_refuses_learners(app, client, auth, create_user, create_org):
    school, teacher, weld, _cnc, _draft = _three_courses(create_user, create_org)
    ops.update_course(teacher, weld, self_enrolment=False)
    db.session.commit()
    learner = create_user("learner", school)
    auth.login(learner)
    resp = post_form(client, f"/courses/{weld.id}", {}, action=f"/courses/{weld.id}/enrol")
    assert resp.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 0


def test_withdrawn_learner_can_enrol_again_with_the_same_registration(app, client, auth, create_user, create_org):
    school, _teacher, weld, _cnc, _draft = _three_courses(create_user, create_org)
    learner = create_user("learner", school)
    auth.login(learner)
    post_form(client, f"/courses/{weld.id}", {}, action=f"/courses/{weld.id}/enrol")
    registration = db.session.scalars(sa.select(Enrolment)).one().registration
    assert post_form(client, f"/courses/{weld.id}", {}, action=f"/courses/{weld.id}/withdraw").status_code == 302
    assert db.session.scalars(sa.select(Enrolment)).one().status == "withdrawn"
    post_form(client, f"/courses/{weld.id}", {}, action=f"/courses/{weld.id}/enrol")
    e = db.session.scalars(sa.select(Enrolment)).one()
    assert e.status == "active" and e.registration == registration


def test_home_page_lists_newest_courses_and_the_authors_drafts(app, client, auth, create_user, create_org):
    _school, teacher, _weld, _cnc, _draft = _three_courses(create_user, create_org)
    html = client.get("/").get_data(as_text=True)
    assert "数控高级编程" in html and "尚未发布的草稿" not in html
    auth.login(teacher)
    assert "尚未发布的草稿" in client.get("/").get_data(as_text=True)
