"""Demo data of the credit bank: credit types, academic levels, a small catalogue, approved rules."""
from __future__ import annotations

import datetime as dt


def seed(app, context) -> list[str]:
    """Runs after the core's seeder (its users in ``context["users"]``). Caller commits."""
    from creditbank.operations import catalogue as cat
    from creditbank.operations.rules import approve_rule, save_rule

    users = context.get("users", {})
    manager = users.get("institution@demo.lms")
    admin = users.get("admin@demo.lms")
    if manager is None or admin is None:
        return []
    vt = cat.create_credit_type(manager, "VT", "职业技能学分", "Vocational skill credit")
    ac = cat.create_credit_type(manager, "AC", "学历教育学分", "Academic credit")
    cat.create_academic_level(manager, "SEC-VOC", "中职", 1, rank=1, name_en="Secondary vocational")
    higher = cat.create_academic_level(manager, "HIGHER-VOC", "高职专科", 3, rank=2, name_en="Higher vocational")
    cat.create_academic_level(manager, "BACHELOR-VOC", "职业本科", 4, rank=3, name_en="Vocational bachelor")
    course = cat.create_outcome(manager, code="CB-DEMO-SAFE-101", kind="course", title_zh="智能制造设备安全操作",
                                title_en="Safe operation of smart manufacturing equipment",
                                match_key="course:DEMO-SAFE-101", credit_value=1, credit_type_id=vt.id)
    level = cat.create_outcome(manager, code="CB-LEVEL-2", kind="skill_level", title_zh="中级工（四级）",
                               title_en="Intermediate worker (level 4)", match_key="level:*:2", rung=2)
    outside = cat.create_outcome(manager, code="CB-ELECTRICIAN-PERMIT", kind="external_certificate",
                                 title_zh="特种作业操作证（电工）", title_en="Special operations permit (electrician)",
                                 issuer="应急管理部门", credit_value=2, credit_type_id=vt.id)
    academic = cat.create_outcome(manager, code="CB-ACAD-EE-BASICS", kind="academic_course", title_zh="电工电子技术",
                                  title_en="Electrical and electronic technology", credit_value=4,
                                  credit_type_id=ac.id, academic_level_id=higher.id)
    start = dt.date(dt.date.today().year, 1, 1)
    rule = save_rule(manager, code="EE-BASICS", title="中级工 + 电工证 → 电工电子技术", operator="and",
                     source_ids=[level.id, outside.id], target_outcome_id=academic.id, min_rung=2,
                     validity_years=5, effective_from=start, note="首版")
    approve_rule(admin, rule)
    rule = save_rule(manager, code="SAFE-COURSE", title="安全操作课程折算学历学分", operator="or",
                     source_ids=[course.id], credits=0.5, credit_type_id=ac.id, min_attendance=0.9, validity_years=3,
                     effective_from=start, note="首版")
    approve_rule(admin, rule)
    return ["Credit bank: 4 outcomes, 2 approved rules (/creditbank/rules)"]
