"""A learner's competency profile per occupation (used by the page, the API and the CLI)."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db


def describe_condition(cond: dict) -> str:
    """A prerequisite condition in words (in the request's language)."""
    from flask_babel import gettext as _

    from competency.operations.reference import rung_label

    kind = cond.get("kind")
    if kind == "level_held":
        return _("holds %(level)s or higher", level=rung_label(int(cond.get("rung", 0))))
    if kind == "years_since_level":
        return _("%(years)s years in the occupation since obtaining it", years=cond.get("years"))
    if kind == "years_in_occupation":
        return _("%(years)s years working in the occupation", years=cond.get("years"))
    if kind == "school_qualification":
        return _("a relevant school qualification")
    if kind == "apprenticeship_completed":
        return _("an apprenticeship completed")
    return str(kind)


def source_name(evidence) -> str:
    """The name of the source an evidence row came from, as learners read it: the label the LRS
    recorded for the source that stored the statement ("This platform" for the platform itself);
    for evidence written before provenance was kept, what the statement said about itself."""
    from flask_babel import gettext as _

    if evidence.source_label is None:
        return evidence.source
    return evidence.source_label or _("This platform")


def _iso(value):
    return value.isoformat() if value is not None else None


def occupations_of(learner_key: str) -> list:
    """Occupations in which the learner has evidence or an attainment, then all others with frameworks."""
    from competency.models import Framework, LevelAttainment, Occupation, UnitState, FrameworkLevel

    mine = set(db.session.scalars(sa.select(Framework.occupation_id).join(LevelAttainment, LevelAttainment.framework_id == Framework.id)
                                  .where(LevelAttainment.learner_key == learner_key)))
    mine |= set(db.session.scalars(sa.select(Framework.occupation_id)
                                   .join(FrameworkLevel, FrameworkLevel.framework_id == Framework.id)
                                   .join(UnitState, UnitState.level_id == FrameworkLevel.id)
                                   .where(UnitState.learner_key == learner_key)))
    occs = db.session.scalars(sa.select(Occupation).where(Occupation.id.in_(
        sa.select(Framework.occupation_id))).order_by(Occupation.code)).all()
    return sorted(occs, key=lambda o: (o.id not in mine, o.code))


def choose_framework(learner_key: str, occupation_id: int, framework_id: int | None = None):
    """The framework shown: the one asked for, else the newest edition the learner has state in,
    else the newest active edition."""
    from competency.models import Framework, LevelAttainment, UnitState, FrameworkLevel

    fws = db.session.scalars(sa.select(Framework).where(Framework.occupation_id == occupation_id)
                             .order_by(Framework.created_at.desc(), Framework.id.desc())).all()
    if framework_id:
        return next((f for f in fws if f.id == framework_id), None)
    for fw in fws:
        has = db.session.scalar(sa.select(UnitState.id).join(FrameworkLevel, FrameworkLevel.id == UnitState.level_id)
                                .where(UnitState.learner_key == learner_key, FrameworkLevel.framework_id == fw.id).limit(1)) \
            or db.session.scalar(sa.select(LevelAttainment.id).where(LevelAttainment.learner_key == learner_key,
                                                                     LevelAttainment.framework_id == fw.id).limit(1))
        if has:
            return fw
    return next((f for f in fws if f.status == "active"), fws[0] if fws else None)


def suggestions_for(unit_id: int, limit: int = 3) -> list[dict]:
    """Activities that would cover a unit: from its rules and the LRS's activity definitions."""
    from competency.models import EvidenceRule
    from competency.operations.engine import _name_of

    try:
        from lms.xapi.store import get_activity
    except ImportError:  # pragma: no cover
        get_activity = lambda iri: None  # noqa: E731
    out = []
    for rule in db.session.scalars(sa.select(EvidenceRule).where(EvidenceRule.unit_id == unit_id,
                                                                 EvidenceRule.active.is_(True))
                                   .order_by(EvidenceRule.weight.desc(), EvidenceRule.id).limit(limit)):
        act = get_activity(rule.match_iri) if rule.match_kind in ("activity", "parent") else None
        name = _name_of((act or {}).get("definition")) or rule.name or rule.match_iri
        out.append({"iri": rule.match_iri, "name": name, "match": rule.match_kind,
                    "verbs": [v.rsplit("/", 1)[-1] for v in rule.verbs], "known_to_lrs": act is not None,
                    "url": rule.match_iri if rule.match_iri.startswith(("http://", "https://")) else None})
    return out


def build_profile(learner_key: str, occupation, framework_id: int | None = None, *, locale: str = "zh",
                  with_suggestions: bool = True) -> dict:
    """The learner's state in one occupation: level held, per level coverage by function with
    units and their evidence, exams, prerequisites and suggested activities."""
    from competency.models import Evidence, FrameworkItem, LevelAttainment, UnitState
    from competency.operations.attainment import coverage_of, exam_status, held_rungs, prerequisite_report
    from competency.operations.reference import rung_label

    fw = choose_framework(learner_key, occupation.id, framework_id)
    held = held_rungs(learner_key, occupation.id)
    held_rung = max(held) if held else None
    out = {"occupation": {"id": occupation.id, "code": occupation.code, "name": occupation.name(locale)},
           "framework": None, "level_held": ({"rung": held_rung, "name": rung_label(held_rung, locale)}
                                              if held_rung is not None else None),
           "next_level": None, "levels": []}
    if fw is None:
        return out
    out["vocational"] = fw.vocational
    if not fw.vocational and held_rung is not None:
        # A framework without the overlay names its levels itself, never by the ladder.
        out["level_held"]["name"] = next((lv.label(locale) for lv in fw.levels if lv.rung == held_rung),
                                         out["level_held"]["name"])
    out["framework"] = {"id": fw.id, "title": fw.title if not locale.startswith("en") else (fw.title_en or fw.title),
                        "edition": fw.edition, "identifier": str(fw.identifier)}
    states = {s.unit_id: s for s in db.session.scalars(sa.select(UnitState).where(UnitState.learner_key == learner_key))}
    evidence: dict[int, list] = {}
    for ev in db.session.scalars(sa.select(Evidence).where(Evidence.learner_key == learner_key,
                                                           Evidence.retracted_at.is_(None))
                                 .order_by(Evidence.occurred_at.desc(), Evidence.id.desc())):
        evidence.setdefault(ev.unit_id, []).append(ev)
    names: dict = {}

    def activity_name(ev) -> str:
        if ev.activity_name:
            return ev.activity_name
        if ev.activity_iri not in names:
            from competency.operations.engine import _name_of

            try:
                from lms.xapi.store import get_activity
            except ImportError:  # pragma: no cover
                names[ev.activity_iri] = ""
            else:
                names[ev.activity_iri] = _name_of((get_activity(ev.activity_iri) or {}).get("definition"))
        return names[ev.activity_iri] or ev.activity_iri

    items = db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id)
                               .order_by(FrameworkItem.position, FrameworkItem.id)).all()
    children: dict = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    atts = {a.level_id: a for a in db.session.scalars(sa.select(LevelAttainment).where(
        LevelAttainment.learner_key == learner_key, LevelAttainment.framework_id == fw.id))}
    en = locale.startswith("en")
    for level in fw.levels:
        att = atts.get(level.id)
        coverage, cov_met, missing_required = coverage_of(learner_key, level)
        pre_met, pre_report = prerequisite_report(learner_key, level)
        exams = exam_status(learner_key, level, att.awarded_at if att and att.awarded_at else None)
        functions = []
        if fw.vocational:
            tops = [i for i in items if i.kind == "function" and i.level_id == level.id]
        else:  # the top items of the tree stand for the functions
            tops = [i for i in items if i.parent_id is None and i.level_id == level.id]
        for fn in tops:
            if fw.vocational:
                units = [u for wc in children.get(fn.id, []) for u in children.get(wc.id, []) if u.is_unit]
            else:
                units, todo = [], [fn]
                while todo:
                    node = todo.pop(0)
                    units += [node] if node.is_unit else []
                    todo += children.get(node.id, [])
            parents = {i.id: i for i in items}
            unit_rows = []
            for u in units:
                st = states.get(u.id)
                cov = st.coverage if st else 0.0
                unit_rows.append({
                    "id": u.id, "code": u.code, "title": (u.title_en or u.title) if en else u.title, "kind": u.kind,
                    "weight": u.weight, "required": u.required, "coverage": cov, "covered": bool(st and st.covered),
                    "work_content": next(((wc.title_en or wc.title if en else wc.title)
                                          for wc in [parents.get(u.parent_id)] if wc is not None), ""),
                    "evidence": [{"id": e.id, "statement_id": e.statement_id, "activity_iri": e.activity_iri,
                                  "activity_name": activity_name(e), "verb": e.verb_iri.rsplit("/", 1)[-1],
                                  "source": source_name(e), "source_label": e.source_label,
                                  "reported_source": e.source, "scaled": e.scaled, "occurred_at": _iso(e.occurred_at)}
                                 for e in evidence.get(u.id, [])[:10]],
                    "suggestions": (suggestions_for(u.id) if with_suggestions and not (st and st.covered) else []),
                })
            total_w = sum(u["weight"] for u in unit_rows) or 1.0
            functions.append({"id": fn.id, "code": fn.code, "title": (fn.title_en or fn.title) if en else fn.title,
                              "theory_weight": fn.theory_weight, "skill_weight": fn.skill_weight,
                              "coverage": round(sum(u["weight"] * u["coverage"] for u in unit_rows) / total_w, 4),
                              "units_total": len(unit_rows), "units_covered": sum(u["covered"] for u in unit_rows),
                              "units": unit_rows})
        out["levels"].append({
            "level_id": level.id, "rung": level.rung, "name": level.label(locale),
            "status": att.status if att else "in_progress", "attainment_id": att.id if att else None,
            "coverage": coverage, "threshold": level.coverage_threshold, "coverage_met": cov_met,
            "missing_required": missing_required,
            "prerequisites": {"met": pre_met, "alternatives": [[{**c, "label": describe_condition(c)} for c in alt]
                                                                for alt in pre_report]},
            "exams": {"required": level.exams_required, "review_required": level.review_required,
                      "theory_pass_mark": level.theory_pass_mark, "practical_pass_mark": level.practical_pass_mark,
                      "parts": {p: {**v, "taken_at": _iso(v["taken_at"]), "valid_until": _iso(v["valid_until"])}
                                for p, v in exams.items()}},
            "eligible_at": _iso(att.eligible_at) if att else None, "awarded_at": _iso(att.awarded_at) if att else None,
            "certified_at": _iso(att.certified_at) if att else None,
            "functions": functions,
        })
    above = [lv for lv in out["levels"] if held_rung is None or lv["rung"] > held_rung]
    if above:
        out["next_level"] = {"rung": above[0]["rung"], "name": above[0]["name"], "coverage": above[0]["coverage"],
                             "status": above[0]["status"]}
    return out


def learner_profile(user, *, locale: str = "zh", occupation_code: str | None = None) -> dict:
    """Every occupation's profile for a user (or only ``occupation_code``)."""
    from competency.operations.engine import user_key

    key = user_key(user)
    occs = occupations_of(key)
    if occupation_code:
        occs = [o for o in occs if o.code == occupation_code]
    return {"learner": {"id": user.id, "name": user.display_name, "key": key},
            "occupations": [build_profile(key, o, locale=locale) for o in occs]}
