"""A supervisor (人社监管) reads everything and changes nothing (DESIGN.md section 7).

A supervisor posts plausible, valid-looking data to every unsafe route of the core and the
courses plugin, with ids that exist; afterwards every table is exactly as before (apart from the
supervisor's own account pages, which are theirs to change).
"""
from __future__ import annotations

import io

import sqlalchemy as sa

from tests.courses.delivery_support import build_world
from tests.security.helpers import fill, login_client, methods, page_csrf, world_values

OWN_ACCOUNT = ("auth.", "main.set_language")
OTHER_AREAS = ("competency", "xapi", "static")
#: Bookkeeping columns that a read may touch.
VOLATILE_TABLES = {"login_failures"}


def _snapshot(db) -> dict:
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            cols = [c for c in table.columns if c.name not in ("last_used_at", "last_login_at")]
            rows = conn.execute(sa.select(*cols)).all()
            out[table.name] = sorted(map(repr, rows))
    return out


def test_supervisor_cannot_change_anything(app, create_user, create_org):
    from lms.core.db import db

    w = build_world(create_user, create_org, kinds=("text", "quiz", "practical", "external"), learners=2)
    from courses.delivery import operations as ops

    sub = ops.submit_practical(w.learners[0], w.lesson("practical").id, "作业")
    db.session.commit()
    authority = create_org("人社局", "authority")
    supervisor = create_user("supervisor", authority)
    values = {**world_values(w), "submission_id": sub.id, "membership_id": w.learner.memberships[0].id,
              "token_id": 1, "user_id": w.learner.id}
    learner = w.learners[1]
    form = {"login": learner.login, "one-login": learner.login, "action": "one", "class_id": str(w.cls.id),
            "one-class_id": str(w.cls.id), "title_zh": "改了", "title_en": "changed", "code": "HACK-1",
            "name": "新班", "teacher_login": w.teacher.login, "organisation_id": str(w.school.id), "role": "learner",
            "score": "100", "passed": "y", "comment": "ok", "kind": "text", "body_format": "markdown",
            "body_source": "x", "description_format": "markdown", "prompt": "p", "choices_text": "*a\nb",
            "points": "1", "active": "y", "text": "work", "position": "10", "watched": "10", "event": "progress",
            "study_hours": "2", "storage_key": "", "module_id": str(w.module.id)}
    c = login_client(app, supervisor)
    token = page_csrf(c)
    before = _snapshot(db)
    tried = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith(OWN_ACCOUNT + OTHER_AREAS):
            continue
        url = fill(rule, values)
        for method in methods(rule):
            if method == "GET":
                continue
            tried += 1
            data = {"csrf_token": token, **form,
                    "files": (io.BytesIO(b"\x89PNG x"), "a.png"), "file": (io.BytesIO(b"\x89PNG x"), "a.png"),
                    "bulk-csv_file": (io.BytesIO(learner.login.encode()), "a.csv")}
            resp = c.open(url, method=method, data=data, content_type="multipart/form-data",
                          headers={"X-CSRFToken": token})
            assert resp.status_code < 500, f"{method} {url} -> {resp.status_code}"
            resp = c.open(url, method=method, headers={"X-CSRFToken": token},
                          json={"login": learner.login, "user_id": learner.id, "class_id": w.cls.id,
                                "csv": learner.login, "score": 100, "passed": True, "position": 10, "watched": 10})
            assert resp.status_code < 500, f"{method} {url} (json) -> {resp.status_code}"
            after = _snapshot(db)
            changed = [t for t in before if before[t] != after[t]]
            assert not changed, f"{method} {url} by a supervisor changed {changed}"
    assert tried > 40


def test_supervisor_sees_everything(app, create_user, create_org):
    w = build_world(create_user, create_org, kinds=("text",), learners=1)
    authority = create_org("人社局", "authority")
    supervisor = create_user("supervisor", authority)
    c = login_client(app, supervisor)
    assert c.get(f"/courses/{w.course.id}/enrolments").status_code == 200
    assert c.get(f"/api/v1/users/{w.learner.id}").status_code == 200
    assert c.get(f"/api/v1/courses/{w.course.id}/enrolments").get_json()["items"]
    assert c.get(f"/teach/course/{w.course.id}").status_code in (200, 403)  # gradebook is for teachers
    assert c.get(f"/admin/organisations/{w.school.id}").status_code == 200
    body = c.get(f"/api/v1/users/{w.learner.id}").get_json()
    if w.learner.id_card_number:
        assert body["id_card_number"] != w.learner.id_card_number
