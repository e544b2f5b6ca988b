"""Catalogue, rules, automatic evaluation on domain events, ledger and exports."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from tests.creditbank.support import approved_rule, catalogue, completed_enrolment


@pytest.fixture
def people(create_user, create_org):
    school = create_org("学分银行学院", "institution")
    manager = create_user("institution_admin", school, real_name="管理员")
    admin = create_user(admin=True, real_name="系统管理员")
    worker = create_user("learner", school, real_name="张工")
    return school, manager, admin, worker


def _entries(user):
    from creditbank.models import LedgerEntry
    from lms.core.db import db

    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.user_id == user.id)
                              .order_by(LedgerEntry.id)).all()


def test_course_completed_event_deposits_catalogue_credits_once(people):
    from creditbank.operations.evaluation import balances
    from lms.core.events import send_after_commit
    from lms.core.db import db
    from lms.core.extension_points import course_completed

    _school, manager, _admin, worker = people
    cat = catalogue(manager)
    for _ in range(3):  # the same event thrice: one deposit
        send_after_commit(course_completed, completed_enrolment(worker))
        db.session.commit()
    entries = _entries(worker)
    assert len(entries) == 1
    assert entries[0].basis == f"outcome:{cat.course.id}" and entries[0].credits == 2
    assert entries[0].evidence[0]["source_kind"] == "course_completed"
    assert [(b["credit_type"].code, b["credits"]) for b in balances(worker.id)] == [("VT", 2.0)]


def test_event_for_a_rolled_back_change_credits_nothing(people):
    from lms.core.events import send_after_commit
    from lms.core.db import db
    from lms.core.extension_points import course_completed

    _school, manager, _admin, worker = people
    catalogue(manager)
    send_after_commit(course_completed, completed_enrolment(worker))
    db.session.rollback()
    assert _entries(worker) == []


def test_and_rule_with_conditions_cites_version_and_evidence(people):
    from creditbank.receivers import on_course_completed, on_level_awarded
    from types import SimpleNamespace

    _school, manager, admin, worker = people
    cat = catalogue(manager)
    rule = approved_rule(manager, admin, code="R-EE", title="电工课+高级工 → 电工学", source_ids=[cat.course.id, cat.lvl.id],
                         target_outcome_id=cat.acad.id, min_score=60)
    on_course_completed(completed_enrolment(worker, score=55))
    on_level_awarded(SimpleNamespace(id=7, user_id=worker.id, rung=3, awarded_at=None, framework=None))
    assert [e.basis for e in _entries(worker)] == [f"outcome:{cat.course.id}"]  # score 55 < 60: no conversion
    on_course_completed(completed_enrolment(worker, eid=2, score=80))
    entries = _entries(worker)
    conv = [e for e in entries if e.basis == "rule:R-EE"]
    assert len(conv) == 1 and conv[0].rule_id == rule.id and conv[0].rule_version == 1
    assert {e["outcome"] for e in conv[0].evidence} == {"CB-ELEC-101", "CB-LEVEL-3"}
    # The granted academic course deposits its own credits, citing the rule's achievement.
    assert any(e.basis == f"outcome:{cat.acad.id}" and e.credits == 4 for e in entries)


def test_or_rule_respects_max_count_and_validity(people):
    from creditbank.receivers import on_course_completed

    _school, manager, admin, worker = people
    cat = catalogue(manager)
    from creditbank.operations.catalogue import create_outcome
    from lms.core.db import db

    other = create_outcome(manager, code="CB-ELEC-102", kind="course", title_zh="电工进阶", match_key="course:ELEC-102")
    third = create_outcome(manager, code="CB-ELEC-103", kind="course", title_zh="电工高级", match_key="course:ELEC-103")
    db.session.commit()
    approved_rule(manager, admin, code="R-ANY", title="任一课程 1 学分", operator="or",
                  source_ids=[cat.course.id, other.id, third.id], credits=1.5, credit_type_id=cat.academic.id,
                  max_count=2, validity_years=2)
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365 * 3)
    on_course_completed(completed_enrolment(worker, code="ELEC-101", eid=1, when=old))  # expired for the rule
    assert [e for e in _entries(worker) if e.basis == "rule:R-ANY"] == []
    on_course_completed(completed_enrolment(worker, code="ELEC-102", eid=2))
    on_course_completed(completed_enrolment(worker, code="ELEC-103", eid=3))
    on_course_completed(completed_enrolment(worker, code="ELEC-102", eid=4))
    conv = [e for e in _entries(worker) if e.basis == "rule:R-ANY"]
    assert len(conv) == 2 and sorted(e.slot for e in conv) == [1, 2]


def test_editing_a_rule_writes_a_new_version_and_approval_supersedes(people):
    from creditbank.operations import CreditBankError
    from creditbank.operations.rules import approve_rule, public_rules, save_rule
    from lms.core.db import db

    _school, manager, admin, _worker = people
    cat = catalogue(manager)
    v1 = approved_rule(manager, admin, code="R1", title="v1", source_ids=[cat.course.id], credits=1,
                       credit_type_id=cat.theory.id)
    v2 = save_rule(manager, code="R1", title="v2", operator="and", source_ids=[cat.course.id], credits=2,
                   credit_type_id=cat.theory.id, effective_from=dt.date(2026, 1, 1), note="学时调整")
    db.session.commit()
    assert v2.version == 2 and v2.status == "draft" and v1.status == "approved"
    with pytest.raises(CreditBankError):  # four eyes: the author cannot approve
        approve_rule(manager, v2)
    approve_rule(admin, v2)
    db.session.commit()
    db.session.refresh(v1)
    assert v1.status == "superseded" and v2.approved_by_id == admin.id
    assert [(r.code, r.version, r.status) for r in public_rules()] == [("R1", 1, "superseded"), ("R1", 2, "approved")]


def test_rule_validation_refuses_malformed_rules(people):
    from creditbank.operations import CreditBankError
    from creditbank.operations.rules import save_rule

    _school, manager, _admin, worker = people
    cat = catalogue(manager)
    base = dict(code="R", title="t", operator="and", source_ids=[cat.course.id], effective_from=dt.date(2026, 1, 1))
    bad = [dict(credits=None), dict(credits=1, credit_type_id=None), dict(credits=1, credit_type_id=cat.theory.id,
                                                                          target_outcome_id=cat.acad.id),
           dict(target_outcome_id=cat.course.id), dict(credits=1, credit_type_id=cat.theory.id, min_score=101),
           dict(credits=1, credit_type_id=cat.theory.id, operator="xor"),
           dict(credits=1, credit_type_id=cat.theory.id, code="=cmd|x"),
           dict(credits=1, credit_type_id=cat.theory.id, source_ids=[99999]),
           dict(credits=1, credit_type_id=cat.theory.id, effective_to=dt.date(2025, 1, 1))]
    for extra in bad:
        with pytest.raises(CreditBankError):
            save_rule(manager, **{**base, **extra})
    with pytest.raises(CreditBankError):  # a worker may not write rules
        save_rule(worker, **{**base, "credits": 1, "credit_type_id": cat.theory.id})


def test_rules_export_csv_is_formula_safe_and_json_public(people, client):
    from creditbank.operations.catalogue import create_outcome
    from lms.core.db import db

    _school, manager, admin, _worker = people
    cat = catalogue(manager)
    evil = create_outcome(manager, code="CB-X", kind="course", title_zh="=HYPERLINK(\"http://evil\")")
    db.session.commit()
    approved_rule(manager, admin, code="R-CSV", title='=cmd|" /C calc"!A0', source_ids=[evil.id], credits=1,
                  credit_type_id=cat.theory.id, note="+SUM(1)")
    resp = client.get("/creditbank/rules.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["title"].startswith("'=") and rows[0]["note"].startswith("'+")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))
    body = client.get("/creditbank/rules.json").get_json()
    assert body["rules"][0]["code"] == "R-CSV" and body["rules"][0]["sources"] == ["CB-X"]
    assert body["rules"][0]["version"] == 1
    assert client.get("/creditbank/rules.xml").status_code == 404


def test_drafts_are_not_public(people, client):
    from creditbank.operations.rules import save_rule
    from lms.core.db import db

    _school, manager, _admin, _worker = people
    cat = catalogue(manager)
    save_rule(manager, code="SECRET", title="草稿", operator="and", source_ids=[cat.course.id], credits=1,
              credit_type_id=cat.theory.id, effective_from=dt.date(2026, 1, 1))
    db.session.commit()
    assert "SECRET" not in client.get("/creditbank/rules").get_data(as_text=True)
    assert "SECRET" not in client.get("/creditbank/rules.csv").get_data(as_text=True)


def test_ledger_page_shows_balances_and_rules(people, client, auth):
    from creditbank.receivers import on_course_completed

    _school, manager, admin, worker = people
    cat = catalogue(manager)
    approved_rule(manager, admin, code="R-PAGE", title="课程转换", source_ids=[cat.course.id], credits=3,
                  credit_type_id=cat.academic.id)
    on_course_completed(completed_enrolment(worker))
    auth.login(worker)
    html = client.get("/creditbank/").get_data(as_text=True)
    assert "R-PAGE" in html and "学历学分" in html and "职业理论学分" in html
    body = client.get("/api/creditbank/ledger").get_json()
    assert {b["credit_type"]: b["credits"] for b in body["balances"]} == {"AC": 3.0, "VT": 2.0}


def test_admin_pages_need_the_manage_permission(people, client, auth):
    _school, manager, _admin, worker = people
    auth.login(worker)
    assert client.get("/creditbank/admin").status_code == 403
    assert client.get("/creditbank/rules/new").status_code == 403
    auth.logout()
    auth.login(manager)
    assert client.get("/creditbank/admin").status_code == 200


def test_admin_form_adds_an_outcome_with_csrf(people, client, auth):
    from lms.testing import csrf_token_from

    _school, manager, _admin, _worker = people
    auth.login(manager)
    page = client.get("/creditbank/admin").get_data(as_text=True)
    resp = client.post("/creditbank/admin", data={"t-code": "VT", "t-name_zh": "职业理论学分"})
    assert resp.status_code == 400  # no CSRF token
    resp = client.post("/creditbank/admin", data={"t-csrf_token": csrf_token_from(page), "t-code": "VT",
                                                  "t-name_zh": "职业理论学分"})
    assert resp.status_code == 302
