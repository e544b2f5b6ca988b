"""The credit bank's demo data: a public catalogue and approved rules, credited by the demo course."""
from __future__ import annotations


def test_demo_seed_publishes_rules_and_credits_the_demo_course(runner, client):
    import sqlalchemy as sa

    from creditbank.models import ConversionRule
    from lms.accounts.models import User
    from lms.core.db import db
    from lms.core.events import send_after_commit
    from lms.core.extension_points import course_completed
    from tests.creditbank.support import completed_enrolment

    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "Credit bank" in result.output
    db.session.rollback()
    assert db.session.scalars(sa.select(ConversionRule.status)).all() == ["approved", "approved"]
    assert "EE-BASICS" in client.get("/creditbank/rules").get_data(as_text=True)
    learner = db.session.scalar(sa.select(User).where(User.email == "learner@demo.lms"))
    send_after_commit(course_completed, completed_enrolment(learner, code="DEMO-SAFE-101", progress=1.0))
    db.session.commit()
    from creditbank.operations.evaluation import balances

    assert {b["credit_type"].code: b["credits"] for b in balances(learner.id)} == {"AC": 0.5, "VT": 1.0}
