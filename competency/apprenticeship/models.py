"""Tables of enterprise new apprenticeship (企业新型学徒制), all prefixed ``competency_``.

* :class:`PolicyProfile` -- the limits a region sets, as data;
* :class:`Programme` -- enterprise + partner school, occupation, framework, target level, duration;
* :class:`MilestoneDefinition` -- the plan template of a programme, versioned;
* :class:`Cohort`, :class:`Apprentice` -- who trains when, with both mentors and the agreement;
* :class:`ApprenticeMilestone` -- status per apprentice and milestone;
* :class:`LearningFact` -- what the apprentice's xAPI statements say, reduced to indexed facts;
* :class:`SignOff`, :class:`HoursEntry` -- immutable mentor records;
* :class:`ApprenticeshipNotification` -- in-app notices of milestones at risk or overdue.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: Statuses of an apprentice's milestone, from least to most advanced (overdue is a warning state).
STATUSES = ("pending", "on_track", "at_risk", "overdue", "done")

#: Kinds of sign-off a mentor records.
SIGNOFF_KINDS = ("workplace_task", "practical_assessment")

#: Kinds of offline training hours that mentors log.
HOURS_KINDS = ("workplace", "classroom")


class PolicyProfile(db.Model):
    """The limits a region sets for apprenticeship plans (data, not code)."""

    __tablename__ = "competency_policy_profiles"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Name, e.g. "江苏省 2024".
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Region the profile applies to (free text or region code).
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Minimum training hours per year.
    min_hours_per_year: Mapped[int] = mapped_column(default=600)
    #: Online hours may be at most this share of the centralised (offline) hours.
    max_online_ratio: Mapped[float] = mapped_column(sa.Float, default=0.5)
    #: Maximum apprentices per mentor (each kind of mentor).
    max_apprentices_per_mentor: Mapped[int] = mapped_column(default=8)
    #: Maximum apprentices per cohort (class).
    max_per_class: Mapped[int] = mapped_column(default=40)
    #: Minimum contract term in months.
    min_contract_months: Mapped[int] = mapped_column(default=12)
    #: Shortest and longest programme duration in months (1 to 2 years, extendable to 3).
    min_duration_months: Mapped[int] = mapped_column(default=12)
    #: Longest regular duration in months.
    max_duration_months: Mapped[int] = mapped_column(default=24)
    #: Longest duration with an extension, in months.
    max_extended_months: Mapped[int] = mapped_column(default=36)
    #: True: a plan that breaks a limit is refused; False: it is accepted with a warning.
    enforce: Mapped[bool] = mapped_column(default=True)
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Programme(db.Model):
    """An apprenticeship programme run by an enterprise with a partner school or institution."""

    __tablename__ = "competency_programmes"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Title, e.g. "2026 电工学徒班".
    title: Mapped[str] = mapped_column(sa.String(200))
    #: The enterprise that employs the apprentices.
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The partner school or training institution.
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    #: National occupation code (e.g. ``6-31-01-03``).
    occupation_code: Mapped[str] = mapped_column(sa.String(20), default="")
    #: Competency framework id (loose reference to ``competency_frameworks``), when chosen.
    framework_id: Mapped[int | None] = mapped_column()
    #: Target rung of the skill ladder: 2 中级工 ... 5 高级技师.
    target_rung: Mapped[int] = mapped_column(default=2)
    #: Planned duration in months (12 to 24, extendable to 36).
    duration_months: Mapped[int] = mapped_column(default=12)
    #: Required training hours per year.
    hours_per_year: Mapped[int] = mapped_column(default=600)
    #: Planned online hours per year (part of ``hours_per_year``).
    online_hours_per_year: Mapped[int] = mapped_column(default=200)
    #: The policy profile whose limits apply.
    policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_policy_profiles.id",
                                                                ondelete="SET NULL"))
    #: Current version of the plan template (milestone definitions carry a version).
    template_version: Mapped[int] = mapped_column(default=1)
    #: Policy warnings accepted when the programme was saved (list of messages).
    policy_warnings: Mapped[list] = mapped_column(JSONType, default=list)
    #: Who created it.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enterprise = relationship("Organisation", foreign_keys=[enterprise_id])
    school = relationship("Organisation", foreign_keys=[school_id])
    policy = relationship(PolicyProfile)
    cohorts = relationship("Cohort", back_populates="programme", order_by="Cohort.start_date")

    @property
    def centralised_hours_per_year(self) -> int:
        return max(self.hours_per_year - self.online_hours_per_year, 0)

    def definitions(self, version: int | None = None) -> list["MilestoneDefinition"]:
        v = self.template_version if version is None else version
        return db.session.scalars(sa.select(MilestoneDefinition).filter_by(programme_id=self.id, version=v)
                                  .order_by(MilestoneDefinition.due_offset_days, MilestoneDefinition.position)).all()


class MilestoneDefinition(db.Model):
    """One milestone of a programme's plan template, in one template version."""

    __tablename__ = "competency_milestone_definitions"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The programme.
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_programmes.id", ondelete="CASCADE"))
    #: Template version this definition belongs to.
    version: Mapped[int] = mapped_column(default=1)
    #: Stable code within the programme (carries progress across versions), e.g. ``agreement``.
    code: Mapped[str] = mapped_column(sa.String(50))
    #: Title shown in the plan (Chinese or English as entered).
    title: Mapped[str] = mapped_column(sa.String(200))
    #: Days after the cohort start when it is due.
    due_offset_days: Mapped[int] = mapped_column(default=30)
    #: Display order among milestones with the same due offset.
    position: Mapped[int] = mapped_column(default=0)
    #: Criteria: a predicate tree over evidence, see :mod:`competency.apprenticeship.criteria`.
    criteria: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Whether reaching it pays the subsidy advance (``advance``) or completion part (``completion``).
    subsidy_part: Mapped[str] = mapped_column(sa.String(20), default="")

    __table_args__ = (sa.UniqueConstraint("programme_id", "version", "code"),
                      sa.Index("ix_competency_milestone_definitions_prog_version", "programme_id", "version"))


