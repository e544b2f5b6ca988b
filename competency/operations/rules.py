"""Evidence rules and the rule index the engine looks statements up in."""
from __future__ import annotations

import re

import sqlalchemy as sa

from flask_babel import lazy_gettext as _l

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


def _checked(*, verbs, match_kind: str, match_iri: str, min_scaled, weight) -> dict:
    """The pattern fields of a rule, validated (shared by create and update)."""
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
    return {"verbs": verbs, "match_kind": match_kind, "match_iri": match_iri,
            "min_scaled": float(min_scaled) if min_scaled is not None else None, "weight": float(weight)}


def _check_min_source(min_source) -> None:
    from competency.models.rules import MIN_SOURCES

    if (min_source or "any") not in MIN_SOURCES:
        raise CompetencyError("the minimum source must be one of " + ", ".join(MIN_SOURCES), field="min_source")


def _forbidden():
    return CompetencyError(_l("Only staff of the organisation that owns it, or a system admin, may change this."),
                           status=403, code="forbidden")


def check_may_edit_rule(rule, actor) -> None:
    """Raise 403 unless ``actor`` (None = the system: CLI, tasks) may change ``rule``."""
    from competency.operations.access import may_edit_rule

    if actor is not None and not may_edit_rule(actor, rule):
        raise _forbidden()


def create_rule(unit, *, actor, verbs, match_kind: str, match_iri: str, min_scaled=None,
                success_required: bool = False, weight: float = 1.0, group_name: str = "", operator: str = "any",
                name: str = "", organisation_id: int | None = None, min_source: str = "any"):
    """Create an evidence rule for ``unit`` and index it. Rules apply to statements stored later;
    run a recompute to apply them to history.

    The rule belongs to the actor's organisation (see
    :func:`competency.operations.access.rule_owner_for`); ``organisation_id`` picks one when the
    actor works for several.
    """
    from competency.models import EvidenceRule, Framework
    from competency.operations.access import rule_owner_for
    from competency.operations.changes import log_change, rule_summary
    from lms.core.permissions import visible

    if unit is None or not unit.is_unit:
        raise CompetencyError("a rule must point at a skill or knowledge unit", field="unit_id")
    if actor is not None and db.session.scalar(visible(actor, Framework, sa.select(Framework.id).where(
            Framework.id == unit.framework_id))) is None:
        raise CompetencyError("no such framework", status=404, code="not_found")
    fields = _checked(verbs=verbs, match_kind=match_kind, match_iri=match_iri, min_scaled=min_scaled, weight=weight)
    if operator not in ("any", "all"):
        raise CompetencyError("operator must be any or all", field="operator")
    _check_min_source(min_source)
    owner = rule_owner_for(actor, db.session.get(Framework, unit.framework_id), organisation_id)
    group = _group_for(unit, group_name or "", operator)
    rule = EvidenceRule(framework_id=unit.framework_id, unit_id=unit.id, group_id=group.id,
                        name=name or "", success_required=bool(success_required), owner_org_id=owner,
                        min_source=min_source or "any",
                        created_by_id=getattr(actor, "id", None), **fields)
    db.session.add(rule)
    db.session.flush()
    index_rule(rule)
    log_change("rule", "create", actor=actor, framework_id=rule.framework_id, rule_id=rule.id, owner_org_id=owner,
               after=rule_summary(rule))
    return rule


#: Fields of a rule :func:`update_rule` may change (its unit, group and owner stay).
UPDATABLE = ("name", "verbs", "match_kind", "match_iri", "min_scaled", "success_required", "weight", "active",
             "min_source")


