"""Outcomes achieved through xAPI statements (``activity:<IRI>``), from any system, and identity links."""
from __future__ import annotations

import sqlalchemy as sa

from tests.creditbank.support import catalogue

IRI = "https://moodle.example.edu/mod/quiz/42"


def _statement(actor, verb="completed", score=None, success=None):
    st = {"actor": actor, "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, "object": {"id": IRI}}
    result = {}
    if score is not None:
        result["score"] = {"scaled": score}
    if success is not None:
        result["success"] = success
    if result:
        st["result"] = result
    return st


def _outcome(manager):
    from creditbank.operations.catalogue import create_outcome
    from lms.core.db import db

    cat = catalogue(manager)
    outcome = create_outcome(manager, code="CB-MOODLE-42", kind="course", title_zh="外部平台课程",
                             match_key=f"activity:{IRI}", credit_value=1.5, credit_type_id=cat.theory.id)
    db.session.commit()
    return outcome


def _credits(user):
    from creditbank.operations.evaluation import balances

    return {b["credit_type"].code: b["credits"] for b in balances(user.id)}


def test_completed_statement_achieves_an_activity_outcome(create_user, create_org):
    from creditbank.models import Achievement
    from lms.core.db import db
    from lms.xapi.recorder import actor_for, record

    school = create_org("学院", "institution")
    manager = create_user("institution_admin", school)
    worker = create_user("learner", school)
    _outcome(manager)
    record(_statement(actor_for(worker), score=0.85))
    db.session.commit()
    assert _credits(worker) == {"VT": 1.5}
    ach = db.session.scalars(sa.select(Achievement).where(Achievement.user_id == worker.id)).one()
    assert ach.score == 85 and ach.source_ref.startswith("statement:")
    record(_statement(actor_for(worker), score=0.9))  # a second completion: still one deposit
    db.session.commit()
    assert _credits(worker) == {"VT": 1.5}


def test_failed_or_other_verbs_achieve_nothing(create_user, create_org):
    from lms.core.db import db
    from lms.xapi.recorder import actor_for, record

    school = create_org("学院", "institution")
    manager = create_user("institution_admin", school)
    worker = create_user("learner", school)
    _outcome(manager)
    record(_statement(actor_for(worker), verb="passed", success=False))
    record(_statement(actor_for(worker), verb="experienced"))
    db.session.commit()
    assert _credits(worker) == {}


def test_statements_of_a_foreign_account_count_once_it_is_linked(create_user, create_org):
    from lms.core.db import db
    from lms.records.identity import link
    from lms.xapi.recorder import record

    school = create_org("学院", "institution")
    manager = create_user("institution_admin", school)
    worker = create_user("learner", school)
    _outcome(manager)
    foreign = {"account": {"homePage": "https://moodle.example.edu", "name": "s42"}}
    record(_statement(foreign))
    db.session.commit()
    assert _credits(worker) == {}
    link(worker, ["account:https://moodle.example.edu|s42"], source="admin")
    db.session.commit()
    assert _credits(worker) == {"VT": 1.5}


def test_outcome_keys_are_validated(create_user, create_org):
    import pytest

    from creditbank.operations import CreditBankError
    from creditbank.operations.catalogue import create_outcome

    school = create_org("学院", "institution")
    manager = create_user("institution_admin", school)
    for key in ("activity:javascript:alert(1)", "course:", "level:x:9", "anything"):
        with pytest.raises(CreditBankError):
            create_outcome(manager, code="X1", kind="course", title_zh="x", match_key=key)
