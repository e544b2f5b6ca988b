"""Evidence rules: statement patterns that yield evidence for a unit, grouped into criteria.

A unit's *criteria groups* are alternative achievement paths (OR): the unit's coverage is the
best group's. A group combines its rules with ``all`` (AND: every rule must be met; partial
coverage is the share met) or ``any`` (OR: the weights of the rules met add up, capped at 1).
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: How a rule names the activities it matches.
MATCH_KINDS = ("activity", "type", "parent")

#: The minimum source a rule accepts (:attr:`EvidenceRule.min_source`), each with the lowest rank
#: of :data:`lms.records.trust.SOURCE_RANK` it lets through: ``any`` source the trust policy
#: allows, content the platform ``launch``-ed or better, a registered ``system`` of standard trust
#: or better, an ``assessment`` (an assessment-trusted system or the platform itself).
MIN_SOURCES = ("any", "launch", "system", "assessment")


def min_source_rank(min_source: str | None) -> int:
    """The lowest source rank a rule's ``min_source`` accepts."""
    from lms.records.trust import SOURCE_RANK

    return {"launch": SOURCE_RANK["launch"], "system": SOURCE_RANK["system:standard"],
            "assessment": SOURCE_RANK["system:assessment"]}.get(min_source or "any", 0)


def source_meets(source: str | None, min_source: str | None) -> bool:
    """Whether a statement stored by ``source`` (trust-policy key) meets a rule's ``min_source``."""
    from lms.records.trust import SOURCE_RANK

    if (min_source or "any") == "any":
        return True
    return SOURCE_RANK.get(source or "platform", -1) >= min_source_rank(min_source)


def index_key(kind: str, verb_iri: str, iri: str) -> str:
    """The lookup key of the rule index: a fixed-length digest of (kind, verb, IRI)."""
    return hashlib.sha1(f"{kind}\x1f{verb_iri}\x1f{iri}".encode()).hexdigest()


class CriteriaGroup(db.Model):
    """An achievement path of a unit: its rules combined with AND (``all``) or OR (``any``)."""

    __tablename__ = "competency_criteria_groups"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unit (a skill or knowledge item).
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_items.id", ondelete="CASCADE"),
                                         index=True)
    #: ``all`` (AND) or ``any`` (OR).
    operator: Mapped[str] = mapped_column(sa.String(5), default="any")
    #: Label shown to teachers.
    name: Mapped[str] = mapped_column(sa.String(200), default="")

    rules = relationship("EvidenceRule", back_populates="group")


class EvidenceRule(db.Model):
    """A statement pattern that yields evidence for one unit, with a weight."""

    __tablename__ = "competency_evidence_rules"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The framework (denormalised for listing and recompute).
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_frameworks.id", ondelete="CASCADE"),
                                              index=True)
    #: The unit the evidence is for.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_framework_items.id", ondelete="CASCADE"),
                                         index=True)
    #: The criteria group (achievement path) the rule belongs to.
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_criteria_groups.id", ondelete="CASCADE"),
                                          index=True)
    #: Label shown to teachers.
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Verb IRIs that match (any of them).
    verbs: Mapped[list] = mapped_column(JSONType, default=list)
    #: ``activity`` (exact activity IRI), ``type`` (activity type IRI) or ``parent`` (any
    #: activity whose contextActivities parent or grouping is this IRI).
    match_kind: Mapped[str] = mapped_column(sa.String(10))
    #: The IRI matched according to ``match_kind``.
    match_iri: Mapped[str] = mapped_column(sa.String(1000))
    #: Minimum score, scaled (-1..1; from ``scaled`` or raw/min/max, :mod:`lms.records.scores`), or null for none.
    min_scaled: Mapped[float | None] = mapped_column()
    #: Whether ``result.success`` must be true.
    success_required: Mapped[bool] = mapped_column(default=False)
    #: Weight of the evidence inside its group (1 = enough on its own in an ``any`` group).
    weight: Mapped[float] = mapped_column(default=1.0)
    #: The least trusted source whose statements the rule accepts (one of :data:`MIN_SOURCES`).
    min_source: Mapped[str] = mapped_column(sa.String(20), default="any", server_default="any")
    #: Whether the rule is in force (disabled rules are left out of the index).
    active: Mapped[bool] = mapped_column(default=True)
    #: The organisation of the staff member who created it, which alone may edit or delete it;
    #: null = the system (rules of a system framework created by a system admin or imported).
    owner_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"),
                                                     index=True)
    #: Who created it (null for imports and the seeder).
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When it was created.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    group = relationship("CriteriaGroup", back_populates="rules")
    unit = relationship("FrameworkItem")
    owner_org = relationship("Organisation")

    def matches(self, statement) -> bool:
        """Whether a stored statement meets the rule's source and result conditions (verb/activity
        matched by the index)."""
        from lms.records.scores import result_scaled

        if not source_meets(getattr(statement, "source", None), self.min_source):
            return False
        result = statement.result or {}
        if self.success_required and result.get("success") is not True:
            return False
        if self.min_scaled is not None:
            scaled = result_scaled(result)
            if scaled is None or scaled < self.min_scaled:
                return False
        return True


class RuleIndexEntry(db.Model):
    """The rule index: one row per (rule, verb) keyed by a digest of (kind, verb, IRI).

    The engine computes the keys a statement could match (its activity, its activity type and
    each contextActivities parent/grouping, times its verb) and looks them up here; it never
    scans rules or history.
    """

    __tablename__ = "competency_rule_index"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: :func:`index_key` of (match kind, verb IRI, matched IRI).
    lookup_key: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: The rule.
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_evidence_rules.id", ondelete="CASCADE"),
                                         index=True)


#: What a :class:`RuleChange` is about.
CHANGE_SUBJECTS = ("rule", "framework")
#: What was done.
CHANGE_ACTIONS = ("create", "update", "delete")


class RuleChange(db.Model):
    """The audit log of evidence rules and frameworks: every create, update and delete."""

    __tablename__ = "competency_rule_changes"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``rule`` or ``framework``.
    subject: Mapped[str] = mapped_column(sa.String(10))
    #: ``create``, ``update`` or ``delete``.
    action: Mapped[str] = mapped_column(sa.String(10))
    #: The framework concerned (null once the framework itself is deleted).
    framework_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_frameworks.id", ondelete="SET NULL"),
                                                     index=True)
    #: The rule concerned (no foreign key: the row outlives the rule).
    rule_id: Mapped[int | None] = mapped_column()
    #: Who did it (null for the CLI and the seeder).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The owner organisation of the rule or framework at the time (null = the system).
    owner_org_id: Mapped[int | None] = mapped_column()
    #: Summary of the row before the change (empty for a create).
    before: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Summary of the row after the change (empty for a delete).
    after: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: When.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor = relationship("User")
