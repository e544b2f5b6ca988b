"""The xAPI vocabulary the platform uses: published IRIs (ADL, cmi5) and the platform's own.

Constants need no Flask; :func:`platform_iri` reads ``LMS_BASE_IRI`` from the current app.
"""
from __future__ import annotations

ADL = "http://adlnet.gov/expapi/verbs/"

VERB_REGISTERED = ADL + "registered"
VERB_LAUNCHED = ADL + "launched"
VERB_INITIALIZED = ADL + "initialized"
VERB_EXPERIENCED = ADL + "experienced"
VERB_PROGRESSED = ADL + "progressed"
VERB_ATTEMPTED = ADL + "attempted"
VERB_ANSWERED = ADL + "answered"
VERB_COMPLETED = ADL + "completed"
VERB_PASSED = ADL + "passed"
VERB_FAILED = ADL + "failed"
VERB_TERMINATED = ADL + "terminated"
VERB_VOIDED = ADL + "voided"
#: Competency: a unit or level attained.
VERB_ACHIEVED = "https://w3id.org/xapi/adl/verbs/achieved"
VERB_MASTERED = ADL + "mastered"
#: A certificate awarded.
VERB_AWARDED = "https://w3id.org/xapi/dod-isd/verbs/awarded"

ACTIVITY_TYPE_COURSE = "http://adlnet.gov/expapi/activities/course"
ACTIVITY_TYPE_MODULE = "http://adlnet.gov/expapi/activities/module"
ACTIVITY_TYPE_LESSON = "http://adlnet.gov/expapi/activities/lesson"
ACTIVITY_TYPE_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
ACTIVITY_TYPE_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
ACTIVITY_TYPE_MEDIA = "http://adlnet.gov/expapi/activities/media"

#: cmi5 result extension: progress in percent (0..100).
EXT_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def platform_iri(*parts: str) -> str:
    """An IRI in the platform's own namespace: ``LMS_BASE_IRI`` + ``"/".join(parts)``."""
    from flask import current_app

    base = current_app.config["LMS_BASE_IRI"]
    if not base.endswith("/"):
        base += "/"
    return base + "/".join(str(p).strip("/") for p in parts)


def verb(iri: str, zh: str, en: str) -> dict:
    """A verb object with a Chinese and an English display."""
    return {"id": iri, "display": {"zh-CN": zh, "en-US": en}}


VERBS: dict[str, dict] = {v["id"]: v for v in (
    verb(VERB_REGISTERED, "注册", "registered"),
    verb(VERB_LAUNCHED, "启动", "launched"),
    verb(VERB_INITIALIZED, "初始化", "initialized"),
    verb(VERB_EXPERIENCED, "学习", "experienced"),
    verb(VERB_PROGRESSED, "取得进展", "progressed"),
    verb(VERB_ATTEMPTED, "尝试", "attempted"),
    verb(VERB_ANSWERED, "作答", "answered"),
    verb(VERB_COMPLETED, "完成", "completed"),
    verb(VERB_PASSED, "通过", "passed"),
    verb(VERB_FAILED, "未通过", "failed"),
    verb(VERB_TERMINATED, "结束", "terminated"),
    verb(VERB_VOIDED, "作废", "voided"),
    verb(VERB_ACHIEVED, "达成", "achieved"),
    verb(VERB_MASTERED, "掌握", "mastered"),
    verb(VERB_AWARDED, "授予", "awarded"),
)}
