"""JSON API: catalogue, course detail and enrolment with a bearer token."""
from __future__ import annotations

import sqlalchemy as sa

from courses.models import Enrolment
from courses.operations import authoring as ops
from lms.core.db import db
from tests.courses.authoring_support import full_course, school_with_teacher


def _setup(create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    draft = ops.create_course(teacher, organisation_id=school.id, code="DRAFT-API", title_zh="草稿")
    db.session.commit()
    learner = create_user("learner", school, login="learner@api.cn")
    return school, teacher, course, draft, learner


def test_catalogue_and_detail(app, client, api_token, create_user, create_org):
    _school, _teacher, course, draft, learner = _setup(create_user, create_org)
    headers = api_token(learner)
    resp = client.get("/api/v1/courses", headers=headers)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [c["code"] for c in items] == ["WELD-101"]
    assert items[0]["study_hours"] == 12.5 and items[0]["levels"] == [1, 2] and items[0]["subsidised"] is True
    assert client.get("/api/v1/courses?level=3", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/courses?occupation=6-18-02-04", headers=headers).get_json()["items"][0]["id"] == course.id
    assert client.get("/api/v1/courses?level=9", headers=headers).status_code == 400
    detail = client.get(f"/api/v1/courses/{course.id}", headers=headers).get_json()
    assert [m["title_zh"] for m in detail["modules"]] == ["第一章", "第二章"]
    assert [lesson["kind"] for m in detail["modules"] for lesson in m["lessons"]] == ["text", "video", "quiz",
                                                                                       "practical"]
    assert detail["activity_id"].endswith(f"/course/{course.uuid}")
    resp = client.get(f"/api/v1/courses/{draft.id}", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"]


def test_api_needs_a_token(app, client, create_user, create_org):
    _setup(create_user, create_org)
    assert client.get("/api/v1/courses").status_code == 401


def test_self_enrolment_by_api(app, client, api_token, create_user, create_org):
    _school, _teacher, course, draft, learner = _setup(create_user, create_org)
    headers = api_token(learner)
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments", headers=headers, json={})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["user_id"] == learner.id and body["status"] == "active" and body["registration"]
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments", headers=headers, json={})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "already_enrolled"
    listed = client.get(f"/api/v1/courses/{course.id}/enrolments", headers=headers).get_json()["items"]
    assert [e["user_id"] for e in listed] == [learner.id]
    resp = client.post(f"/api/v1/courses/{draft.id}/enrolments", headers=headers, json={})
    assert resp.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 1


def test_admin_enrols_members_by_api_and_bulk(app, client, api_token, create_user, create_org):
    school, teacher, course, draft, learner = _setup(create_user, create_org)
    firm = create_org("企业", "enterprise")
    admin = create_user("enterprise_admin", firm)
    workers = [create_user("learner", firm, login=f"w{i}@firm.cn") for i in range(2)]
    headers = api_token(admin)
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments", headers=headers, json={"login": "w0@firm.cn"})
    assert resp.status_code == 201 and resp.get_json()["enrolled_by_id"] == admin.id
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments", headers=headers, json={"user_id": learner.id})
    assert resp.status_code == 403  # not a member of the admin's organisation
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments", headers=headers, json={"login": 5})
    assert resp.status_code == 400
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments/bulk", headers=headers,
                       json={"csv": "w1@firm.cn\nghost@firm.cn\n"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["errors"] == [{"line": 2, "login": "ghost@firm.cn",
                                                   "message": resp.get_json()["error"]["errors"][0]["message"]}]
    resp = client.post(f"/api/v1/courses/{course.id}/enrolments/bulk", headers=headers,
                       json={"csv": "w0@firm.cn\nw1@firm.cn\n"})
    assert resp.status_code == 201
    assert resp.get_json()["enrolled"] == [{"line": 2, "login": "w1@firm.cn"}]
    assert resp.get_json()["skipped"] == [{"line": 1, "login": "w0@firm.cn"}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 2


def test_withdraw_by_api(app, client, api_token, create_user, create_org):
    _school, _teacher, course, _draft, learner = _setup(create_user, create_org)
    headers = api_token(learner)
    eid = client.post(f"/api/v1/courses/{course.id}/enrolments", headers=headers, json={}).get_json()["id"]
    resp = client.post(f"/api/v1/courses/enrolments/{eid}/withdraw", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    assert client.post(f"/api/v1/courses/enrolments/{eid}/withdraw", headers=headers).status_code == 409


def test_routes_are_in_the_openapi_document(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for p in ("/api/v1/courses", "/api/v1/courses/{course_id}", "/api/v1/courses/{course_id}/enrolments"):
        assert p in paths