def update_rule(rule, *, actor, **changes):
    """Change a rule's pattern, label, weight or whether it is in force, and re-index it.

    Like a new rule, the change applies to statements stored later; a recompute applies it to
    history.
    """
    from competency.operations.changes import log_change, rule_summary

    check_may_edit_rule(rule, actor)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise CompetencyError(f"these fields cannot be changed: {', '.join(unknown)}", field=unknown[0])
    before = rule_summary(rule)
    merged = {k: changes.get(k, getattr(rule, k)) for k in ("verbs", "match_kind", "match_iri", "min_scaled", "weight")}
    fields = _checked(**merged)
    for key, value in fields.items():
        setattr(rule, key, value)
    if "name" in changes:
        rule.name = str(changes["name"] or "")[:300]
    if "success_required" in changes:
        rule.success_required = bool(changes["success_required"])
    if "active" in changes:
        rule.active = bool(changes["active"])
    if "min_source" in changes:
        _check_min_source(changes["min_source"])
        rule.min_source = changes["min_source"] or "any"
    db.session.flush()
    index_rule(rule)
    after = rule_summary(rule)
    if after != before:
        log_change("rule", "update", actor=actor, framework_id=rule.framework_id, rule_id=rule.id,
                   owner_org_id=rule.owner_org_id, before=before, after=after)
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
    update_rule(rule, actor=actor, active=bool(active))


def delete_rule(rule, *, actor) -> None:
    """Delete a rule; its evidence stays (with ``rule_id`` null) until the next recompute.

    The row is deleted with one ``DELETE`` whose row count is checked, so of concurrent requests
    deleting the same rule exactly one deletes it and logs it; the others get a 404.
    """
    from competency.models import EvidenceRule
    from competency.operations.changes import log_change, rule_summary

    check_may_edit_rule(rule, actor)
    rule_id, framework_id, owner, before = rule.id, rule.framework_id, rule.owner_org_id, rule_summary(rule)
    deleted = db.session.execute(sa.delete(EvidenceRule).where(EvidenceRule.id == rule_id)
                                 .execution_options(synchronize_session=False)).rowcount
    if deleted != 1:
        raise CompetencyError(_l("The rule does not exist (any more)."), status=404, code="not_found")
    db.session.expunge(rule)
    log_change("rule", "delete", actor=actor, framework_id=framework_id, rule_id=rule_id, owner_org_id=owner,
               before=before)


