"""The competency plugin's sections of a worker's record (the core's "record sections"
registry): skill levels with their certificates and covered units, certification exams, and
apprenticeship milestones."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import RecordEntry, RecordSection

PARTS = {"theory": _l("Theory exam"), "practical": _l("Practical exam"), "review": _l("Comprehensive review")}
LEVEL_STATUS = {"awarded": _l("Level awarded"), "certified": _l("Certificate issued")}


def _source(labels) -> tuple[str, str]:
    labels = sorted({label for label in labels if label})
    return ("external", "、".join(labels)) if labels else ("platform", "")


def levels_section(user, viewer, filters):
    """Awarded or certified levels, each with its certificate (signed credential) and units."""
    from competency.models import Certificate, Evidence, FrameworkItem, LevelAttainment, UnitState
    from competency.operations.attainment import level_iri
    from competency.operations.certificates import current_credential, verify_url
    from competency.operations.frameworks import framework_uri

    atts = db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.user_id == user.id,
                                                               LevelAttainment.status.in_(("awarded", "certified")))
                              .order_by(LevelAttainment.awarded_at.desc())).all()
    entries = []
    for att in atts:
        level, fw = att.level, att.level.framework
        occupation = fw.occupation
        day = att.awarded_at.date() if att.awarded_at else None
        if not filters.keeps(day, occupation.code):
            continue
        cert = db.session.scalar(sa.select(Certificate).where(Certificate.attainment_id == att.id)
                                 .order_by(Certificate.issued_at.desc()).limit(1))
        key = level_iri(level)
        labels = db.session.scalars(sa.select(Evidence.source_label).where(
            Evidence.user_id == user.id, Evidence.unit_id.in_(
                sa.select(FrameworkItem.id).where(FrameworkItem.level_id == level.id)))).all()
        source, source_label = _source(labels)
        sl = level.skill_level
        details = [(_("Occupation"), f"{occupation.name_zh}（{occupation.code}）"),
                   (_("Status"), str(LEVEL_STATUS.get(att.status, att.status))),
                   (_("Standard"), fw.title)]
        credential, verification = None, "recorded"
        if cert is not None:
            details.append((_("Certificate code"), cert.verification_code))
            details.append((_("Verify at"), verify_url(cert.verification_code)))
            if cert.revoked_at:
                verification = "revoked"
            else:
                credential, verification = current_credential(cert), "signed"
        name = f"{occupation.name_zh} {sl.name_zh}" + (f"（{sl.grade_zh}）" if sl.grade_zh else "")
        entries.append(RecordEntry(
            key=key, kind="level", title=name, day=day, details=tuple(details), source=source,
            source_label=source_label, verification=verification, occupation_code=occupation.code,
            credential=credential,
            achievement={"id": key, "type": ["Achievement"], "achievementType": "Certificate", "name": name,
                         "description": f"{fw.title} — {sl.name_en}", "criteria": {"narrative": fw.title}},
            result={"status": att.status}))
        states = db.session.execute(
            sa.select(UnitState, FrameworkItem).join(FrameworkItem, FrameworkItem.id == UnitState.unit_id)
            .where(UnitState.user_id == user.id, UnitState.level_id == level.id, UnitState.covered.is_(True))
            .order_by(FrameworkItem.position, FrameworkItem.id)).all()
        for state, unit in states:
            activities = db.session.scalars(sa.select(Evidence.activity_iri).where(
                Evidence.user_id == user.id, Evidence.unit_id == unit.id).distinct()).all()
            unit_key = framework_uri(fw, "items", unit.identifier)
            entries.append(RecordEntry(
                key=unit_key, kind="unit", title=f"{unit.code} {unit.title}",
                day=state.covered_at.date() if state.covered_at else day,
                details=((_("Skill level"), name),), source=source, source_label=source_label,
                verification=verification if verification != "signed" else "recorded",
                occupation_code=occupation.code,
                achievement={"id": unit_key, "type": ["Achievement"], "achievementType": "Competency",
                             "name": unit.title[:200], "humanCode": unit.code,
                             "criteria": {"narrative": fw.title}},
                parents=(key,), result={"evidence": list(activities)}))
    if not entries:
        return None
    return RecordSection(key="levels", title=_("Skill levels and certificates"), entries=tuple(entries), order=20)


def exams_section(user, viewer, filters):
    from competency.models import ExamResult
    from competency.operations.attainment import level_iri
    from lms.records.facts import sources_of

    results = db.session.scalars(sa.select(ExamResult).where(ExamResult.user_id == user.id)
                                 .order_by(ExamResult.taken_at.desc())).all()
    entries = []
    for res in results:
        from competency.models import FrameworkLevel

        level = db.session.get(FrameworkLevel, res.level_id)
        occupation = level.framework.occupation
        day = res.taken_at.date() if res.taken_at else None
        if not filters.keeps(day, occupation.code):
            continue
        sl = level.skill_level
        details = [(_("Level"), f"{occupation.name_zh} {sl.name_zh}"),
                   (_("Score"), "—" if res.score is None else f"{res.score:g}"),
                   (_("Result"), _("Passed") if res.passed else _("Not passed"))]
        external = res.source == "xapi"
        label = ((sources_of([res.statement_id]).get(res.statement_id, ("", ""))[1] if res.statement_id else "")
                 or "xAPI") if external else ""
        entries.append(RecordEntry(
            key=f"{level_iri(level)}/exams/{res.part}/{day.isoformat() if day else ''}", kind="exam",
            title=f"{PARTS.get(res.part, res.part)} · {occupation.name_zh} {sl.name_zh}", day=day,
            details=tuple(details), source="external" if external else "platform",
            source_label=label, verification="reported" if external else "recorded",
            occupation_code=occupation.code, parents=(level_iri(level),),
            result={"score": res.score, "passed": res.passed, "part": res.part}))
    if not entries:
        return None
    return RecordSection(key="exams", title=_("Certification exams"), entries=tuple(entries), order=30)


def apprenticeship_section(user, viewer, filters):
    from competency.apprenticeship.models import Apprentice, ApprenticeMilestone

    apprentices = db.session.scalars(sa.select(Apprentice).where(Apprentice.user_id == user.id)).all()
    entries = []
    for ap in apprentices:
        programme = ap.cohort.programme
        if not filters.keeps(None, programme.occupation_code or ""):
            continue
        milestones = db.session.scalars(sa.select(ApprenticeMilestone).where(
            ApprenticeMilestone.apprentice_id == ap.id, ApprenticeMilestone.retired.is_(False))
            .order_by(ApprenticeMilestone.due_date)).all()
        for m in milestones:
            day = m.done_on or m.due_date
            if not filters.keeps(day, programme.occupation_code or ""):
                continue
            details = ((_("Programme"), programme.title), (_("Cohort"), ap.cohort.name),
                       (_("Due"), m.due_date.isoformat()),
                       (_("Done on"), m.done_on.isoformat() if m.done_on else "—"))
            entries.append(RecordEntry(
                key=f"apprenticeship:{ap.cohort.name}:{m.code}:{ap.joined_on.isoformat()}", kind="milestone",
                title=f"{programme.title} · {m.definition.title if m.definition else m.code}", day=day,
                details=details, verification="recorded" if m.status == "done" else "reported",
                occupation_code=programme.occupation_code or "",
                result={"status": m.status}))
    if not entries:
        return None
    return RecordSection(key="apprenticeship", title=_("Apprenticeship milestones"), entries=tuple(entries), order=40)


#: Registered by the plugin, in this order.
SECTIONS = (levels_section, exams_section, apprenticeship_section)
