"""Evidence rules and the rule index the engine looks statements up in."""
from __future__ import annotations

import re

import sqlalchemy as sa

from competency.operations import CompetencyError
from lms.core.db import db

IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


def _group_for(unit, group_name: str, operator: str):
    from competency.models import CriteriaGroup

    name = group_name or ("all" if operator == "all" else "")
    group = db.session.scalar(sa.select(CriteriaGroup).where(CriteriaGroup.unit_id == unit.id,
                                                             CriteriaGroup.name == name))
    if group is None:
        group = CriteriaGroup(unit_id=unit.id, operator=operator, name=name)
        db.session.add(group)
        db.session.flush()
    elif group.operator != operator:
        raise CompetencyError(f"criteria group {name!r} of this unit combines its rules with "
                              f"{group.operator!r}, not {operator!r}", field="operator")
    return group


def create_rule(unit, *, actor, verbs, match_kind: str, match_iri: str, min_scaled=None,
                success_required: bool = False, weight: float = 1.0, group_name: str = "", operator: str = "any",
                name: str = "", min_source: str = "any"):
    """Create an evidence rule for ``unit`` and index it. Rules apply to statements stored later;
    run a recompute to apply them to history."""
    from competency.models import EvidenceRule
    from competency.models.rules import MIN_SOURCES

    if unit is None or not unit.is_unit:
        raise CompetencyError("a rule must point at a skill or knowledge unit", field="unit_id")
    verbs = [v.strip() for v in (verbs or []) if v and v.strip()]
    if not verbs or not all(IRI.match(v) for v in verbs):
        raise CompetencyError("give at least one verb IRI", field="verbs")
    if match_kind not in ("activity", "type", "parent"):
        raise CompetencyError("match must be activity, type or parent", field="match_kind")
    match_iri = (match_iri or "").strip()
    if not IRI.match(match_iri) or len(match_iri) > 1000:
        raise CompetencyError("the activity must be an IRI (at most 1000 characters)", field="match_iri")
    if min_scaled is not None and not -1 <= float(min_scaled) <= 1:
        raise CompetencyError("the minimum scaled score must be between -1 and 1", field="min_scaled")
    if not 0 < float(weight) <= 1:
        raise CompetencyError("the weight must be above 0 and at most 1", field="weight")
    if operator not in ("any", "all"):
        raise CompetencyError("operator must be any or all", field="operator")
    if (min_source or "any") not in MIN_SOURCES:
        raise CompetencyError("the minimum source must be one of " + ", ".join(MIN_SOURCES), field="min_source")
    group = _group_for(unit, group_name or "", operator)
    rule = EvidenceRule(framework_id=unit.framework_id, unit_id=unit.id, group_id=group.id,
                        name=name or "", verbs=verbs, match_kind=match_kind, match_iri=match_iri,
                        min_scaled=float(min_scaled) if min_scaled is not None else None,
                        success_required=bool(success_required), weight=float(weight),
                        min_source=min_source or "any", created_by_id=getattr(actor, "id", None))
    db.session.add(rule)
    db.session.flush()
    index_rule(rule)
    return rule


def index_rule(rule) -> None:
    """(Re)write the index rows of ``rule`` (none when inactive)."""
    from competency.models import RuleIndexEntry
    from competency.models.rules import index_key

    db.session.execute(sa.delete(RuleIndexEntry).where(RuleIndexEntry.rule_id == rule.id))
    if rule.active:
        for verb in sorted(set(rule.verbs)):
            db.session.add(RuleIndexEntry(rule_id=rule.id, lookup_key=index_key(rule.match_kind, verb, rule.match_iri)))
    db.session.flush()


def set_rule_active(rule, active: bool, *, actor) -> None:
    rule.active = bool(active)
    index_rule(rule)


def delete_rule(rule, *, actor) -> None:
    """Delete a rule; its evidence stays (with ``rule_id`` null) until the next recompute."""
    db.session.delete(rule)
    db.session.flush()


def candidate_keys(statement, activity_type: str | None = None) -> list[str]:
    """The rule-index keys a stored statement could match: its verb with its activity, the
    activity's type and each contextActivities parent and grouping."""
    from competency.models.rules import index_key

    verb = statement.verb_id
    keys = []
    if statement.object_type in (None, "Activity") and statement.object_id:
        keys.append(index_key("activity", verb, statement.object_id))
        obj = (statement.full or {}).get("object") or {}
        atype = activity_type or (obj.get("definition") or {}).get("type")
        if atype:
            keys.append(index_key("type", verb, atype))
    ctx = (statement.context or {}).get("contextActivities") or {}
    for rel in ("parent", "grouping"):
        acts = ctx.get(rel) or []
        if isinstance(acts, dict):
            acts = [acts]
        for act in acts:
            if isinstance(act, dict) and act.get("id"):
                keys.append(index_key("parent", verb, act["id"]))
    return keys


def rules_for_statement(statement, activity_type: str | None = None) -> list:
    """The active rules whose pattern (verb + activity/type/parent) the statement matches, found
    through the index, filtered by their result conditions."""
    from competency.models import EvidenceRule, RuleIndexEntry

    keys = candidate_keys(statement, activity_type)
    if not keys:
        return []
    rules = db.session.scalars(sa.select(EvidenceRule).join(RuleIndexEntry, RuleIndexEntry.rule_id == EvidenceRule.id)
                               .where(RuleIndexEntry.lookup_key.in_(keys), EvidenceRule.active.is_(True))
                               .order_by(EvidenceRule.id)).unique().all()
    return [r for r in rules if r.matches(statement)]
