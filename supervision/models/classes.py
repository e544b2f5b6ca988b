"""Subsidised training classes: opened on the authority's approval, roster frozen at opening."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, db, utcnow

#: ``applied`` -> ``open`` (approved) or ``returned`` (re-applied as a new application) ; ``open`` -> ``completed``.
CLASS_STATUSES = ("applied", "returned", "open", "completed")


class TrainingClass(db.Model):
    """A class of a subsidised-training catalogue entry, applied for by an institution."""

    __tablename__ = "supervision_classes"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The institution.
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The subsidised-training catalogue entry.
    entry_key: Mapped[str] = mapped_column(sa.String(50), index=True)
    #: Occupation code (copied from the entry when applied).
    occupation_code: Mapped[str] = mapped_column(sa.String(20), index=True)
    #: Rung trained for (copied from the entry).
    level: Mapped[int] = mapped_column()
    #: The course (report-source ref, copied from the entry).
    course_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    #: Total study hours (copied from the entry).
    total_hours: Mapped[float] = mapped_column(sa.Float())
    #: Standard subsidy per person (copied from the entry).
    standard_amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    #: Class name.
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Teaching plan (教学计划).
    teaching_plan: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Teachers, one per line (names and qualification).
    teachers: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Schedule in words (days, times, place).
    schedule: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Assessment plan (考核计划).
    assessment_plan: Mapped[str] = mapped_column(sa.Text(), default="")
    #: First day of training.
    start_date: Mapped[dt.date] = mapped_column(sa.Date())
    #: Last day of training.
    end_date: Mapped[dt.date] = mapped_column(sa.Date())
    #: ``organisation|entry|name`` unless returned (unique: parallel identical applications open one).
    open_key: Mapped[str | None] = mapped_column(sa.String(300), unique=True)
    #: One of :data:`CLASS_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(10), default="applied", index=True)
    #: The officer's reason (required when returned).
    decision_reason: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Who decided.
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When decided.
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When opened (approved): the roster then is the denominator.
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Trainees on the roster at opening (the denominator of every rate).
    enrolled_at_opening: Mapped[int] = mapped_column(default=0)
    #: Who applied.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When applied.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation = relationship("Organisation")
    trainees = relationship("ClassTrainee", back_populates="training_class", order_by="ClassTrainee.id",
                            cascade="all, delete-orphan")


class ClassTrainee(db.Model):
    """A trainee on a class roster, with the outcomes the indicators count (kept up to date
    incrementally from domain events, statements and imports)."""

    __tablename__ = "supervision_class_trainees"
    __table_args__ = (sa.UniqueConstraint("class_id", "user_id"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The class.
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_classes.id", ondelete="CASCADE"), index=True)
    #: The trainee's account.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ID number (身份证号) when put on the roster; matched against imports.
    id_number: Mapped[str] = mapped_column(sa.String(18), default="", index=True)
    #: Real name when put on the roster.
    real_name: Mapped[str] = mapped_column(sa.String(100), default="")
    #: On the roster when the class opened: counts in the denominator. Frozen at opening.
    in_denominator: Mapped[bool] = mapped_column(default=False)
    #: Added after opening (a logged change request), never in the denominator.
    added_after_opening: Mapped[bool] = mapped_column(default=False)
    #: When the trainee completed the course (from the courses report source).
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When the trainee was certified at the class's level (from the competency report source).
    passed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: First proven employment on or after the class start (imported records).
    employed_on: Mapped[dt.date | None] = mapped_column(sa.Date())
    #: First business registration on or after the class start (imported records).
    business_on: Mapped[dt.date | None] = mapped_column(sa.Date())
    #: When the outcomes were last refreshed.
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When added.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    training_class = relationship("TrainingClass", back_populates="trainees")
    user = relationship("User", foreign_keys=[user_id])
