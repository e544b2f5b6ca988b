"""Frameworks: one per edition of a national occupational skill standard, loaded as data."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import GUID, JSONType, UTCDateTime, db, utcnow

#: Kinds of item in the tree of a level: 职业功能 > 工作内容 > 技能要求 / 相关知识.
ITEM_KINDS = ("function", "work_content", "skill", "knowledge")
#: The kinds that are *units* (what evidence covers); ``unit`` is a leaf of a framework without
#: the vocational overlay.
UNIT_KINDS = ("skill", "knowledge", "unit")
#: Parts of a level's certification.
EXAM_PARTS = ("theory", "practical", "review")


class Framework(db.Model):
    """One edition of an occupation's skill standard (a CASE ``CFDocument``)."""

    __tablename__ = "competency_frameworks"
    __table_args__ = (sa.UniqueConstraint("occupation_id", "edition"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable CASE identifier of the document.
    identifier: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The occupation the standard is for. A CASE framework without the vocational overlay gets an
    #: occupation row of its own (code ``CASE-<8 hex>``, its title as name): profiles, assessors
    #: and certificates group by occupation.
    occupation_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_occupations.id"), index=True)
    #: Edition of the standard, e.g. ``2018``; a new edition is a new framework.
    edition: Mapped[str] = mapped_column(sa.String(40))
    #: Title in Chinese, e.g. 国家职业技能标准 电工 (2018年版).
    title: Mapped[str] = mapped_column(sa.String(300))
    #: Title in English.
    title_en: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Publisher (e.g. the ministry or a standards office).
    publisher: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Description (plain text).
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: ``active`` or ``retired`` (a retired edition keeps its attainments).
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    #: Extra CASE document fields kept for round trips.
    extensions: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: The imported ``CFDocument`` object as it came (every field, unknown ones included), so an
    #: export gives back the same document; empty for CSV imports.
    case_document: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: The rest of the imported package: ``CFDefinitions``, ``CFRubrics`` and any other top-level
    #: member, kept verbatim for export.
    case_package: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Whether the framework carries the vocational overlay (national ladder levels, 职业功能 >
    #: 工作内容 > 技能要求/相关知识, weights); without it levels show their own names.
    vocational: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: Whether the CASE REST endpoints (``/ims/case/...``) serve it to anyone.
    published: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The organisation that owns it and may edit it; null = the system (national standards,
    #: edited only by system admins).
    owner_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"),
                                                     index=True)
    #: Who imported it (null for the demo seeder or the CLI).
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When it was imported.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    occupation = relationship("Occupation")
    owner_org = relationship("Organisation")
    levels = relationship("FrameworkLevel", back_populates="framework", order_by="FrameworkLevel.rung",
                          cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Framework {self.id} {self.edition}>"


class FrameworkLevel(db.Model):
    """A level covered by a framework, with its attainment rule and application prerequisites."""

    __tablename__ = "competency_framework_levels"
    __table_args__ = (sa.UniqueConstraint("framework_id", "rung"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable CASE identifier of the level item.
    identifier: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The framework.
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_frameworks.id", ondelete="CASCADE"),
                                              index=True)
    #: The level's own name (a framework without the vocational overlay shows it, never the ladder).
    name: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    #: The rung of the ladder (competency_skill_levels.rung).
    rung: Mapped[int] = mapped_column(sa.ForeignKey("competency_skill_levels.rung"))
    #: Weighted unit coverage needed (0..1) besides the required units.
    coverage_threshold: Mapped[float] = mapped_column(default=0.8)
    #: Pass mark of the theory exam (out of 100).
    theory_pass_mark: Mapped[float] = mapped_column(default=60.0)
    #: Pass mark of the practical skills exam (out of 100).
    practical_pass_mark: Mapped[float] = mapped_column(default=60.0)
    #: How long a passed exam part stays valid, in days.
    exam_validity_days: Mapped[int] = mapped_column(default=365 * 3)
    #: Whether exams are needed at all (rungs certified by exam).
    exams_required: Mapped[bool] = mapped_column(default=True)
    #: Whether a comprehensive review (综合评审) is also needed (技师 and above).
    review_required: Mapped[bool] = mapped_column(default=False)
    #: Application prerequisites: a list of alternative condition sets, each a list of
    #: conditions that must all hold, e.g. ``[[{"kind": "level_held", "rung": 1},
    #: {"kind": "years_in_occupation", "years": 4}], [{"kind": "school_qualification", ...}]]``.
    prerequisites: Mapped[list] = mapped_column(JSONType, default=list)

    framework = relationship("Framework", back_populates="levels")
    skill_level = relationship("SkillLevel")

    def label(self, locale: str = "zh") -> str:
        """The level's name to show: the ladder rung (with its certificate grade) for a vocational
        framework, the level's own name otherwise."""
        from competency.operations.reference import rung_label

        if not self.framework.vocational:
            return self.name or self.framework.title
        return rung_label(self.rung, locale)

    @property
    def short_label(self) -> str:
        """The ladder name (no grade) or the level's own name."""
        if not self.framework.vocational:
            return self.name or self.framework.title
        return self.skill_level.name_zh if self.skill_level is not None else str(self.rung)

    def __repr__(self) -> str:
        return f"<FrameworkLevel {self.framework_id}/{self.rung}>"


class FrameworkItem(db.Model):
    """A node of a level's tree (a CASE ``CFItem``): function, work content, skill or knowledge.

    Skills and knowledge items are the *units* that evidence covers. Functions carry the weights
    of the standard's weight tables (比重表) for that level.
    """

    __tablename__ = "competency_framework_items"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable CASE identifier (kept across re-imports of the same file).
    identifier: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The framework.
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_frameworks.id", ondelete="CASCADE"),
                                              index=True)
    #: The level the item belongs to.
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_levels.id", ondelete="CASCADE"),
                                          index=True)
    #: The parent item (null for functions).
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_framework_items.id",
                                                                ondelete="CASCADE"), index=True)
    #: ``function``, ``work_content``, ``skill`` or ``knowledge``; without the vocational overlay
    #: ``unit`` (a leaf: evidence covers it) or ``group`` (an item with children).
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Human-readable code (CASE ``humanCodingScheme``), e.g. ``2.1.3``.
    code: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Statement in Chinese.
    title: Mapped[str] = mapped_column(sa.Text)
    #: Statement in English.
    title_en: Mapped[str] = mapped_column(sa.Text, default="")
    #: Order among siblings.
    position: Mapped[int] = mapped_column(default=0)
    #: Units: weight in the level's coverage. Functions: unused (see theory/skill weights).
    weight: Mapped[float] = mapped_column(default=1.0)
    #: Units: whether the level needs this unit covered whatever the weighted coverage.
    required: Mapped[bool] = mapped_column(default=False)
    #: Functions: weight (percent) in the theory-knowledge table for this level.
    theory_weight: Mapped[float | None] = mapped_column()
    #: Functions: weight (percent) in the skills table for this level.
    skill_weight: Mapped[float | None] = mapped_column()

    #: The imported ``CFItem`` object as it came (every field), for the export; empty for CSV.
    case_item: Mapped[dict] = mapped_column(JSONType, default=dict)

    level = relationship("FrameworkLevel")
    parent = relationship("FrameworkItem", remote_side=[id])

    @property
    def is_unit(self) -> bool:
        return self.kind in UNIT_KINDS

    def __repr__(self) -> str:
        return f"<FrameworkItem {self.kind} {self.code}>"


class LevelExamActivity(db.Model):
    """An activity whose ``passed``/``failed`` statements are a level's exam result."""

    __tablename__ = "competency_level_exam_activities"
    __table_args__ = (sa.UniqueConstraint("level_id", "part", "activity_iri"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The framework level examined.
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_levels.id", ondelete="CASCADE"),
                                          index=True)
    #: ``theory``, ``practical`` or ``review``.
    part: Mapped[str] = mapped_column(sa.String(20))
    #: The activity IRI of the exam (looked up by the engine).
    activity_iri: Mapped[str] = mapped_column(sa.String(1000), index=True)


class FrameworkAssociation(db.Model):
    """A CASE ``CFAssociation`` of a framework, kept whole: every type (``isChildOf``,
    ``exactMatchOf``, ``precedes``, ...), its ``sequenceNumber`` and nodes outside the framework.

    The item tree (:attr:`FrameworkItem.parent_id`) is derived from the first ``isChildOf`` of
    each item; this table is what the export and the CASE endpoints serve.
    """

    __tablename__ = "competency_framework_associations"
    __table_args__ = (sa.UniqueConstraint("identifier"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The association's CASE identifier (a UUID as text, as it came).
    identifier: Mapped[str] = mapped_column(sa.String(64))
    #: The framework.
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_frameworks.id", ondelete="CASCADE"),
                                              index=True)
    #: CASE ``associationType``.
    association_type: Mapped[str] = mapped_column(sa.String(40))
    #: Identifier of the origin node.
    origin_identifier: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: Identifier of the destination node (may be outside the framework).
    destination_identifier: Mapped[str] = mapped_column(sa.String(64))
    #: CASE ``sequenceNumber`` (order among siblings), if given.
    sequence_number: Mapped[int | None] = mapped_column()
    #: Position in the imported package (the export keeps the order).
    position: Mapped[int] = mapped_column(default=0)
    #: The ``CFAssociation`` object as it came.
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
