"""Cross-user access: ids of other people's objects in URLs, form fields and LRS queries.

Two learners (A, B) in the same class, two teachers with one course each, an enterprise admin of
another organisation. Everyone must get 403/404 (never the data) for what is not theirs.
"""
from __future__ import annotations

import base64
import io
import json

import pytest

from tests.courses.delivery_support import build_world
from tests.security.helpers import login_client, page_csrf

DENIED = (403, 404)


@pytest.fixture
def two(app, create_user, create_org):
    from courses.delivery import operations as ops
    from courses.models import Submission
    from lms.accounts.operations import create_api_token
    from lms.core.db import db

    w = build_world(create_user, create_org, kinds=("text", "quiz", "practical", "external"), learners=2)
    a, b = w.learners
    w.attempt = ops.start_attempt(a, w.lesson("quiz").id)
    db.session.commit()
    ca = login_client(app, a)
    token = page_csrf(ca)
    resp = ca.post(f"/learn/lesson/{w.lesson('practical').id}/submission", data={
        "csrf_token": token, "text": "作业", "files": (io.BytesIO(b"\x89PNG secret"), "a.png")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    w.submission = db.session.query(Submission).one()
    w.token_row, w.token = create_api_token(a, "A's token")
    db.session.commit()
    # a second course, of another teacher, still a draft
    from courses.operations import authoring

    other = create_user("teacher", w.school)
    w.other_teacher = other
    w.draft = authoring.create_course(other, organisation_id=w.school.id, code="DRAFT-1", title_zh="未发布课程")
    db.session.commit()
    w.enterprise = create_org("企业", "enterprise")
    w.ent_admin = create_user("enterprise_admin", w.enterprise)
    return w


def test_learner_cannot_reach_another_learners_attempt_submission_enrolment_or_token(app, two):
    w = two
    a, b = w.learners
    cb = login_client(app, b)
    token = page_csrf(cb)
    ea = w.enrolments[0]
    checks = [
        ("GET", f"/learn/attempts/{w.attempt.id}", {}),
        ("POST", f"/learn/attempts/{w.attempt.id}", {"csrf_token": token}),
        ("GET", f"/learn/submissions/{w.submission.id}/files/0", {}),
        ("GET", f"/api/v1/courses/my/enrolments/{ea.id}", {}),
        ("POST", f"/api/v1/courses/enrolments/{ea.id}/withdraw", {}),
        ("POST", f"/courses/enrolments/{ea.id}/class", {"csrf_token": token, "class_id": "0"}),
        ("POST", f"/api/v1/courses/attempts/{w.attempt.id}/submit", {}),
        ("POST", f"/account/tokens/{w.token_row.id}/revoke", {"csrf_token": token}),
        ("GET", f"/teach/enrolment/{ea.id}", {}),
        ("GET", f"/api/v1/users/{a.id}", {}),
        ("GET", f"/courses/manage/{w.course.id}", {}),
        ("GET", f"/courses/{w.draft.id}", {}),
    ]
    for method, url, data in checks:
        kwargs = {"data": data} if method == "POST" and data else {}
        if method == "POST" and url.startswith("/api/"):
            kwargs = {"json": {}, "headers": {"X-CSRFToken": token}}
        resp = cb.open(url, method=method, **kwargs)
        assert resp.status_code in DENIED, f"{method} {url} -> {resp.status_code}"
        assert b"secret" not in resp.data
    from lms.core.db import db

    db.session.expire_all()
    assert w.token_row.revoked_at is None
    assert ea.status == "active" and ea.class_id == w.cls.id
    assert w.attempt.submitted_at is None
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {w.token}"}).status_code == 200
    # B's own lists do not contain A's rows
    mine = cb.get("/api/v1/courses/my/enrolments").get_json()["items"]
    assert {e["id"] for e in mine} == {w.enrolments[1].id}
    assert cb.get("/api/v1/courses/my/results").get_json()["items"] == []
    users = cb.get("/api/v1/users").get_json()["items"]
    assert [u["id"] for u in users] == [b.id]


def test_teacher_sees_only_own_courses_and_enterprise_admin_only_its_members(app, two):
    w = two
    ct = login_client(app, w.other_teacher)
    for url in (f"/teach/course/{w.course.id}", f"/api/v1/courses/teaching/courses/{w.course.id}/results",
                f"/api/v1/courses/teaching/classes/{w.cls.id}/results", f"/courses/manage/{w.course.id}",
                f"/teach/enrolment/{w.enrolments[0].id}", f"/learn/submissions/{w.submission.id}/files/0"):
        assert ct.get(url).status_code in DENIED, url
    ce = login_client(app, w.ent_admin)
    resp = ce.get(f"/api/v1/courses/{w.course.id}/enrolments")
    assert resp.status_code in DENIED or resp.get_json()["items"] == []
    assert ce.get(f"/api/v1/users/{w.learners[0].id}").status_code == 404
    assert ce.get(f"/courses/manage/{w.draft.id}").status_code in DENIED
    assert ce.get(f"/admin/organisations/{w.school.id}").status_code == 404


def test_enterprise_admin_cannot_enrol_or_move_outsiders_by_id(app, two):
    """Enrolling someone by user id or login from outside the admin's organisation is refused."""
    from courses.models import Enrolment
    from lms.core.db import db

    w = two
    outsider = w.other_teacher
    ce = login_client(app, w.ent_admin)
    token = page_csrf(ce)
    before = db.session.query(Enrolment).count()
    resp = ce.post(f"/api/v1/courses/{w.course.id}/enrolments", json={"user_id": outsider.id},
                   headers={"X-CSRFToken": token})
    assert resp.status_code in (403, 404), resp.get_data(as_text=True)
    assert db.session.query(Enrolment).count() == before


def _basic(key, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


@pytest.fixture
def launch_pair(app, create_user):
    from lms.core.db import db
    from lms.xapi.credentials import create_launch_credential
    from lms.xapi.recorder import actor_for

    a, b = create_user(), create_user()
    reg_a, reg_b = "a0b1c2d3-0000-4000-8000-00000000000a", "a0b1c2d3-0000-4000-8000-00000000000b"
    act = "http://example.com/au/1"
    ka, sa_ = create_launch_credential(a, registration=reg_a, activity_iri=act)
    kb, sb = create_launch_credential(b, registration=reg_b, activity_iri=act)
    db.session.commit()
    return {"a": a, "b": b, "ha": _basic(ka, sa_), "hb": _basic(kb, sb), "reg_a": reg_a, "reg_b": reg_b,
            "act": act, "actor_a": actor_for(a), "actor_b": actor_for(b)}


def _statement(actor, act, reg=None, verb="completed"):
    st = {"actor": actor, "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, "object": {"id": act}}
    if reg:
        st["context"] = {"registration": reg}
    return st


def test_launch_credentials_read_mine_only_their_own_statements(app, client, launch_pair):
    p = launch_pair
    ra = client.post("/xapi/statements", data=json.dumps(_statement(p["actor_a"], p["act"], p["reg_a"])),
                     headers=p["ha"])
    assert ra.status_code == 200
    a_id = ra.get_json()[0]
    rb = client.post("/xapi/statements", data=json.dumps(_statement(p["actor_b"], p["act"], p["reg_b"])),
                     headers=p["hb"])
    assert rb.status_code == 200
    got = client.get("/xapi/statements", headers=p["hb"]).get_json()["statements"]
    assert [s["id"] for s in got] == rb.get_json()
    for q in ({"statementId": a_id}, {"agent": json.dumps(p["actor_a"])}, {"registration": p["reg_a"]}):
        resp = client.get("/xapi/statements", query_string=q, headers=p["hb"])
        if resp.status_code == 200:
            assert "statements" in resp.get_json() and resp.get_json()["statements"] == [], q
        else:
            assert resp.status_code == 404, q
    # and B may not write about A, nor touch A's state or agent profile
    assert client.post("/xapi/statements", data=json.dumps(_statement(p["actor_a"], p["act"])),
                       headers=p["hb"]).status_code == 403
    q = {"activityId": p["act"], "agent": json.dumps(p["actor_a"]), "stateId": "s"}
    assert client.put("/xapi/activities/state", query_string=q, data=b"{}", headers=p["hb"]).status_code == 403
    assert client.get("/xapi/activities/state", query_string=q, headers=p["hb"]).status_code == 403
    q = {"agent": json.dumps(p["actor_a"]), "profileId": "p"}
    assert client.put("/xapi/agents/profile", query_string=q, data=b"{}",
                      headers={**p["hb"], "If-None-Match": "*"}).status_code == 403


def test_launch_credentials_are_bound_to_their_registration_and_activity(app, client, launch_pair):
    """A learner holds the launch credential (it is on the launch URL): it must not serve to record
    statements in another registration, or to rewrite the profile of another activity."""
    p = launch_pair
    other_reg = _statement(p["actor_b"], p["act"], p["reg_a"])
    assert client.post("/xapi/statements", data=json.dumps(other_reg), headers=p["hb"]).status_code == 403
    assert client.post("/xapi/statements", data=json.dumps([_statement(p["actor_b"], p["act"], p["reg_b"]), other_reg]),
                       headers=p["hb"]).status_code == 403
    assert client.get("/xapi/statements", headers=p["hb"]).get_json()["statements"] == []
    q = {"activityId": "http://example.com/someone-elses/activity", "profileId": "p"}
    assert client.put("/xapi/activities/profile", query_string=q, data=b"{}",
                      headers={**p["hb"], "If-None-Match": "*"}).status_code == 403
    q = {"activityId": p["act"], "profileId": "p"}
    assert client.put("/xapi/activities/profile", query_string=q, data=b"{}",
                      headers={**p["hb"], "If-None-Match": "*"}).status_code == 204
    # state of its own learner, in another registration, is refused too
    q = {"activityId": p["act"], "agent": json.dumps(p["actor_b"]), "stateId": "s", "registration": p["reg_a"]}
    assert client.put("/xapi/activities/state", query_string=q, data=b"{}", headers=p["hb"]).status_code == 403
    q["registration"] = p["reg_b"]
    assert client.put("/xapi/activities/state", query_string=q, data=b"{}", headers=p["hb"]).status_code == 204
