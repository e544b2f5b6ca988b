"""Training performance: per class, then per institution x occupation x level and period.

Definitions (DESIGN.md section 9), all over the roster frozen at opening (the denominator):

* **completed** -- completed the class's course (courses report source);
* **passed** -- certified at the class's level or higher in its occupation (competency report source);
* **employed within N months** (2, 6, 12) -- an imported social-insurance contribution or labour
  contract, matched on the ID number, starting between the class's first day and N months after
  its last day; **entrepreneurs** likewise with a business registration within 12 months;
* pass rate = passed / enrolled at opening; employment rate = employed within N months / enrolled.

Incremental: each trainee's outcomes (:class:`~supervision.models.ClassTrainee` columns) are
refreshed when an event concerns them (course completed, level awarded or retracted, certificate
issued or revoked, statements stored, records imported); the class's
:class:`~supervision.models.ClassIndicator` row is then recounted from its roster. Pages read those
rows; :func:`direct` recomputes a class from the sources alone (the recompute command and the
property test compare both).
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.core.extension_points import report_source
from supervision.models import ClassIndicator, ClassTrainee, EmploymentRecord, TrainingClass

COUNTED = ("open", "completed")
EMPLOYMENT_WINDOWS = (2, 6, 12)
NUMBERS = ("enrolled", "completed", "passed", "employed_2m", "employed_6m", "employed_12m", "entrepreneurs")


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _sources(cls: TrainingClass, user_ids: list[int]):
    completions = report_source("courses.completions")
    certifications = report_source("competency.certifications")
    done = completions(cls.course_ref, user_ids) if completions and cls.course_ref and user_ids else {}
    passed = certifications(user_ids, cls.occupation_code, cls.level) if certifications and user_ids else {}
    return done, passed


def _employment(id_numbers: list[str], since: dt.date) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    """``{id number: (first employment on/after since, first business registration on/after since)}``."""
    out: dict[str, list] = {}
    ids = sorted({n for n in id_numbers if n})
    for i in range(0, len(ids), 500):
        q = (sa.select(EmploymentRecord.id_number, EmploymentRecord.kind, sa.func.min(EmploymentRecord.start_date))
             .where(EmploymentRecord.id_number.in_(ids[i:i + 500]), EmploymentRecord.start_date >= since)
             .group_by(EmploymentRecord.id_number, EmploymentRecord.kind))
        for number, kind, first in db.session.execute(q):
            slot = out.setdefault(number, [None, None])
            index = 1 if kind == "business" else 0
            if slot[index] is None or first < slot[index]:
                slot[index] = first
    return {k: (v[0], v[1]) for k, v in out.items()}


def _to_date(value) -> dt.date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def _count(cls: TrainingClass, rows) -> dict[str, int]:
    """Numbers of a class from ``(in_denominator, completed_at, passed_at, employed_on, business_on)``."""
    out = dict.fromkeys(NUMBERS, 0)
    limits = {m: add_months(cls.end_date, m) for m in EMPLOYMENT_WINDOWS}
    for counted, completed, passed, employed, business in rows:
        if not counted:
            continue
        out["enrolled"] += 1
        out["completed"] += completed is not None
        out["passed"] += passed is not None
        for m in EMPLOYMENT_WINDOWS:
            out[f"employed_{m}m"] += employed is not None and _to_date(employed) <= limits[m]
        out["entrepreneurs"] += business is not None and _to_date(business) <= limits[12]
    return out


def refresh_trainees(cls: TrainingClass, user_ids=None) -> int:
    """Refresh the outcomes of a class's trainees (all, or ``user_ids``), then its indicators."""
    if cls.status not in COUNTED:
        return 0
    stmt = sa.select(ClassTrainee).where(ClassTrainee.class_id == cls.id)
    if user_ids is not None:
        stmt = stmt.where(ClassTrainee.user_id.in_(list(user_ids) or [-1]))
    trainees = db.session.scalars(stmt).all()
    if not trainees:
        return 0
    ids = [t.user_id for t in trainees]
    done, passed = _sources(cls, ids)
    jobs = _employment([t.id_number for t in trainees], cls.start_date)
    now = utcnow()
    for t in trainees:
        t.completed_at = done.get(t.user_id)
        t.passed_at = passed.get(t.user_id)
        t.employed_on, t.business_on = jobs.get(t.id_number, (None, None))
        t.refreshed_at = now
    db.session.flush()
    refresh_class(cls)
    return len(trainees)


def refresh_class(cls: TrainingClass) -> ClassIndicator:
    """Recount a class's indicator row from its roster's outcomes (flush only)."""
    rows = db.session.execute(sa.select(ClassTrainee.in_denominator, ClassTrainee.completed_at,
                                        ClassTrainee.passed_at, ClassTrainee.employed_on, ClassTrainee.business_on)
                              .where(ClassTrainee.class_id == cls.id))
    numbers = _count(cls, rows)
    row = db.session.get(ClassIndicator, cls.id)
    if row is None:
        row = ClassIndicator(class_id=cls.id, organisation_id=cls.organisation_id,
                             occupation_code=cls.occupation_code, level=cls.level, end_date=cls.end_date)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except sa.exc.IntegrityError:
            row = db.session.get(ClassIndicator, cls.id)
    for key, value in numbers.items():
        setattr(row, key, value)
    row.end_date = cls.end_date
    row.computed_at = utcnow()
    db.session.flush()
    return row


