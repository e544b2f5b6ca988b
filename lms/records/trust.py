"""The trust policy: which sources may produce which learning facts, and the caps of study time.

Kept as data (:class:`~lms.records.models.PolicySetting` rows that system administrators edit
at ``/admin/records/policy``); a setting without a row takes its default below.

Facts the policy governs:

* ``study_time``   -- durations counted as study time (学时: course hours, apprentices' online
  hours, subsidy exports);
* ``completion``   -- completions and passes that evidence rules and milestones count;
* ``exam_result``  -- passes and scores on level-exam activities (theory, practical exams).

Sources (see :mod:`lms.records.provenance`): ``platform``, ``launch`` (content the platform
launched; it may report only on its launched activity tree, and its durations are bounded by the
session the server observed), ``system:untrusted`` / ``system:standard`` / ``system:assessment``
(registered external systems by trust level) and ``device`` (a learner's own app).
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import g, has_request_context

from lms.core.db import db, utcnow

FACTS = ("study_time", "completion", "exam_result")
SOURCES = ("platform", "launch", "system:assessment", "system:standard", "system:untrusted", "device")

#: Default trust: exam results only from the platform's own assessments and assessment-trusted systems.
DEFAULT_TRUST: dict[str, dict[str, bool]] = {
    "platform": {"study_time": True, "completion": True, "exam_result": True},
    "launch": {"study_time": True, "completion": True, "exam_result": False},
    "system:assessment": {"study_time": True, "completion": True, "exam_result": True},
    "system:standard": {"study_time": True, "completion": True, "exam_result": False},
    "system:untrusted": {"study_time": False, "completion": False, "exam_result": False},
    "device": {"study_time": False, "completion": False, "exam_result": False},
}

#: Numeric settings with their defaults.
DEFAULT_LIMITS: dict[str, float] = {
    #: No single statement counts more study time than this (a page left open over night).
    "study_time.max_statement_seconds": 4 * 3600,
    #: No learner is credited more study time than this per calendar day (Asia/Shanghai).
    "study_time.max_daily_seconds": 12 * 3600,
}

#: Order of sources from the least to the most trusted, for rules that name a minimum source.
SOURCE_RANK = {"device": 0, "system:untrusted": 0, "launch": 1, "system:standard": 2, "system:assessment": 3,
               "platform": 3}


def _settings() -> dict[str, object]:
    cache_key = "_records_policy"
    if has_request_context() and cache_key in g:
        return g.get(cache_key)
    from lms.records.models import PolicySetting

    rows = {name: value for name, value in db.session.execute(sa.select(PolicySetting.name, PolicySetting.value))}
    out: dict[str, object] = {}
    for name, text in rows.items():
        try:
            out[name] = json.loads(text)
        except ValueError:
            continue
    if has_request_context():
        g.setdefault(cache_key, out)
    return out


def allowed(source_policy: str, fact: str) -> bool:
    """Whether a source (policy key) may produce a fact."""
    value = _settings().get(f"trust.{source_policy}.{fact}")
    if isinstance(value, bool):
        return value
    return DEFAULT_TRUST.get(source_policy, {}).get(fact, False)


def allowed_sources(fact: str) -> list[str]:
    """The source policy keys that may produce ``fact``."""
    return [s for s in SOURCES if allowed(s, fact)]


def limit(name: str) -> float:
    """A numeric setting (see :data:`DEFAULT_LIMITS`)."""
    value = _settings().get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return float(DEFAULT_LIMITS[name])


def policy_table() -> dict[str, dict[str, bool]]:
    """The whole trust table as it applies now (defaults overlaid with the stored settings)."""
    return {s: {f: allowed(s, f) for f in FACTS} for s in SOURCES}


def update_policy(*, trust: dict[str, dict[str, bool]] | None = None, limits: dict[str, float] | None = None,
                  by=None) -> list[str]:
    """Store changed settings (flush only); returns the names changed. Unknown names raise ValueError."""
    from lms.records.models import PolicySetting

    changes: dict[str, object] = {}
    for source, facts in (trust or {}).items():
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        for fact, value in facts.items():
            if fact not in FACTS or not isinstance(value, bool):
                raise ValueError(f"unknown fact {fact!r} or not a boolean")
            if allowed(source, fact) != value:
                changes[f"trust.{source}.{fact}"] = value
    for name, value in (limits or {}).items():
        if name not in DEFAULT_LIMITS or isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"unknown setting {name!r} or not a number >= 0")
        if limit(name) != float(value):
            changes[name] = float(value)
    for name, value in changes.items():
        row = db.session.get(PolicySetting, name)
        if row is None:
            row = PolicySetting(name=name)
            db.session.add(row)
        row.value = json.dumps(value)
        row.updated_by_id = getattr(by, "id", None)
        row.updated_at = utcnow()
    db.session.flush()
    if has_request_context():
        g.pop("_records_policy", None)
    return sorted(changes)
