"""Reference data: the skill-level ladder (kept in code, synced into the table) and occupations."""
from __future__ import annotations

import re

import sqlalchemy as sa

from lms.core.db import db

#: The "new eight-level" ladder (2022): rung, code, zh, en, grade zh, grade en, by exam, review.
LADDER = (
    (0, "apprentice", "学徒工", "Apprentice", "", "", False, False),
    (1, "junior", "初级工", "Junior worker", "五级", "Level 5", True, False),
    (2, "intermediate", "中级工", "Intermediate worker", "四级", "Level 4", True, False),
    (3, "senior", "高级工", "Senior worker", "三级", "Level 3", True, False),
    (4, "technician", "技师", "Technician", "二级", "Level 2", True, True),
    (5, "senior_technician", "高级技师", "Senior technician", "一级", "Level 1", True, True),
    (6, "principal_technician", "特级技师", "Principal technician", "", "", False, True),
    (7, "chief_technician", "首席技师", "Chief technician", "", "", False, True),
)

OCCUPATION_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")


def ensure_ladder() -> None:
    """Insert the ladder's rungs that are missing (idempotent; flush only)."""
    from competency.models import SkillLevel

    have = set(db.session.scalars(sa.select(SkillLevel.rung)))
    for rung, code, zh, en, gzh, gen, exam, review in LADDER:
        if rung not in have:
            db.session.add(SkillLevel(rung=rung, code=code, name_zh=zh, name_en=en, grade_zh=gzh, grade_en=gen,
                                      certified_by_exam=exam, review_required=review))
    db.session.flush()


def rung_label(rung: int, locale: str = "zh") -> str:
    """A rung's display name with its grade, e.g. ``初级工（五级）`` / ``Junior worker (Level 5)``."""
    for r, _code, zh, en, gzh, gen, _e, _v in LADDER:
        if r == rung:
            if locale.startswith("en"):
                return f"{en} ({gen})" if gen else en
            return f"{zh}（{gzh}）" if gzh else zh
    return str(rung)


def get_or_create_occupation(code: str, name_zh: str, name_en: str = ""):
    """The occupation with national classification ``code``, created if new (names updated if empty)."""
    from competency.models import Occupation

    if not OCCUPATION_CODE.match(code or ""):
        from competency.operations import CompetencyError

        raise CompetencyError(f"occupation code {code!r} is not of the form 6-31-01-03")
    occ = db.session.scalar(sa.select(Occupation).where(Occupation.code == code))
    if occ is None:
        occ = Occupation(code=code, name_zh=name_zh, name_en=name_en)
        db.session.add(occ)
        db.session.flush()
    elif name_en and not occ.name_en:
        occ.name_en = name_en
    return occ
