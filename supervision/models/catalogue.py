"""Public catalogues (目录清单) as versioned data, and institutions' applications to list a course."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: The catalogues: subsidised training, training institutions, assessment bodies, occupations.
CATALOGUES = ("training", "institution", "assessment_body", "occupation")


class CatalogueVersion(db.Model):
    """One version of one catalogue entry. Entries are never edited: every change (listing, an
    adjustment, a removal) is a new version with a reason code, effective dates and its approver.
    The entry's current state is its latest version in effect."""

    __tablename__ = "supervision_catalogue_versions"
    __table_args__ = (sa.UniqueConstraint("catalogue", "entry_key", "version"),
                      sa.Index("ix_supervision_catalogue_current", "catalogue", "entry_key", "version"))

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of :data:`CATALOGUES`.
    catalogue: Mapped[str] = mapped_column(sa.String(20))
    #: The entry's public number (e.g. ``SUB-2026-0001``, an occupation code); stable across versions.
    entry_key: Mapped[str] = mapped_column(sa.String(50))
    #: 1, 2, ... per entry.
    version: Mapped[int] = mapped_column()
    #: ``listed`` or ``removed``.
    status: Mapped[str] = mapped_column(sa.String(10), default="listed")
    #: Name shown in the catalogue (course title, institution name, occupation name).
    title: Mapped[str] = mapped_column(sa.String(200))
    #: Occupation code (national classification), for training and occupation entries.
    occupation_code: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    #: Skill-ladder rung (DESIGN.md section 5) for training entries.
    level: Mapped[int | None] = mapped_column()
    #: The institution or assessment body (organisation) the entry is about, or that offers the training.
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        index=True)
    #: Training: the course (its report-source ref) that was approved.
    course_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    #: Training: total study hours (学时) of the programme.
    total_hours: Mapped[float | None] = mapped_column(sa.Float())
    #: Training: standard subsidy per person (yuan).
    standard_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    #: Training: the largest share of hours that may be studied online (0..1).
    online_share: Mapped[float | None] = mapped_column(sa.Float())
    #: Other attributes: institutions' qualifications, occupations and levels, capacity; assessment
    #: bodies' occupations and levels.
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Why this version exists: ``new``, ``adjust``, ``renew``, ``remove_quality``, ``remove_fraud``,
    #: ``remove_request``, ``correct``.
    reason_code: Mapped[str] = mapped_column(sa.String(20))
    #: The reason in words.
    reason_note: Mapped[str] = mapped_column(sa.Text(), default="")
    #: A removed entry's appeal note (how and until when the holder may appeal).
    appeal_note: Mapped[str] = mapped_column(sa.Text(), default="")
    #: In effect from (inclusive).
    effective_from: Mapped[dt.date] = mapped_column(sa.Date())
    #: In effect until (inclusive); ``None``: open-ended.
    effective_to: Mapped[dt.date | None] = mapped_column(sa.Date())
    #: The authority officer who approved this version.
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When recorded.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    approved_by = relationship("User", foreign_keys=[approved_by_id])
    organisation = relationship("Organisation")


class CourseApplication(db.Model):
    """An institution's application to list one of its courses in the subsidised-training
    catalogue. Only an authority officer's approval lists it (teachers cannot)."""

    __tablename__ = "supervision_course_applications"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The applying institution.
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The course (report-source ref).
    course_ref: Mapped[str] = mapped_column(sa.String(64))
    #: The course's title when applied.
    course_title: Mapped[str] = mapped_column(sa.String(200))
    #: Occupation code.
    occupation_code: Mapped[str] = mapped_column(sa.String(20))
    #: Rung of the level trained for.
    level: Mapped[int] = mapped_column()
    #: Total study hours.
    total_hours: Mapped[float] = mapped_column(sa.Float())
    #: Standard subsidy per person asked for (yuan).
    standard_amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    #: Online share asked for (0..1).
    online_share: Mapped[float] = mapped_column(sa.Float(), default=1.0)
    #: ``pending``, ``approved`` or ``returned``.
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    #: The officer's reason (required when returned).
    decision_reason: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Who decided.
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When decided.
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: ``organisation|course|occupation|level`` while pending or approved (unique: one open
    #: application per course and level, even under parallel submissions); ``None`` once returned.
    open_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    #: The catalogue entry created by the approval.
    entry_key: Mapped[str] = mapped_column(sa.String(50), default="")
    #: Who applied.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When applied.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation = relationship("Organisation")