def direct(cls: TrainingClass) -> dict[str, int]:
    """The class's numbers computed from the sources alone (no stored outcomes): the check."""
    roster = db.session.execute(sa.select(ClassTrainee.user_id, ClassTrainee.id_number, ClassTrainee.in_denominator)
                                .where(ClassTrainee.class_id == cls.id)).all()
    ids = [r[0] for r in roster]
    done, passed = _sources(cls, ids)
    jobs = _employment([r[1] for r in roster], cls.start_date)
    return _count(cls, [(counted, done.get(uid), passed.get(uid), *jobs.get(number, (None, None)))
                        for uid, number, counted in roster])


def refresh_users(user_ids) -> int:
    """Refresh every counted class of these users (after an event about them)."""
    ids = sorted(set(int(u) for u in user_ids if u is not None))
    if not ids:
        return 0
    by_class: dict[int, set[int]] = {}
    for i in range(0, len(ids), 500):
        q = (sa.select(ClassTrainee.class_id, ClassTrainee.user_id)
             .join(TrainingClass, TrainingClass.id == ClassTrainee.class_id)
             .where(ClassTrainee.user_id.in_(ids[i:i + 500]), TrainingClass.status.in_(COUNTED)))
        for cid, uid in db.session.execute(q):
            by_class.setdefault(cid, set()).add(uid)
    total = 0
    for cid, users in sorted(by_class.items()):
        total += refresh_trainees(db.session.get(TrainingClass, cid), users)
    return total


def refresh_id_numbers(numbers) -> int:
    """Refresh the trainees with these ID numbers (after an import)."""
    numbers = sorted(set(numbers))
    users: set[int] = set()
    for i in range(0, len(numbers), 500):
        users.update(db.session.scalars(sa.select(ClassTrainee.user_id).where(
            ClassTrainee.id_number.in_(numbers[i:i + 500]))))
    return refresh_users(users)


def recompute_all() -> dict[str, int]:
    """Refresh every counted class from the sources; returns how many classes and mismatches the
    stored rows had before (0 when the incremental path kept up)."""
    classes = db.session.scalars(sa.select(TrainingClass).where(TrainingClass.status.in_(COUNTED))
                                 .order_by(TrainingClass.id)).all()
    mismatches = 0
    for cls in classes:
        before = db.session.get(ClassIndicator, cls.id)
        expected = direct(cls)
        if before is None or any(getattr(before, k) != v for k, v in expected.items()):
            mismatches += 1
        refresh_trainees(cls)
    return {"classes": len(classes), "mismatches": mismatches}


@dataclass
class GroupRow:
    """Indicators of one institution x occupation x level (summed over its classes)."""

    organisation_id: int
    organisation: str
    region: str
    occupation_code: str
    level: int
    classes: int
    enrolled: int
    completed: int
    passed: int
    employed_2m: int
    employed_6m: int
    employed_12m: int
    entrepreneurs: int

    def rate(self, name: str) -> float | None:
        return getattr(self, name) / self.enrolled if self.enrolled else None


def grouped(stmt_filter=None, *, region: str = "", occupation: str = "", level: int | None = None,
            since: dt.date | None = None, until: dt.date | None = None, organisation_ids=None) -> list[GroupRow]:
    """Indicators per institution x occupation x level, filtered (``stmt_filter`` scopes the rows)."""
    from lms.organisations.models import Organisation

    cols = [sa.func.count(ClassIndicator.class_id)] + [sa.func.coalesce(sa.func.sum(getattr(ClassIndicator, n)), 0)
                                                       for n in NUMBERS]
    stmt = (sa.select(ClassIndicator.organisation_id, Organisation.name, Organisation.region,
                      ClassIndicator.occupation_code, ClassIndicator.level, *cols)
            .join(Organisation, Organisation.id == ClassIndicator.organisation_id)
            .group_by(ClassIndicator.organisation_id, Organisation.name, Organisation.region,
                      ClassIndicator.occupation_code, ClassIndicator.level)
            .order_by(Organisation.name, ClassIndicator.occupation_code, ClassIndicator.level))
    if stmt_filter is not None:
        stmt = stmt_filter(stmt)
    if region:
        stmt = stmt.where(Organisation.region == region)
    if occupation:
        stmt = stmt.where(ClassIndicator.occupation_code == occupation)
    if level is not None:
        stmt = stmt.where(ClassIndicator.level == level)
    if since is not None:
        stmt = stmt.where(ClassIndicator.end_date >= since)
    if until is not None:
        stmt = stmt.where(ClassIndicator.end_date <= until)
    if organisation_ids is not None:
        stmt = stmt.where(ClassIndicator.organisation_id.in_(list(organisation_ids) or [-1]))
    return [GroupRow(*row) for row in db.session.execute(stmt)]
