"""A world for the ownership tests: two schools, a system framework, a rule owned by school A
and a learner of school A certified through it (plus one of school B with evidence through it)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from lms.core.db import db
from tests.competency.helpers import COMPLETED, PASSED, X, import_small, level, mbox, record, stmt, unit

SCHOOL_A_LAB = X + "school-a/wiring-lab"


@dataclass
class World:
    fw: object
    school_a: object
    school_b: object
    admin_a: object
    teacher_a: object
    teacher_b: object
    admin_b: object
    sysadmin: object
    learner: object
    learner_b: object
    rule_a: object
    attainment: object
    certificate: object


def build(create_user, create_org) -> World:
    from competency.models import LevelAttainment
    from competency.operations.attainment import award_level, record_exam_result
    from competency.operations.certificates import issue_certificate
    from competency.operations.rules import create_rule

    school_a = create_org("School A", "institution")
    school_b = create_org("School B", "institution")
    admin_a = create_user("institution_admin", school_a, login="admin-a@example.com")
    teacher_a = create_user("teacher", school_a, login="teacher-a@example.com", real_name="Teacher A")
    teacher_b = create_user("teacher", school_b, login="teacher-b@example.com")
    admin_b = create_user("institution_admin", school_b, login="admin-b@example.com")
    sysadmin = create_user(login="root@example.com", admin=True)
    learner = create_user("learner", school_a, login="holder@example.com", real_name="李四")
    learner_b = create_user("learner", school_b, login="other@example.com", real_name="王五")
    fw = import_small()
    rule_a = create_rule(unit(fw, 1, "1.1.1"), actor=teacher_a, verbs=[PASSED], match_kind="activity",
                         match_iri=SCHOOL_A_LAB, name="School A wiring lab")
    db.session.commit()
    # 1.1.1 (required) only through school A's rule; 2.1.1 through the imported laws rules.
    a = mbox(learner.login)
    record(stmt(a, PASSED, SCHOOL_A_LAB, scaled=0.9), stmt(a, COMPLETED, X + "laws-a"), stmt(a, COMPLETED, X + "laws-b"))
    record(stmt(mbox(learner_b.login), PASSED, SCHOOL_A_LAB, scaled=0.8))
    lv = level(fw, 1)
    record_exam_result(learner, lv, "theory", 80, actor=admin_a)
    record_exam_result(learner, lv, "practical", 70, actor=admin_a)
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id,
                                                             LevelAttainment.level_id == lv.id))
    award_level(att, actor=admin_a)
    cert = issue_certificate(att, actor=admin_a)
    db.session.commit()
    assert att.status == "certified"
    return World(fw, school_a, school_b, admin_a, teacher_a, teacher_b, admin_b, sysadmin, learner, learner_b,
                 rule_a, att, cert)


def snapshot() -> dict:
    """Rules, audit rows, unit and level state and certificates, to check that nothing changed."""
    from competency.models import Certificate, EvidenceRule, Framework, LevelAttainment, RuleChange, UnitState

    return {
        "rules": sorted((r.id, r.active, r.weight, r.match_iri, r.owner_org_id)
                        for r in db.session.scalars(sa.select(EvidenceRule))),
        "frameworks": sorted((f.id, f.title, f.status) for f in db.session.scalars(sa.select(Framework))),
        "changes": db.session.scalar(sa.select(sa.func.count()).select_from(RuleChange)),
        "units": sorted((s.learner_key, s.unit_id, s.coverage, s.covered) for s in db.session.scalars(sa.select(UnitState))),
        "levels": sorted((a.learner_key, a.level_id, a.status) for a in db.session.scalars(sa.select(LevelAttainment))),
        "certificates": sorted((c.id, c.revoked_at is None) for c in db.session.scalars(sa.select(Certificate))),
    }
