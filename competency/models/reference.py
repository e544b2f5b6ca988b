"""Reference data: the national skill-level ladder and occupations."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UTCDateTime, db, utcnow


class SkillLevel(db.Model):
    """A rung of the "new eight-level" ladder (2022): 0 学徒工 ... 7 首席技师."""

    __tablename__ = "competency_skill_levels"

    #: Ordinal of the rung, 0 (apprentice) to 7 (chief technician); also the primary key.
    rung: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Stable code, e.g. ``junior``, ``technician``.
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    #: Chinese name, e.g. 初级工.
    name_zh: Mapped[str] = mapped_column(sa.String(30))
    #: English name, e.g. "Junior worker".
    name_en: Mapped[str] = mapped_column(sa.String(60))
    #: Certificate grade in Chinese (五级 ... 一级), empty when the rung has none.
    grade_zh: Mapped[str] = mapped_column(sa.String(10), default="")
    #: Certificate grade in English ("Level 5" ...), empty when the rung has none.
    grade_en: Mapped[str] = mapped_column(sa.String(20), default="")
    #: Whether the rung is certified by theory and practical exams.
    certified_by_exam: Mapped[bool] = mapped_column(default=False)
    #: Whether certification also needs a comprehensive review (技师 and above).
    review_required: Mapped[bool] = mapped_column(default=False)

    def name(self, locale: str = "zh") -> str:
        return self.name_en if locale.startswith("en") else self.name_zh

    def __repr__(self) -> str:
        return f"<SkillLevel {self.rung} {self.code}>"


class Occupation(db.Model):
    """An occupation of the national classification (国家职业分类大典)."""

    __tablename__ = "competency_occupations"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: National classification code, e.g. ``6-31-01-03``.
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    #: Chinese name, e.g. 电工.
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    #: English name.
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    #: When the row was created.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str = "zh") -> str:
        return (self.name_en or self.name_zh) if locale.startswith("en") else self.name_zh

    def __repr__(self) -> str:
        return f"<Occupation {self.code} {self.name_zh}>"
