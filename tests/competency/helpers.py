"""Shared helpers of the competency tests: a small framework, statements, recording."""
from __future__ import annotations

import datetime as dt
import uuid

from lms.core.db import db

X = "https://ext.example.org/act/"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"

#: A two-level framework: level 1 has 3 units (u1 required), level 2 has 2 units.
SMALL_CSV = f"""record,level,code,parent,title,title_en,weight,required,theory_weight,skill_weight,options
document,,6-31-01-03,,测试电工标准,Test electrician,,,,,edition=T1; occupation=电工; occupation_en=Electrician
level,1,,,,,,,,,coverage=0.6; theory_pass=60; practical_pass=60; validity_days=365
level,2,,,,,,,,,coverage=1; review=no
prerequisite,2,A,,,,,,,,level_held=1
exam,1,theory,,{X}exam/theory,,,,,,
exam,1,practical,,{X}exam/practical,,,,,,
function,1,1,,安装,Installing,,,60,70,
work_content,1,1.1,1,布线,Wiring,,,,,
skill,1,1.1.1,1.1,能布线,Can wire,1,yes,,,
skill,1,1.1.2,1.1,能接线,Can connect,1,,,,
function,1,2,,维修,Repairing,,,40,30,
work_content,1,2.1,2,排障,Faults,,,,,
knowledge,1,2.1.1,2.1,电路定律,Circuit laws,1,,,,
function,2,1,,控制,Control,,,100,100,
work_content,2,1.1,1,电机,Motors,,,,,
skill,2,1.1.1,1.1,正反转,Reversing,1,,,,
skill,2,1.1.2,1.1,星三角,Star-delta,1,,,,
rule,1,1.1.1,,{X}wiring,Wiring lab,,,,,verbs=passed; match=activity; min_scaled=0.6
rule,1,1.1.2,,{X}course-connect,Connect course,,,,,verbs=completed; match=parent; weight=0.5
rule,1,2.1.1,,{X}laws-a,Laws part A,,,,,verbs=completed; match=activity; group=g; operator=all
rule,1,2.1.1,,{X}laws-b,Laws part B,,,,,verbs=completed; match=activity; group=g; operator=all
rule,1,2.1.1,,http://adlnet.gov/expapi/activities/assessment,Any assessment,,,,,verbs=passed; match=type; min_scaled=0.9
rule,2,1.1.1,,{X}reversing,Reversing,,,,,verbs=passed; match=activity
rule,2,1.1.2,,{X}star-delta,Star delta,,,,,verbs=passed; match=activity
"""


def import_small(actor=None):
    from competency.operations.frameworks import import_framework

    fw = import_framework(SMALL_CSV, "small.csv", actor=actor)
    db.session.commit()
    return fw


def unit(fw, rung: int, code: str):
    import sqlalchemy as sa

    from competency.models import FrameworkItem, FrameworkLevel

    return db.session.scalar(sa.select(FrameworkItem).join(FrameworkLevel, FrameworkLevel.id == FrameworkItem.level_id)
                             .where(FrameworkItem.framework_id == fw.id, FrameworkLevel.rung == rung,
                                    FrameworkItem.code == code))


def level(fw, rung: int):
    return next(lv for lv in fw.levels if lv.rung == rung)


def stmt(actor, verb, activity, *, scaled=None, success=None, parent=None, atype=None, sid=None, ts=None,
         platform=None) -> dict:
    st = {"id": sid or str(uuid.uuid4()), "actor": actor, "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
          "object": {"objectType": "Activity", "id": activity,
                     "definition": {"name": {"en-US": activity.rsplit("/", 1)[-1]}}},
          "timestamp": (ts or dt.datetime.now(dt.timezone.utc)).isoformat()}
    if atype:
        st["object"]["definition"]["type"] = atype
    result = {}
    if scaled is not None:
        result["score"] = {"scaled": scaled}
    if success is not None:
        result["success"] = success
    if result:
        st["result"] = result
    ctx = {}
    if parent:
        ctx["contextActivities"] = {"parent": [{"id": parent, "objectType": "Activity"}]}
    if platform:
        ctx["platform"] = platform
    if ctx:
        st["context"] = ctx
    return st


def mbox(email: str) -> dict:
    return {"objectType": "Agent", "mbox": "mailto:" + email}


def record(*statements) -> list[str]:
    """Record statements through the LRS recorder and commit (the engine runs eagerly after commit)."""
    from lms.xapi.recorder import record_many

    ids = record_many(list(statements))
    db.session.commit()
    return ids


def void(statement_id: str, actor) -> str:
    return record({"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
                   "object": {"objectType": "StatementRef", "id": statement_id}})[0]
