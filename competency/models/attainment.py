"""Exams, assessors, learners' qualifications (for prerequisites) and certificates."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import GUID, JSONType, UTCDateTime, db, utcnow

#: Kinds of learner qualification that prerequisites may ask for.
QUALIFICATION_KINDS = ("occupation_start", "school_qualification", "apprenticeship_completed", "level_held")


class ExamResult(db.Model):
    """A result of one part of a level's certification (theory, practical, review), out of 100."""

    __tablename__ = "competency_exam_results"
    __table_args__ = (sa.Index("ix_competency_exam_results_learner_level", "learner_key", "level_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner key.
    learner_key: Mapped[str] = mapped_column(sa.String(300))
    #: The account, when known.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The framework level examined.
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_levels.id", ondelete="CASCADE"))
    #: ``theory``, ``practical`` or ``review``.
    part: Mapped[str] = mapped_column(sa.String(20))
    #: Score out of 100 (null for a review decided pass/fail).
    score: Mapped[float | None] = mapped_column()
    #: Whether the part was passed.
    passed: Mapped[bool] = mapped_column()
    #: When it was taken.
    taken_at: Mapped[object] = mapped_column(UTCDateTime())
    #: Until when a pass counts.
    valid_until: Mapped[object | None] = mapped_column(UTCDateTime())
    #: ``assessor`` (entered in the UI or API) or ``xapi`` (a passed/failed statement).
    source: Mapped[str] = mapped_column(sa.String(20))
    #: The statement, for ``xapi`` results (unique: a statement counts once).
    statement_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    #: The assessor who entered it.
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Set when the statement was voided or the result withdrawn.
    retracted_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: When the row was written.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    level = relationship("FrameworkLevel")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])


class AssessorAuthorisation(db.Model):
    """A user authorised to enter exam results and award levels for an occupation."""

    __tablename__ = "competency_assessors"
    __table_args__ = (sa.UniqueConstraint("user_id", "occupation_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The assessor.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The occupation.
    occupation_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_occupations.id", ondelete="CASCADE"))
    #: The organisation under whose authority they assess (null: platform-wide).
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    #: Who granted it.
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


class LearnerQualification(db.Model):
    """A fact about a learner that application prerequisites look at.

    ``occupation_start`` (working in the occupation since ``since``), ``school_qualification``
    (``detail`` names it), ``apprenticeship_completed`` (also recorded by the apprenticeship
    module), ``level_held`` (a level certified elsewhere; ``rung``).
    """

    __tablename__ = "competency_learner_qualifications"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The occupation it is about (null: any).
    occupation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_occupations.id",
                                                                    ondelete="CASCADE"))
    #: See the class docstring.
    kind: Mapped[str] = mapped_column(sa.String(30))
    #: Free text (school qualification name, certificate number).
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The rung, for ``level_held``.
    rung: Mapped[int | None] = mapped_column()
    #: Since when (start in occupation) or the date obtained.
    since: Mapped[object] = mapped_column(UTCDateTime())
    #: Who recorded it.
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


class Certificate(db.Model):
    """A certificate issued for an awarded level attainment, verifiable publicly by its code."""

    __tablename__ = "competency_certificates"
    __table_args__ = (
        # At most one valid certificate per attainment (revoked ones stay for the record).
        sa.Index("uq_competency_certificates_valid_attainment", "attainment_id", unique=True,
                 postgresql_where=sa.text("revoked_at IS NULL"), sqlite_where=sa.text("revoked_at IS NULL")),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public identifier (used in the credential id URL).
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The attainment certified.
    attainment_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_level_attainments.id",
                                                             ondelete="CASCADE"), index=True)
    #: The holder.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: Verification code printed on the certificate (public lookup key).
    verification_code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    #: What the certificate states (holder name, occupation, level, framework, date), frozen.
    statement: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: The signed Open Badges 3.0 credential.
    credential: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: When it was issued.
    issued_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who issued it.
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When it was revoked, if it was.
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Why.
    revocation_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Who revoked it (null: the engine, when evidence was voided).
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    attainment = relationship("LevelAttainment")
