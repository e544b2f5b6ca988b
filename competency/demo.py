"""Demo data: the two shipped frameworks, an assessor, and statements from an "external" system."""
from __future__ import annotations

import datetime as dt
import os

import sqlalchemy as sa

from lms.core.db import db, utcnow

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
DEMO_FILES = ("electrician-6-31-01-03.csv", "ai-trainer-4-04-05-05.csv")
EXTERNAL = "https://skills.example.cn/xapi/"


def import_demo_frameworks() -> list:
    """Import the shipped frameworks that are not there yet; returns the frameworks."""
    from competency.models import Framework, Occupation
    from competency.operations.frameworks import import_framework, parse

    out = []
    for name in DEMO_FILES:
        with open(os.path.join(DATA_DIR, name), encoding="utf-8-sig") as fh:
            text = fh.read()
        doc = parse(text, name)["document"]
        existing = db.session.scalar(sa.select(Framework).join(Occupation).where(
            Occupation.code == doc["occupation"]["code"], Framework.edition == doc["edition"]))
        out.append(existing or import_framework(text, name))
    return out


def _teacher_rule(framework, teacher) -> list[str]:
    """A rule the demo teacher adds to the (system-owned) electrician standard: it maps the
    school's lighting lab to a unit, and belongs to the school (the teacher's organisation)."""
    from competency.models import EvidenceRule, FrameworkItem, FrameworkLevel
    from competency.operations.rules import create_rule
    from lms.xapi import vocab

    iri = EXTERNAL + "electrician/lighting-lab"
    if db.session.scalar(sa.select(EvidenceRule.id).where(EvidenceRule.framework_id == framework.id,
                                                          EvidenceRule.match_iri == iri)):
        return []
    unit = db.session.scalar(sa.select(FrameworkItem).join(FrameworkLevel, FrameworkLevel.id == FrameworkItem.level_id)
                             .where(FrameworkItem.framework_id == framework.id, FrameworkLevel.rung == 1,
                                    FrameworkItem.code == "2.1.2"))
    if unit is None:
        return []
    create_rule(unit, actor=teacher, verbs=[vocab.VERB_PASSED], match_kind="activity", match_iri=iri,
                min_scaled=0.6, name="照明电路实训（学校）")
    return ["competency: teacher@demo.lms added a rule owned by the school to the electrician standard"]


def _external_statement(actor, verb, iri, name, *, scaled=None, days_ago=0, parent=None):
    from lms.xapi import vocab

    st = {"actor": actor, "verb": vocab.VERBS.get(verb) or {"id": verb},
          "object": {"objectType": "Activity", "id": iri, "definition": {
              "name": {"zh-CN": name}, "type": vocab.ACTIVITY_TYPE_ASSESSMENT}},
          "context": {"platform": "技能实训平台 (external)"},
          "timestamp": (utcnow() - dt.timedelta(days=days_ago)).isoformat()}
    if scaled is not None:
        st["result"] = {"score": {"scaled": scaled}, "success": scaled >= 0.6}
    if parent:
        st["context"]["contextActivities"] = {"parent": [{"id": parent}]}
    return st


def seed(app, context) -> list[str]:
    from competency.operations.attainment import authorise_assessor, record_qualification
    from lms.xapi import vocab
    from lms.xapi.recorder import actor_for, record_many

    electrician, ai = import_demo_frameworks()
    users = context.get("users", {})
    lines = [f"competency: frameworks {electrician.title} / {ai.title}"]
    inst = users.get("institution@demo.lms")
    teacher = users.get("teacher@demo.lms")
    if inst is not None and teacher is not None:
        authorise_assessor(teacher, electrician.occupation, actor=inst)
        authorise_assessor(teacher, ai.occupation, actor=inst)
        lines.append("competency: teacher@demo.lms is an assessor for both occupations")
        lines.extend(_teacher_rule(electrician, teacher))
    learner = users.get("learner@demo.lms")
    if learner is not None:
        record_qualification(learner, "occupation_start", actor=inst, since=utcnow() - dt.timedelta(days=400),
                             occupation=electrician.occupation)
        actor = actor_for(learner)
        e = EXTERNAL + "electrician/"
        record_many([
            _external_statement(actor, vocab.VERB_COMPLETED, e + "ppe-check", "劳保用品检查（仿真）", days_ago=20),
            _external_statement(actor, vocab.VERB_PASSED, e + "lockout-tagout", "停电验电挂牌实操", scaled=0.85, days_ago=18),
            _external_statement(actor, vocab.VERB_COMPLETED, e + "first-aid", "触电急救", days_ago=15),
            _external_statement(actor, vocab.VERB_PASSED, e + "meters-lab", "仪表测量实训", scaled=0.9, days_ago=12),
            _external_statement(actor, vocab.VERB_PASSED, e + "wiring-lab", "室内配线实训", scaled=0.75, days_ago=9),
            _external_statement(actor, vocab.VERB_PASSED, e + "board-install", "配电箱安装", scaled=0.8, days_ago=5),
            _external_statement(actor, vocab.VERB_PASSED, e + "exam/l1-theory", "初级工理论考试", scaled=0.78, days_ago=2),
        ])
        lines.append("competency: learner@demo.lms has electrician evidence from an external platform")
    return lines


def register_demo_seeder(app) -> None:
    from lms.core.extension_points import registries

    registries(app).demo_seeders.append(seed)
