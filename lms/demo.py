"""Demo data: one enterprise, one school, one authority and one user per role.

Plugins add their own demo data through the ``demo_seeders`` registry.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.accounts import operations as account_ops
from lms.accounts.models import User
from lms.core.db import db, utcnow
from lms.core.extension_points import registries
from lms.organisations import operations as org_ops

DEMO_PASSWORD = "Demo-2026"

#: (login, real name, role, organisation key) for each demo user.
DEMO_USERS = [
    ("admin@demo.lms", "系统管理员", "admin", None),
    ("learner@demo.lms", "李学员", "learner", "enterprise"),
    ("teacher@demo.lms", "王老师", "teacher", "school"),
    ("mentor@demo.lms", "张师傅", "mentor", "enterprise"),
    ("school-mentor@demo.lms", "赵导师", "teacher", "school"),
    ("enterprise@demo.lms", "陈经理", "enterprise_admin", "enterprise"),
    ("institution@demo.lms", "刘校长", "institution_admin", "school"),
    ("supervisor@demo.lms", "周科长", "supervisor", "authority"),
]


def is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def seed(app) -> list[str]:
    """Create the demo data; returns lines describing the logins. Caller commits."""
    orgs = {
        "enterprise": org_ops.create_organisation("华东智能制造有限公司", "enterprise", name_en="East China Smart Manufacturing Co.",
                                                  credit_code="91310000MA1FL0001X", region="上海市"),
        "school": org_ops.create_organisation("江南技师学院", "institution", name_en="Jiangnan Technician College",
                                              region="江苏省"),
        "authority": org_ops.create_organisation("省人力资源和社会保障厅职业能力建设处", "authority",
                                                 name_en="Provincial HRSS Vocational Capacity Office", region="江苏省"),
    }
    from lms.records.identity import email_keys, link as link_identities

    users = {}
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for login, name, role, org_key in DEMO_USERS:
        user = account_ops.register_user(login, DEMO_PASSWORD, name, is_system_admin=(role == "admin"),
                                         consent_version=account_ops.current_policy_version())
        user.email_verified_at = utcnow()  # demo addresses are known to be theirs
        link_identities(user, email_keys(login), source="verified_email")
        if org_key:
            org_ops.add_membership(user, orgs[org_key], role)
        users[login] = user
        lines.append(f"  {role:18s} {login}")
    # The demo learner is also an apprentice at the enterprise and studies at the school.
    org_ops.add_membership(users["learner@demo.lms"], orgs["school"], "learner")
    context = {"organisations": orgs, "users": users}
    for seeder in registries(app).demo_seeders:
        lines.extend(seeder(app, context) or [])
    return lines
