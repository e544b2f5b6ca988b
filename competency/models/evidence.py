"""Evidence and the state derived from it, per learner.

A *learner key* identifies the learner across systems: ``user:<id>`` when the statement's actor
stands for an account of the platform (:func:`lms.records.identity.users_for_keys`: its platform
account, or an identity verified or linked to it), else the learning-record layer's learner key of
the actor (:func:`lms.records.identity.learner_key`: ``mbox:mailto:a@b``, ``sha1:<hex>``,
``account:<homePage>|<name>``, ``openid:<uri>``). Evidence of an unknown actor is kept under that
key; when the key is linked to an account (``identity_linked``),
:func:`competency.operations.engine.claim_identities` moves it to the account.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: Statuses of a level attainment, in order.
LEVEL_STATUSES = ("in_progress", "eligible", "awarded", "certified", "retracted")


class Evidence(db.Model):
    """One statement counted as evidence for one unit (idempotent per statement and unit)."""

    __tablename__ = "competency_evidence"
    __table_args__ = (sa.UniqueConstraint("statement_id", "unit_id"),
                      sa.Index("ix_competency_evidence_learner_unit", "learner_key", "unit_id"))

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The xAPI statement id.
    statement_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    #: The learner key (see module docstring).
    learner_key: Mapped[str] = mapped_column(sa.String(300))
    #: The account, when known.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The unit covered.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_items.id", ondelete="CASCADE"))
    #: The rule that matched.
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_evidence_rules.id", ondelete="SET NULL"),
                                                index=True)
    #: The criteria group of that rule.
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_criteria_groups.id",
                                                               ondelete="SET NULL"), index=True)
    #: Weight the rule gives.
    weight: Mapped[float] = mapped_column(default=1.0)
    #: The verb of the statement.
    verb_iri: Mapped[str] = mapped_column(sa.String(1000))
    #: The activity of the statement.
    activity_iri: Mapped[str] = mapped_column(sa.String(1000))
    #: Name of the activity (first language found), for display.
    activity_name: Mapped[str] = mapped_column(sa.String(500), default="")
    #: Where the statement says it came from: ``context.platform``, else the authority's name, else ``xAPI``.
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Provenance as the LRS recorded it: the label of the source that stored the statement
    #: (``""`` for the platform itself, shown as "This platform"; null for evidence written
    #: before provenance was kept).
    source_label: Mapped[str | None] = mapped_column(sa.String(200))
    #: The statement's score, scaled (:func:`lms.records.scores.result_scaled`), if any.
    scaled: Mapped[float | None] = mapped_column()
    #: When the learning happened (the statement's timestamp).
    occurred_at: Mapped[object] = mapped_column(UTCDateTime())
    #: When the evidence row was written.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set when the statement was voided (the row stays for the audit trail).
    retracted_at: Mapped[object | None] = mapped_column(UTCDateTime())

    unit = relationship("FrameworkItem")


class UnitState(db.Model):
    """A learner's coverage of one unit, combined from all evidence whatever its source."""

    __tablename__ = "competency_unit_states"
    __table_args__ = (sa.UniqueConstraint("learner_key", "unit_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner key.
    learner_key: Mapped[str] = mapped_column(sa.String(300), index=True)
    #: The account, when known.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The unit.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_items.id", ondelete="CASCADE"),
                                         index=True)
    #: The framework level of the unit (denormalised for level recomputation).
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_levels.id", ondelete="CASCADE"),
                                          index=True)
    #: Coverage 0..1 (best criteria group).
    coverage: Mapped[float] = mapped_column(default=0.0)
    #: Whether the unit is covered (coverage reached 1).
    covered: Mapped[bool] = mapped_column(default=False)
    #: When it last became covered.
    covered_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Last change.
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    unit = relationship("FrameworkItem")


class LevelAttainment(db.Model):
    """A learner's state for one framework level: coverage, prerequisites, exams and the award.

    ``status`` moves ``in_progress`` -> ``eligible`` (computed) -> ``awarded`` (an assessor
    confirms) -> ``certified`` (certificate issued); ``retracted`` when evidence it rested on was
    voided after the award.
    """

    __tablename__ = "competency_level_attainments"
    __table_args__ = (sa.UniqueConstraint("learner_key", "level_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner key.
    learner_key: Mapped[str] = mapped_column(sa.String(300), index=True)
    #: The account, when known.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The framework (denormalised).
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_frameworks.id", ondelete="CASCADE"),
                                              index=True)
    #: The framework level.
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_levels.id", ondelete="CASCADE"),
                                          index=True)
    #: The rung (denormalised).
    rung: Mapped[int] = mapped_column()
    #: Weighted unit coverage 0..1.
    coverage: Mapped[float] = mapped_column(default=0.0)
    #: Whether coverage and required units meet the level's rule.
    coverage_met: Mapped[bool] = mapped_column(default=False)
    #: Whether one alternative set of prerequisites holds.
    prerequisites_met: Mapped[bool] = mapped_column(default=False)
    #: Whether the exams (and review) are passed and still valid.
    exams_met: Mapped[bool] = mapped_column(default=False)
    #: See the class docstring.
    status: Mapped[str] = mapped_column(sa.String(20), default="in_progress")
    #: When it became eligible.
    eligible_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: When it was awarded.
    awarded_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Who awarded it.
    awarded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When the certificate was issued.
    certified_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: When it was retracted.
    retracted_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Last change.
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    level = relationship("FrameworkLevel")
    framework = relationship("Framework")
    user = relationship("User", foreign_keys=[user_id])
    awarded_by = relationship("User", foreign_keys=[awarded_by_id])


class StateChange(db.Model):
    """The log of every change of a unit or level state, with what caused it and who."""

    __tablename__ = "competency_state_changes"
    __table_args__ = (sa.Index("ix_competency_state_changes_learner", "learner_key", "id"),)

    #: Surrogate key (also the order of changes).
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner key.
    learner_key: Mapped[str] = mapped_column(sa.String(300))
    #: ``unit`` or ``level``.
    subject: Mapped[str] = mapped_column(sa.String(10))
    #: The unit, for unit changes.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_framework_items.id", ondelete="CASCADE"))
    #: The framework level, for level changes.
    level_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_framework_levels.id",
                                                               ondelete="CASCADE"))
    #: State before (e.g. ``{"coverage": 0.5, "covered": false}``).
    before: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: State after.
    after: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: The evidence that caused it, if any.
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_evidence.id", ondelete="SET NULL"),
                                                    index=True)
    #: The statement that caused it, if any.
    statement_id: Mapped[str | None] = mapped_column(sa.String(36))
    #: ``evidence``, ``void``, ``exam``, ``award``, ``certificate``, ``revoke``, ``recompute``, ``claim``.
    reason: Mapped[str] = mapped_column(sa.String(20))
    #: Who acted (assessor, admin), null for the engine.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
