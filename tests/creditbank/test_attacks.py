"""Hostile input and parallel requests against the credit bank's pages."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.testing import PASSWORD, csrf_token_from, only_on_postgresql
from tests.creditbank.support import LiveSession, catalogue, in_parallel


@pytest.fixture
def people(create_user, create_org):
    school = create_org("学院", "institution")
    manager = create_user("institution_admin", school)
    admin = create_user(admin=True)
    worker = create_user("learner", school)
    teacher = create_user("teacher", school)
    return school, manager, admin, worker, teacher


def test_titles_are_escaped(people, client):
    from creditbank.operations.catalogue import create_outcome
    from lms.core.db import db

    _school, manager, *_ = people
    create_outcome(manager, code="XSS", kind="course", title_zh="<script>alert(1)</script>")
    db.session.commit()
    html = client.get("/creditbank/catalogue").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_roles_that_may_not_approve_or_draft(people, client, auth):
    from creditbank.operations.rules import save_rule
    from lms.core.db import db

    _school, manager, _admin, worker, teacher = people
    cat = catalogue(manager)
    rule = save_rule(manager, code="R", title="t", operator="and", source_ids=[cat.course.id], credits=1,
                     credit_type_id=cat.theory.id, effective_from=dt.date(2026, 1, 1))
    db.session.commit()
    for user in (worker, teacher, manager):  # the author's own institution admin may not approve either
        auth.login(user)
        page = client.get("/creditbank/rules").get_data(as_text=True)
        token = csrf_token_from(page) if 'name="csrf' in page else ""
        assert client.post(f"/creditbank/rules/{rule.id}/approve", data={"csrf_token": token}).status_code == 403
        auth.logout()
    db.session.refresh(rule)
    assert rule.status == "draft"


def test_approve_needs_csrf(people, client, auth):
    from creditbank.operations.rules import save_rule
    from lms.core.db import db

    _school, manager, admin, _worker, _teacher = people
    cat = catalogue(manager)
    rule = save_rule(manager, code="R", title="t", operator="and", source_ids=[cat.course.id], credits=1,
                     credit_type_id=cat.theory.id, effective_from=dt.date(2026, 1, 1))
    db.session.commit()
    auth.login(admin)
    assert client.post(f"/creditbank/rules/{rule.id}/approve").status_code == 400
    db.session.refresh(rule)
    assert rule.status == "draft"


def test_rule_form_refuses_hostile_values(people, client, auth):
    from creditbank.models import ConversionRule
    from lms.core.db import db

    _school, manager, *_ = people
    cat = catalogue(manager)
    auth.login(manager)
    token = csrf_token_from(client.get("/creditbank/rules/new").get_data(as_text=True))
    for data in ({"code": "R\x00", "source_ids": [cat.course.id]}, {"code": "R", "source_ids": ["x"]},
                 {"code": "R", "source_ids": [cat.course.id], "max_count": "-1"},
                 {"code": "R", "source_ids": [cat.course.id], "min_score": "nan"},
                 {"code": "R" * 500, "source_ids": [cat.course.id]}):
        form = {"csrf_token": token, "title": "t", "operator": "and", "credits": "1", "credit_type_id": cat.theory.id,
                "max_count": "1", "effective_from": "2026-01-01", "target_outcome_id": "0", **data}
        assert client.post("/creditbank/rules/new", data=form).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConversionRule)) == 0
    form = {"csrf_token": token, "code": "R-OK", "title": "t", "operator": "or", "source_ids": [cat.course.id],
            "credits": "1", "credit_type_id": cat.theory.id, "max_count": "1", "effective_from": "2026-01-01",
            "target_outcome_id": "0"}
    assert client.post("/creditbank/rules/new", data=form).status_code == 302


@pytest.mark.postgres
def test_twenty_parallel_approvals_have_one_effect(people, app, live_server, test_database_url):
    only_on_postgresql(test_database_url)
    from creditbank.models import ConversionRule
    from creditbank.operations.rules import approve_rule, save_rule
    from lms.core.db import db

    _school, manager, admin, _worker, _teacher = people
    cat = catalogue(manager)
    v1 = save_rule(manager, code="R", title="v1", operator="and", source_ids=[cat.course.id], credits=1,
                   credit_type_id=cat.theory.id, effective_from=dt.date(2026, 1, 1))
    approve_rule(admin, v1)
    v2 = save_rule(manager, code="R", title="v2", operator="and", source_ids=[cat.course.id], credits=2,
                   credit_type_id=cat.theory.id, effective_from=dt.date(2026, 1, 1))
    db.session.commit()
    path = f"/creditbank/rules/{v2.id}/approve"
    s = LiveSession(live_server.url).login(admin, PASSWORD)
    token = s.token("/creditbank/rules")
    codes = in_parallel(20, lambda: s.call(path, {"csrf_token": token})[0])
    assert codes.count(302) == 1, codes
    db.session.rollback()
    assert db.session.scalars(sa.select(ConversionRule.status).where(ConversionRule.code == "R")
                              .order_by(ConversionRule.version)).all() == ["superseded", "approved"]