class Cohort(db.Model):
    """A group of apprentices of one programme starting together (a class)."""

    __tablename__ = "competency_cohorts"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The programme.
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_programmes.id", ondelete="CASCADE"),
                                              index=True)
    #: Name, e.g. "2026 春季班".
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Start date (due dates count from here).
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    #: Months of extension granted beyond the programme duration (up to the policy's maximum).
    extension_months: Mapped[int] = mapped_column(default=0)
    #: Template version the cohort's plans follow (changes apply only when an admin chooses).
    template_version: Mapped[int] = mapped_column(default=1)
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    programme = relationship(Programme, back_populates="cohorts")
    apprentices = relationship("Apprentice", back_populates="cohort", order_by="Apprentice.id")

    def end_date(self) -> dt.date:
        months = self.programme.duration_months + self.extension_months
        return add_months(self.start_date, months)

    def due_date(self, definition: "MilestoneDefinition") -> dt.date:
        return self.start_date + dt.timedelta(days=definition.due_offset_days)


class Apprentice(db.Model):
    """One apprentice in a cohort, with the enterprise mentor, the school mentor and the agreement."""

    __tablename__ = "competency_apprentices"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The cohort.
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_cohorts.id", ondelete="CASCADE"), index=True)
    #: The apprentice (a member of the enterprise).
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Enterprise mentor (企业导师).
    enterprise_mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: School mentor (院校导师).
    school_mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: Agreement (学徒培养协议) number, free text.
    agreement_number: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Date the agreement was signed; empty until signed.
    agreement_signed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: Start of the labour contract.
    contract_start: Mapped[dt.date] = mapped_column(sa.Date)
    #: End of the labour contract (at least one year after the start).
    contract_end: Mapped[dt.date] = mapped_column(sa.Date)
    #: When the apprentice joined the cohort (later than the start for late joiners).
    joined_on: Mapped[dt.date] = mapped_column(sa.Date)
    #: When the apprentice left early, if so.
    left_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: When added.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cohort = relationship(Cohort, back_populates="apprentices")
    user = relationship("User", foreign_keys=[user_id])
    enterprise_mentor = relationship("User", foreign_keys=[enterprise_mentor_id])
    school_mentor = relationship("User", foreign_keys=[school_mentor_id])
    milestones = relationship("ApprenticeMilestone", back_populates="apprentice",
                              order_by="ApprenticeMilestone.due_date, ApprenticeMilestone.id")

    __table_args__ = (sa.UniqueConstraint("cohort_id", "user_id"),)


class ApprenticeMilestone(db.Model):
    """The status of one milestone of one apprentice's plan."""

    __tablename__ = "competency_apprentice_milestones"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The apprentice.
    apprentice_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_apprentices.id", ondelete="CASCADE"))
    #: The definition it follows now (updated when the cohort takes a new template version).
    definition_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_milestone_definitions.id",
                                                             ondelete="RESTRICT"), index=True)
    #: Milestone code (stable across template versions).
    code: Mapped[str] = mapped_column(sa.String(50))
    #: Due date (cohort start + offset).
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    #: One of :data:`STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    #: Share of the criteria met, 0..1.
    progress: Mapped[float] = mapped_column(sa.Float, default=0.0)
    #: Date it was reached; once set it is never cleared (recorded progress is kept).
    done_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: Statement recorded when it was reached.
    statement_id: Mapped[str | None] = mapped_column(sa.String(36))
    #: Dropped from the current template version (kept for the record, not shown as a target).
    retired: Mapped[bool] = mapped_column(default=False)
    #: Last status change.
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    apprentice = relationship(Apprentice, back_populates="milestones")
    definition = relationship(MilestoneDefinition)

    __table_args__ = (sa.UniqueConstraint("apprentice_id", "code"),
                      sa.Index("ix_competency_apprentice_milestones_status", "status", "due_date"))