def deletion_impact(rule, *, viewer=None) -> dict:
    """What deleting ``rule`` would do at the next recompute, computed without writing anything.

    Lists the learners whose state would change: units whose coverage drops because their
    evidence came (partly or only) through this rule, and level attainments that would drop
    (eligible -> in progress, awarded/certified -> retracted with their certificates revoked).
    Names are shown when ``viewer`` may see the learner, masked otherwise.
    """
    from competency.models import (Certificate, CriteriaGroup, Evidence, EvidenceRule, FrameworkLevel,
                                   LevelAttainment, UnitState)
    from competency.operations.access import may_view_learner
    from competency.operations.attainment import AWARDED, _coverage, level_units
    from competency.operations.engine import unit_coverage
    from lms.accounts.models import User

    unit = rule.unit
    groups: dict = {}
    for gid, op, rid, weight in db.session.execute(
            sa.select(CriteriaGroup.id, CriteriaGroup.operator, EvidenceRule.id, EvidenceRule.weight)
            .join(EvidenceRule, EvidenceRule.group_id == CriteriaGroup.id)
            .where(CriteriaGroup.unit_id == unit.id, EvidenceRule.active.is_(True))):
        groups.setdefault(gid, (op, {}))[1][rid] = weight
    groups_after = {gid: (op, {r: w for r, w in rules.items() if r != rule.id}) for gid, (op, rules) in groups.items()}
    groups_after = {gid: g for gid, g in groups_after.items() if g[1]}
    keys = sorted(set(db.session.scalars(sa.select(Evidence.learner_key).where(
        Evidence.rule_id == rule.id, Evidence.retracted_at.is_(None)).distinct())))
    level = db.session.get(FrameworkLevel, unit.level_id)
    units = level_units(level.id)
    learners = []
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        evidence: dict = {}
        for ev in db.session.scalars(sa.select(Evidence).where(Evidence.learner_key.in_(chunk),
                                                               Evidence.unit_id == unit.id,
                                                               Evidence.retracted_at.is_(None))):
            evidence.setdefault(ev.learner_key, []).append(ev)
        states: dict = {}
        for key, unit_id, cov in db.session.execute(sa.select(UnitState.learner_key, UnitState.unit_id,
                                                              UnitState.coverage)
                                                    .where(UnitState.learner_key.in_(chunk),
                                                           UnitState.level_id == level.id)):
            states.setdefault(key, {})[unit_id] = cov
        atts = {a.learner_key: a for a in db.session.scalars(sa.select(LevelAttainment).where(
            LevelAttainment.learner_key.in_(chunk), LevelAttainment.level_id == level.id))}
        for key in chunk:
            rows = evidence.get(key, [])
            before = unit_coverage(rows, groups) if rows else 0.0
            after = unit_coverage([r for r in rows if r.rule_id != rule.id], groups_after)
            if after >= before - 1e-9:
                continue
            mine = dict(states.get(key, {}))
            _c, met_before, _m = _coverage(units, mine, level.coverage_threshold)
            mine[unit.id] = after
            _c, met_after, _m = _coverage(units, mine, level.coverage_threshold)
            att = atts.get(key)
            level_change = None
            if att is not None and met_before and not met_after and att.status in AWARDED + ("eligible",):
                certificates = db.session.scalar(sa.select(sa.func.count(Certificate.id)).where(
                    Certificate.attainment_id == att.id, Certificate.revoked_at.is_(None))) or 0
                level_change = {"level_id": level.id, "rung": level.rung, "status_before": att.status,
                                "status_after": "retracted" if att.status in AWARDED else "in_progress",
                                "certificates_revoked": certificates}
            user_id = next((r.user_id for r in rows if r.user_id), None)
            learners.append({"learner_key": key, "user_id": user_id, "unit_id": unit.id, "unit_code": unit.code,
                             "coverage_before": before, "coverage_after": after,
                             "covered_before": before >= 1.0 - 1e-9, "covered_after": after >= 1.0 - 1e-9,
                             "level": level_change})
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_([x["user_id"] for x in learners if x["user_id"]] or [-1])))}
    for x in learners:
        user = users.get(x["user_id"])
        name = user.display_name if user is not None else x["learner_key"]
        shown = viewer is None or (user is not None and may_view_learner(viewer, user.id))
        x["name"] = name if shown else mask_name(name)
        if not shown:
            x["learner_key"] = mask_name(x["learner_key"])
            x["user_id"] = None
    return {"rule_id": rule.id, "framework_id": rule.framework_id, "learner_count": len(learners),
            "unit_changes": len(learners), "level_changes": sum(1 for x in learners if x["level"]),
            "certificates_revoked": sum(x["level"]["certificates_revoked"] for x in learners if x["level"]),
            "learners": learners}


def mask_name(name: str) -> str:
    """A learner's name or key with all but its first character hidden (张三 -> 张*)."""
    name = name or ""
    return name[:1] + "*" * min(max(len(name) - 1, 1), 6)


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


def verb_choices(query: str = "", locale: str = "zh", limit: int = 300) -> list[tuple[str, str]]:
    """Verbs a rule may name: the shared vocabulary (ADL and cmi5 verbs of :mod:`lms.xapi.vocab`)
    and every verb the LRS has seen, as ``(iri, label)``; ``query`` keeps those whose IRI or
    display contains it (case-insensitive)."""
    import sqlalchemy as sa

    from lms.xapi import vocab
    from lms.xapi.models import Verb

    lang = "en-US" if locale.startswith("en") else "zh-CN"
    found: dict[str, str] = {}
    for iri, verb in vocab.VERBS.items():
        display = verb["display"]
        found[iri] = f"{display.get(lang) or display.get('en-US')} ({display.get('en-US')})"
    for iri, display in db.session.execute(sa.select(Verb.iri, Verb.display).order_by(Verb.pk).limit(2000)):
        if iri not in found:
            display = display if isinstance(display, dict) else {}
            name = display.get(lang) or display.get("en-US") or next(iter(display.values()), "") or iri.rsplit("/", 1)[-1]
            found[iri] = f"{name} — {iri}"
    q = (query or "").strip().lower()
    rows = [(iri, label) for iri, label in found.items() if not q or q in iri.lower() or q in label.lower()]
    return sorted(rows, key=lambda r: (not r[0].startswith(vocab.ADL), r[1].lower()))[:limit]
