"""Demo data of the supervision plugin: an authority officer, the demo school in the
training-institutions catalogue, one occupation, and the policy rules with their citations."""
from __future__ import annotations

import datetime as dt

from lms.accounts import operations as account_ops
from lms.core.db import db, utcnow
from lms.organisations import operations as org_ops

OFFICER_LOGIN = "authority@demo.lms"


def seed(app, context) -> list[str]:
    from lms.demo import DEMO_PASSWORD
    from supervision.models import AuthorityOfficer
    from supervision.operations import catalogue, policy

    authority, school = context["organisations"]["authority"], context["organisations"]["school"]
    officer = account_ops.register_user(OFFICER_LOGIN, DEMO_PASSWORD, "吴处长")
    org_ops.add_membership(officer, authority, "supervisor")
    db.session.add(AuthorityOfficer(user_id=officer.id, organisation_id=authority.id, created_at=utcnow()))
    db.session.flush()
    today = dt.date.today()
    start = today.replace(month=1, day=1)
    catalogue.new_version(officer, "occupation", "6-31-01-03", reason_code="new", effective_from=start,
                          title="电工", occupation_code="6-31-01-03")
    catalogue.new_version(officer, "institution", f"INST-{school.id:04d}", reason_code="new", effective_from=start,
                          title=school.name, organisation_id=school.id,
                          data={"occupations": ["6-31-01-03"], "capacity": 200, "qualifications": "民办职业培训许可证"})
    notice = "《省职业技能提升行动补贴资金管理办法》（示例）第十二条"
    policy.record(officer, "subsidy.max_per_person_year", 3000, citation=notice, effective_from=start)
    policy.record(officer, "screen.max_daily_hours", 8, citation=notice, effective_from=start)
    return [f"  {'authority officer':18s} {OFFICER_LOGIN} (approves classes and catalogue entries)"]
