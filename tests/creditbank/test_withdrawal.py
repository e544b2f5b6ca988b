"""Evidence that loses its basis (level retracted, certificate revoked, statement voided) reverses
the credits it earned, down the chain of rules; the record keeps the reversed entries."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.creditbank.support import approved_rule, catalogue, completed_enrolment


@pytest.fixture
def people(create_user, create_org):
    school = create_org("学院", "institution")
    return create_user("institution_admin", school), create_user(admin=True), create_user("learner", school)


def _balances(user):
    from creditbank.operations.evaluation import balances

    return {b["credit_type"].code: b["credits"] for b in balances(user.id)}


def _send(signal, sender, **kw):
    from lms.core.db import db
    from lms.core.events import send_after_commit

    send_after_commit(signal, sender, **kw)
    db.session.commit()


def test_retracted_level_reverses_the_conversion_and_what_it_granted(people):
    from lms.core.extension_points import course_completed, level_awarded, level_retracted

    manager, admin, worker = people
    cat = catalogue(manager)
    approved_rule(manager, admin, code="R-EE", title="课程+高级工 → 电工学", source_ids=[cat.course.id, cat.lvl.id],
                  target_outcome_id=cat.acad.id)
    attainment = SimpleNamespace(id=5, user_id=worker.id, rung=3, awarded_at=None, framework=None)
    _send(course_completed, completed_enrolment(worker))
    _send(level_awarded, attainment)
    assert _balances(worker) == {"VT": 2.0, "AC": 4.0}
    _send(level_retracted, attainment, reason="证据被撤销")
    assert _balances(worker) == {"VT": 2.0}  # the course stays; the academic course goes
    from creditbank.operations.evaluation import ledger

    reversed_entries = [e for e in ledger(worker.id) if e.reversed_at]
    assert {e.basis for e in reversed_entries} == {"rule:R-EE", f"outcome:{cat.acad.id}"}
    assert all(e.reversal_reason == "证据被撤销" for e in reversed_entries)
    _send(level_awarded, attainment)  # awarded again: credited again
    assert _balances(worker) == {"VT": 2.0, "AC": 4.0}


def test_revoked_certificate_and_voided_statement_reverse_their_deposits(people):
    from creditbank.operations.catalogue import create_outcome
    from lms.core.db import db
    from lms.core.extension_points import certificate_issued, certificate_revoked
    from lms.xapi.recorder import actor_for, record

    manager, _admin, worker = people
    cat = catalogue(manager)
    create_outcome(manager, code="CB-CERT-3", kind="skill_level", title_zh="三级证书", match_key="certificate:*:3",
                   credit_value=3, credit_type_id=cat.theory.id, rung=3)
    create_outcome(manager, code="CB-ACT", kind="course", title_zh="外部课程",
                   match_key="activity:https://content.example.com/x", credit_value=1, credit_type_id=cat.academic.id)
    db.session.commit()
    cert = SimpleNamespace(id=9, user_id=worker.id, attainment=SimpleNamespace(rung=3, framework=None),
                           issued_at=None, verification_code="ABC")
    _send(certificate_issued, cert)
    sid = record({"actor": actor_for(worker), "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                  "object": {"id": "https://content.example.com/x"}})
    db.session.commit()
    assert _balances(worker) == {"VT": 3.0, "AC": 1.0}
    _send(certificate_revoked, cert, reason="伪造")
    assert _balances(worker) == {"AC": 1.0}
    from creditbank.tasks import withdraw

    withdraw.delay("statement", [f"statement:{sid}"], "statement voided")  # as statement_stored's voided_ids do
    assert _balances(worker) == {}


def test_ledger_page_shows_reversed_entries(people, client, auth):
    from lms.core.extension_points import course_completed
    from creditbank.tasks import withdraw

    manager, _admin, worker = people
    catalogue(manager)
    _send(course_completed, completed_enrolment(worker))
    withdraw.delay("course_completed", ["enrolment:1"], "课程成绩作废")
    auth.login(worker)
    html = client.get("/creditbank/").get_data(as_text=True)
    assert "<del>2</del>" in html and "课程成绩作废" in html
