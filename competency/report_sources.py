"""What the competency plugin offers to other plugins' reports (supervision), through the core's
report-source registry (:data:`lms.core.extension_points.REPORT_SOURCES`): occupations, level
certifications and level-exam results per learner. Read-only; plain values."""
from __future__ import annotations

import sqlalchemy as sa

from competency.models.attainment import ExamResult
from competency.models.evidence import LevelAttainment
from competency.models.frameworks import Framework, FrameworkLevel
from competency.models.reference import Occupation
from lms.core.db import db
from lms.core.extension_points import add_report_source

#: Attainment states that count as the level being held (awarded by an assessor, or certified).
HELD = ("awarded", "certified")


def _chunks(ids, size: int = 500):
    ids = list(dict.fromkeys(int(i) for i in ids))
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def occupations() -> list[dict]:
    return [{"code": o.code, "name_zh": o.name_zh, "name_en": o.name_en}
            for o in db.session.scalars(sa.select(Occupation).order_by(Occupation.code))]


def certifications(user_ids, occupation_code: str, rung: int) -> dict[int, object]:
    out: dict[int, object] = {}
    for chunk in _chunks(user_ids):
        q = (sa.select(LevelAttainment.user_id, sa.func.min(LevelAttainment.awarded_at))
             .join(Framework, Framework.id == LevelAttainment.framework_id)
             .join(Occupation, Occupation.id == Framework.occupation_id)
             .where(Occupation.code == occupation_code, LevelAttainment.rung >= int(rung),
                    LevelAttainment.status.in_(HELD), LevelAttainment.awarded_at.is_not(None),
                    LevelAttainment.user_id.in_(chunk))
             .group_by(LevelAttainment.user_id))
        for uid, at in db.session.execute(q):
            out[uid] = at
    return out


def exam_results(user_ids, occupation_code: str, rung: int) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for chunk in _chunks(user_ids):
        q = (sa.select(ExamResult.user_id, ExamResult.part, ExamResult.score, ExamResult.passed, ExamResult.taken_at)
             .join(FrameworkLevel, FrameworkLevel.id == ExamResult.level_id)
             .join(Framework, Framework.id == FrameworkLevel.framework_id)
             .join(Occupation, Occupation.id == Framework.occupation_id)
             .where(Occupation.code == occupation_code, FrameworkLevel.rung == int(rung),
                    ExamResult.retracted_at.is_(None), ExamResult.user_id.in_(chunk))
             .order_by(ExamResult.taken_at))
        for uid, part, score, passed, taken_at in db.session.execute(q):
            out.setdefault(uid, []).append({"part": part, "score": score, "passed": bool(passed), "taken_at": taken_at})
    return out


def register(app) -> None:
    """Offer the sources above (called from the plugin's ``init_app``)."""
    add_report_source(app, "competency.occupations", occupations)
    add_report_source(app, "competency.certifications", certifications)
    add_report_source(app, "competency.exam_results", exam_results)