class LearningFact(db.Model):
    """One fact derived from one of an apprentice's xAPI statements (indexed evidence).

    ``kind`` is ``completed`` / ``passed`` / ``achieved`` / ``awarded`` with ``iri`` the activity
    (or one of its parents, so criteria "anything under a parent" are a lookup). Study time is not
    kept here: it is :func:`lms.records.study_time.seconds_by_user`. Voiding a statement deletes
    its facts.
    """

    __tablename__ = "competency_learning_facts"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: The statement it comes from.
    statement_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    #: ``completed``, ``passed``, ``achieved`` or ``awarded``.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Activity IRI (the object, or a parent/grouping activity when ``via_parent``).
    iri: Mapped[str] = mapped_column(sa.String(500), default="")
    #: True when ``iri`` is a parent or grouping activity of the statement's object.
    via_parent: Mapped[bool] = mapped_column(default=False)
    #: The statement's score, scaled (:func:`lms.records.scores.result_scaled`), when it had one.
    score: Mapped[float | None] = mapped_column(sa.Float)
    #: When it happened (statement timestamp).
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("statement_id", "kind", "iri"),
                      sa.Index("ix_competency_learning_facts_user_kind", "user_id", "kind", "iri"))


class SignOff(db.Model):
    """A mentor's sign-off of a workplace task or practical assessment. Never changed: a correction
    is a new record that references the one it corrects."""

    __tablename__ = "competency_signoffs"
    __table_args__ = (
        # A record is corrected once; a further correction corrects the correction.
        sa.Index("uq_competency_signoffs_corrects_id", "corrects_id", unique=True,
                 postgresql_where=sa.text("corrects_id IS NOT NULL"),
                 sqlite_where=sa.text("corrects_id IS NOT NULL")),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The apprentice.
    apprentice_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_apprentices.id", ondelete="CASCADE"),
                                               index=True)
    #: ``workplace_task`` or ``practical_assessment``.
    kind: Mapped[str] = mapped_column(sa.String(30))
    #: Task code, e.g. ``wiring-1`` (criteria refer to it).
    task_code: Mapped[str] = mapped_column(sa.String(100))
    #: Task title.
    task_title: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Mentor's comment.
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    #: Practical assessment score out of 100.
    score: Mapped[float | None] = mapped_column(sa.Float)
    #: False when this record withdraws an earlier sign-off.
    approved: Mapped[bool] = mapped_column(default=True)
    #: Stored attachment path relative to the upload folder.
    attachment_path: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Original attachment file name.
    attachment_name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The mentor who signed.
    signed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: When signed.
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The record this one corrects, if any.
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("competency_signoffs.id", ondelete="CASCADE"))
    #: The xAPI statement that recorded it.
    statement_id: Mapped[str | None] = mapped_column(sa.String(36))

    apprentice = relationship(Apprentice)
    signed_by = relationship("User")
    corrects = relationship("SignOff", remote_side=[id])


class HoursEntry(db.Model):
    """Offline training hours (workplace or classroom) logged by a mentor. Never changed."""

    __tablename__ = "competency_hours_entries"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The apprentice.
    apprentice_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_apprentices.id", ondelete="CASCADE"),
                                               index=True)
    #: ``workplace`` or ``classroom``.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Hours (may be negative for a correction).
    hours: Mapped[float] = mapped_column(sa.Float)
    #: Day of the training.
    on_date: Mapped[dt.date] = mapped_column(sa.Date)
    #: What was done.
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The mentor who logged it.
    logged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: When logged.
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    logged_by = relationship("User")


class ApprenticeshipNotification(db.Model):
    """An in-app notice to a mentor or apprentice that a milestone is at risk or overdue."""

    __tablename__ = "competency_notifications"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Recipient.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The apprentice milestone concerned.
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_apprentice_milestones.id",
                                                            ondelete="CASCADE"))
    #: ``at_risk`` or ``overdue``.
    status: Mapped[str] = mapped_column(sa.String(20))
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the recipient dismissed it.
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    milestone = relationship(ApprenticeMilestone)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (clamped to the month's last day)."""
    import calendar

    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@sa.event.listens_for(SignOff, "before_update")
@sa.event.listens_for(HoursEntry, "before_update")
def _immutable(_mapper, _conn, target):
    state = sa.inspect(target)
    changed = {c.key for c in _mapper.column_attrs if state.attrs[c.key].history.has_changes()}
    # The only change allowed: filling in the id of the statement that recorded it.
    if changed <= {"statement_id"} and not any(state.attrs.statement_id.history.deleted):
        return
    raise RuntimeError(f"{type(target).__name__} records are immutable; record a correction instead")
