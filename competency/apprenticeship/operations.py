"""Apprenticeship rules: programmes, policy limits, cohorts, plans, mentor records, milestone status.

Every function takes the acting user explicitly and only flushes; the view, API, task or CLI
commits. Status computation (:func:`recompute`) is the same for the statement-driven path, the
daily due-date task and the mentor actions.
"""
from __future__ import annotations
from lms.core.exceptions import DomainError

import csv
import datetime as dt
import io
import os
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from competency.apprenticeship import criteria as crit
from competency.apprenticeship import evidence
from competency.apprenticeship.models import (HOURS_KINDS, SIGNOFF_KINDS, Apprentice, ApprenticeMilestone,
                                              ApprenticeshipNotification, Cohort, HoursEntry, MilestoneDefinition,
                                              PolicyProfile, Programme, SignOff, add_months)
from lms.core import extension_points as events
from lms.core.db import begin_write, db, insert_once, lock_row, utcnow
from lms.core.events import send_after_commit
from lms.core.permissions import can

#: Target levels a programme may aim at (rung -> label): 中级工 .. 高级技师.
TARGET_RUNGS = {2: _l("Intermediate worker (Level 4)"), 3: _l("Senior worker (Level 3)"),
                4: _l("Technician (Level 2)"), 5: _l("Senior technician (Level 1)")}

STATUS_LABELS = {"pending": _l("Pending"), "on_track": _l("On track"), "at_risk": _l("At risk"),
                 "overdue": _l("Overdue"), "done": _l("Done")}

#: Titles of the standard milestones (a definition with an empty title shows these, translated).
DEFAULT_TITLES = {
    "agreement": _l("Agreement signed"),
    "entry_training": _l("Entry training completed"),
    "workplace_tasks": _l("Workplace tasks signed off"),
    "midterm": _l("Mid-term assessment"),
    "units": _l("Units of the target level covered"),
    "level_exam": _l("Level exam passed"),
    "certificate": _l("Certificate issued"),
}

#: Days before the due date from which an unmet milestone is "at risk".
AT_RISK_DAYS = 14

#: A sign-off identical to one the same mentor recorded this many seconds ago is the same
#: intent sent twice (a double click, a retried request) and answers with that record.
DUPLICATE_SIGNOFF_SECONDS = 120


class ApprenticeshipError(DomainError):
    """A rule was broken; ``status`` is the HTTP status to answer, ``field`` the form field."""

    def __init__(self, message, field: str | None = None, status: int = 400, code: str = "invalid", **details):
        super().__init__(message, field, status=status, code=code, **details)


class PolicyError(ApprenticeshipError):
    """A plan breaks the limits of an enforced policy profile; ``issues`` lists them all."""

    def __init__(self, issues: list[str], field: str | None = None):
        super().__init__("; ".join(issues), field, 409, "policy_violation", issues=issues)
        self.issues = issues


def _deny(message=None):
    raise ApprenticeshipError(message or _("You may not do this."), status=403, code="forbidden")


def today_utc() -> dt.date:
    return utcnow().date()


# --- policy ----------------------------------------------------------------------------------

def default_policy() -> PolicyProfile:
    """The first policy profile; created with the national defaults when none exists."""
    policy = db.session.scalars(sa.select(PolicyProfile).order_by(PolicyProfile.id)).first()
    if policy is None:
        policy = PolicyProfile(name="默认 / Default", region="", min_hours_per_year=600, max_online_ratio=0.5,
                               max_apprentices_per_mentor=8, max_per_class=40, min_contract_months=12,
                               min_duration_months=12, max_duration_months=24, max_extended_months=36, enforce=True)
        db.session.add(policy)
        db.session.flush()
    return policy


def programme_issues(policy: PolicyProfile, *, hours_per_year: int, online_hours_per_year: int) -> list[str]:
    """Policy limits a programme's hours break (empty when it complies)."""
    issues = []
    if hours_per_year < policy.min_hours_per_year:
        issues.append(_("At least %(n)s training hours a year are required.", n=policy.min_hours_per_year))
    centralised = max(hours_per_year - online_hours_per_year, 0)
    if online_hours_per_year > policy.max_online_ratio * centralised:
        issues.append(_("Online hours (%(online)s) may be at most %(pct)s%% of the centralised hours (%(central)s).",
                        online=online_hours_per_year, pct=round(policy.max_online_ratio * 100),
                        central=centralised))
    return issues


def _apply_policy(policy: PolicyProfile, issues: list[str], field: str | None = None) -> list[str]:
    """Refuse (enforced profile) or return the issues as warnings."""
    if issues and policy.enforce:
        raise PolicyError(issues, field)
    return issues


# --- programmes and templates ----------------------------------------------------------------

def default_template(programme: Programme) -> list[dict]:
    """The standard milestones of a programme, with due offsets spread over its duration."""
    days = round(programme.duration_months * 365 / 12)
    return [
        {"code": "agreement", "due_offset_days": 30, "criteria": {"type": "agreement_signed"},
         "subsidy_part": "advance"},
        {"code": "entry_training", "due_offset_days": 60, "criteria": {"type": "training_hours", "min": 40}},
        {"code": "workplace_tasks", "due_offset_days": days // 2,
         "criteria": {"type": "signoff", "min": 3}},
        {"code": "midterm", "due_offset_days": days // 2, "criteria": {"type": "practical_score", "min": 60}},
        {"code": "units", "due_offset_days": days - 60, "criteria": {"type": "level_coverage", "min": 0.8}},
        {"code": "level_exam", "due_offset_days": days - 30, "criteria": {"type": "level_attained", "rung": "target"}},
        {"code": "certificate", "due_offset_days": days, "criteria": {"type": "certificate_issued"},
         "subsidy_part": "completion"},
    ]


def may_manage(user, programme_or_enterprise_id) -> bool:
    org_id = getattr(programme_or_enterprise_id, "enterprise_id", programme_or_enterprise_id)
    return can(user, "apprenticeship.manage", org_id)


def create_programme(actor, *, title: str, enterprise, school, occupation_code: str = "",
                     framework_id: int | None = None, target_rung: int = 2, duration_months: int = 12,
                     hours_per_year: int = 600, online_hours_per_year: int = 200, policy: PolicyProfile | None = None,
                     milestones: list[dict] | None = None) -> tuple[Programme, list[str]]:
    """Create a programme with its plan template; returns it and the policy warnings accepted."""
    if enterprise is None or not may_manage(actor, enterprise.id):
        _deny()
    if enterprise.kind != "enterprise":
        raise ApprenticeshipError(_("The employer must be an enterprise."), "enterprise_id")
    if school is None or school.kind != "institution":
        raise ApprenticeshipError(_("The partner must be a school or training institution."), "school_id")
    if not (title or "").strip():
        raise ApprenticeshipError(_("The title is required."), "title")
    if target_rung not in TARGET_RUNGS:
        raise ApprenticeshipError(_("The target level must be from intermediate worker to senior technician."),
                                  "target_rung")
    if framework_id is not None:
        from competency.models import Framework

        if db.session.get(Framework, framework_id) is None:
            raise ApprenticeshipError(_("Unknown competency framework."), "framework_id")
    policy = policy or default_policy()
    if not (policy.min_duration_months <= duration_months <= policy.max_duration_months):
        raise ApprenticeshipError(_("The duration must be %(lo)s to %(hi)s months (extensions are granted per cohort).",
                                    lo=policy.min_duration_months, hi=policy.max_duration_months), "duration_months")
    if hours_per_year < 0 or online_hours_per_year < 0 or online_hours_per_year > hours_per_year:
        raise ApprenticeshipError(_("Online hours must be between 0 and the hours per year."), "online_hours_per_year")
    warnings = _apply_policy(policy, programme_issues(policy, hours_per_year=hours_per_year,
                                                      online_hours_per_year=online_hours_per_year), "hours_per_year")
    programme = Programme(title=title.strip(), enterprise_id=enterprise.id, school_id=school.id,
                          occupation_code=(occupation_code or "").strip(), framework_id=framework_id,
                          target_rung=target_rung, duration_months=duration_months, hours_per_year=hours_per_year,
                          online_hours_per_year=online_hours_per_year, policy_id=policy.id, template_version=1,
                          policy_warnings=warnings, created_by_id=actor.id)
    db.session.add(programme)
    db.session.flush()
    for i, m in enumerate(milestones or default_template(programme)):
        crit.validate(m["criteria"])
        db.session.add(MilestoneDefinition(programme_id=programme.id, version=1, code=m["code"],
                                           title=m.get("title", ""), due_offset_days=int(m["due_offset_days"]),
                                           position=i, criteria=m["criteria"], subsidy_part=m.get("subsidy_part", "")))
    db.session.flush()
    return programme, warnings


def _editable_version(programme: Programme, today: dt.date) -> int:
    """The template version edits go to: a new one once a cohort on the current version has started."""
    started = db.session.scalar(sa.select(sa.func.count()).select_from(Cohort).where(
        Cohort.programme_id == programme.id, Cohort.template_version == programme.template_version,
        Cohort.start_date <= today))
    if not started:
        return programme.template_version
    new = programme.template_version + 1
    for d in programme.definitions():
        db.session.add(MilestoneDefinition(programme_id=programme.id, version=new, code=d.code, title=d.title,
                                           due_offset_days=d.due_offset_days, position=d.position,
                                           criteria=d.criteria, subsidy_part=d.subsidy_part))
    programme.template_version = new
    db.session.flush()
    return new


def save_milestone(actor, programme: Programme, *, code: str, title: str = "", due_offset_days: int,
                   criteria: dict, subsidy_part: str = "", today: dt.date | None = None) -> MilestoneDefinition:
    """Add or change one milestone of the template (a new version once a cohort has started)."""
    if not may_manage(actor, programme):
        _deny()
    code = (code or "").strip()
    if not code or len(code) > 50 or not all(c.isalnum() or c in "-_" for c in code):
        raise ApprenticeshipError(_("The code must be 1 to 50 letters, digits, '-' or '_'."), "code")
    if not isinstance(due_offset_days, int) or not 0 <= due_offset_days <= 366 * 3:
        raise ApprenticeshipError(_("The due offset must be 0 to 1098 days."), "due_offset_days")
    if subsidy_part not in ("", "advance", "completion"):
        raise ApprenticeshipError(_("Unknown subsidy part."), "subsidy_part")
    try:
        crit.validate(criteria)
    except crit.CriteriaError as exc:
        raise ApprenticeshipError(_("Invalid criteria: %(msg)s", msg=exc.message), "criteria") from None
    version = _editable_version(programme, today or today_utc())
    row = db.session.scalars(sa.select(MilestoneDefinition).filter_by(programme_id=programme.id, version=version,
                                                                      code=code)).first()
    if row is None:
        row = MilestoneDefinition(programme_id=programme.id, version=version, code=code,
                                  position=len(programme.definitions(version)))
        db.session.add(row)
    row.title, row.due_offset_days, row.criteria, row.subsidy_part = (title or "").strip(), due_offset_days, criteria, \
        subsidy_part
    db.session.flush()
    return row


def remove_milestone(actor, programme: Programme, code: str, today: dt.date | None = None) -> None:
    """Drop a milestone from the template (recorded progress of cohorts is kept)."""
    if not may_manage(actor, programme):
        _deny()
    version = _editable_version(programme, today or today_utc())
    row = db.session.scalars(sa.select(MilestoneDefinition).filter_by(programme_id=programme.id, version=version,
                                                                      code=code)).first()
    if row is None:
        raise ApprenticeshipError(_("No such milestone."), "code", 404, "not_found")
    in_use = db.session.scalar(sa.select(sa.func.count()).select_from(ApprenticeMilestone)
                               .where(ApprenticeMilestone.definition_id == row.id))
    if in_use:
        raise ApprenticeshipError(_("Cohorts follow this template version; change it after they started."), "code",
                                  409, "in_use")
    db.session.delete(row)
    db.session.flush()


def apply_template(actor, cohort: Cohort, today: dt.date | None = None) -> int:
    """Move a cohort to its programme's current template version; done milestones stay done."""
    if not may_manage(actor, cohort.programme):
        _deny()
    cohort.template_version = cohort.programme.template_version
    defs = cohort.programme.definitions(cohort.template_version)
    for a in cohort.apprentices:
        _sync_plan(a, defs)
    db.session.flush()
    recompute([a.id for a in cohort.apprentices], today=today)
    return len(cohort.apprentices)


def _sync_plan(apprentice: Apprentice, defs: list[MilestoneDefinition]) -> None:
    base = max(apprentice.joined_on, apprentice.cohort.start_date)
    existing = {m.code: m for m in db.session.scalars(sa.select(ApprenticeMilestone)
                                                      .filter_by(apprentice_id=apprentice.id))}
    codes = set()
    for d in defs:
        codes.add(d.code)
        due = base + dt.timedelta(days=d.due_offset_days)
        m = existing.get(d.code)
        if m is None:
            db.session.add(ApprenticeMilestone(apprentice_id=apprentice.id, definition_id=d.id, code=d.code,
                                               due_date=due, status="pending", progress=0.0))
        else:
            m.definition_id, m.due_date, m.retired = d.id, due, False
    for code, m in existing.items():
        if code not in codes:
            m.retired = True  # kept with its history; no longer a target
    db.session.flush()


# --- cohorts and apprentices -------------------------------------------------------------------

def create_cohort(actor, programme: Programme, *, name: str, start_date: dt.date, extension_months: int = 0) -> Cohort:
    if not may_manage(actor, programme):
        _deny()
    if not (name or "").strip():
        raise ApprenticeshipError(_("The name is required."), "name")
    if not isinstance(start_date, dt.date):
        raise ApprenticeshipError(_("A start date is required."), "start_date")
    policy = programme.policy or default_policy()
    if extension_months < 0 or programme.duration_months + extension_months > policy.max_extended_months:
        raise ApprenticeshipError(_("The duration with extension may be at most %(n)s months.",
                                    n=policy.max_extended_months), "extension_months")
    cohort = Cohort(programme_id=programme.id, name=name.strip(), start_date=start_date,
                    extension_months=extension_months, template_version=programme.template_version)
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _mentor_load(user_id: int, column) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Apprentice)
                             .where(column == user_id, Apprentice.left_on.is_(None)))


def add_apprentice(actor, cohort: Cohort, *, user, enterprise_mentor, school_mentor, contract_start: dt.date,
                   contract_end: dt.date, agreement_number: str = "", agreement_signed_on: dt.date | None = None,
                   joined_on: dt.date | None = None, today: dt.date | None = None,
                   backfill: bool = True) -> tuple[Apprentice, list[str]]:
    """Add a member of the enterprise to a cohort with both mentors and the agreement; instantiate the plan."""
    programme = cohort.programme
    if not may_manage(actor, programme):
        _deny()
    policy = programme.policy or default_policy()
    if user is None:
        raise ApprenticeshipError(_("Unknown apprentice."), "user")
    if programme.enterprise_id not in user.organisation_ids():
        raise ApprenticeshipError(_("%(name)s is not a member of the enterprise.", name=user.display_name), "user")
    if enterprise_mentor is None or programme.enterprise_id not in enterprise_mentor.organisation_ids("mentor"):
        raise ApprenticeshipError(_("The enterprise mentor must hold the mentor role in the enterprise."),
                                  "enterprise_mentor")
    if school_mentor is None or programme.school_id not in school_mentor.organisation_ids("mentor", "teacher"):
        raise ApprenticeshipError(_("The school mentor must be a teacher or mentor of the partner school."),
                                  "school_mentor")
    if enterprise_mentor.id == user.id or school_mentor.id == user.id:
        raise ApprenticeshipError(_("An apprentice cannot be their own mentor."), "enterprise_mentor")
    if not isinstance(contract_start, dt.date) or not isinstance(contract_end, dt.date):
        raise ApprenticeshipError(_("The contract dates are required."), "contract_start")
    # A one-year contract from 1 September ends on 31 August: the last day counts.
    if contract_end < add_months(contract_start, policy.min_contract_months) - dt.timedelta(days=1):
        raise ApprenticeshipError(_("The labour contract must run at least %(n)s months.",
                                    n=policy.min_contract_months), "contract_end")
    # Lock the cohort: concurrent additions (the same person twice, or the last free places) are
    # decided one after the other.
    lock_row(cohort)
    if db.session.scalars(sa.select(Apprentice).filter_by(cohort_id=cohort.id, user_id=user.id)).first():
        raise ApprenticeshipError(_("%(name)s is already in this cohort.", name=user.display_name), "user", 409,
                                  "duplicate")
    issues = []
    size = db.session.scalar(sa.select(sa.func.count()).select_from(Apprentice).filter_by(cohort_id=cohort.id))
    if size + 1 > policy.max_per_class:
        issues.append(_("A cohort may have at most %(n)s apprentices.", n=policy.max_per_class))
    for mentor, column in ((enterprise_mentor, Apprentice.enterprise_mentor_id),
                           (school_mentor, Apprentice.school_mentor_id)):
        if _mentor_load(mentor.id, column) + 1 > policy.max_apprentices_per_mentor:
            issues.append(_("%(name)s would mentor more than %(n)s apprentices.", name=mentor.display_name,
                            n=policy.max_apprentices_per_mentor))
    warnings = _apply_policy(policy, issues, "user")
    today = today or today_utc()
    apprentice = Apprentice(cohort_id=cohort.id, user_id=user.id, enterprise_mentor_id=enterprise_mentor.id,
                            school_mentor_id=school_mentor.id, agreement_number=(agreement_number or "").strip(),
                            agreement_signed_on=agreement_signed_on, contract_start=contract_start,
                            contract_end=contract_end,
                            joined_on=max(joined_on or cohort.start_date, cohort.start_date))
    apprentice, created = insert_once(apprentice, lambda: db.session.scalars(
        sa.select(Apprentice).filter_by(cohort_id=cohort.id, user_id=user.id)).first())
    if not created:
        raise ApprenticeshipError(_("%(name)s is already in this cohort.", name=user.display_name), "user", 409,
                                  "duplicate")
    _sync_plan(apprentice, programme.definitions(cohort.template_version))
    if backfill:
        known = db.session.scalar(sa.select(sa.func.count()).select_from(evidence.LearningFact)
                                  .filter_by(user_id=user.id))
        if not known:
            evidence.backfill(user)
    recompute([apprentice.id], today=today)
    return apprentice, warnings


def record_agreement(actor, apprentice: Apprentice, *, signed_on: dt.date, agreement_number: str = "",
                     today: dt.date | None = None) -> None:
    if not may_manage(actor, apprentice.cohort.programme):
        _deny()
    apprentice.agreement_signed_on = signed_on
    if agreement_number:
        apprentice.agreement_number = agreement_number.strip()
    db.session.flush()
    recompute([apprentice.id], today=today)


CSV_COLUMNS = ("login", "enterprise_mentor", "school_mentor", "contract_start", "contract_end", "agreement_number",
               "agreement_signed_on")


@dataclass
class ImportResult:
    added: list[Apprentice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_apprentices(actor, cohort: Cohort, text: str, today: dt.date | None = None) -> ImportResult:
    """Bulk add from CSV (header: ``login,enterprise_mentor,school_mentor,contract_start,contract_end[,
    agreement_number,agreement_signed_on]``). Every line is checked; when any line is wrong nothing
    is added and the errors name the lines."""
    from lms.accounts.models import User

    if not may_manage(actor, cohort.programme):
        _deny()
    result = ImportResult()
    reader = csv.DictReader(io.StringIO((text or "").lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:5] if c not in header]
    if missing:
        result.errors.append(_("Line 1: missing columns: %(cols)s", cols=", ".join(missing)))
        return result

    def find(login):
        login = (login or "").strip().lower()
        if not login:
            return None
        return db.session.scalars(sa.select(User).where(sa.or_(User.email == login, User.mobile == login))).first()

    def date(value, name, line):
        try:
            return dt.date.fromisoformat((value or "").strip())
        except ValueError:
            raise ApprenticeshipError(_("%(col)s is not a date (YYYY-MM-DD)", col=name)) from None

    begin_write()  # on SQLite, keep the SAVEPOINT inside the request's transaction
    savepoint = db.session.begin_nested()
    try:
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
            if not any(row.values()):
                continue
            try:
                user = find(row.get("login"))
                if user is None:
                    raise ApprenticeshipError(_("no user %(login)s", login=row.get("login", "")))
                apprentice, warnings = add_apprentice(
                    actor, cohort, user=user, enterprise_mentor=find(row.get("enterprise_mentor")),
                    school_mentor=find(row.get("school_mentor")),
                    contract_start=date(row.get("contract_start"), "contract_start", line),
                    contract_end=date(row.get("contract_end"), "contract_end", line),
                    agreement_number=row.get("agreement_number", ""),
                    agreement_signed_on=(date(row["agreement_signed_on"], "agreement_signed_on", line)
                                         if row.get("agreement_signed_on") else None), today=today)
                result.added.append(apprentice)
                result.warnings.extend(_("Line %(n)s: %(msg)s", n=line, msg=w) for w in warnings)
            except ApprenticeshipError as exc:
                result.errors.append(_("Line %(n)s: %(msg)s", n=line, msg=exc.message))
        if not result.added and not result.errors:
            result.errors.append(_("The file has no apprentices."))
    except Exception:
        savepoint.rollback()
        raise
    if result.errors:
        savepoint.rollback()
        result.added = []
    else:
        savepoint.commit()
    return result


# --- mentor records ------------------------------------------------------------------------------

def is_mentor_of(user, apprentice: Apprentice) -> bool:
    return getattr(user, "id", None) in (apprentice.enterprise_mentor_id, apprentice.school_mentor_id)


def sign_off(actor, apprentice: Apprentice, *, kind: str = "workplace_task", task_code: str, task_title: str = "",
             comment: str = "", score: float | None = None, approved: bool = True, corrects: SignOff | None = None,
             attachment=None, today: dt.date | None = None) -> SignOff:
    """Record a mentor's sign-off (or a correction of an earlier one); immutable and attributed.

    One effect per intent: the apprentice's row is locked, a record is corrected once (the same
    correction sent again answers with it; a different one is refused with 409), and a sign-off
    identical to one the same mentor just recorded answers with that record.
    """
    if kind not in SIGNOFF_KINDS:
        raise ApprenticeshipError(_("Unknown kind of sign-off."), "kind")
    if actor.id == apprentice.user_id:
        _deny(_("You cannot sign off your own work."))
    if kind == "workplace_task" and actor.id != apprentice.enterprise_mentor_id:
        _deny(_("Only the apprentice's enterprise mentor signs off workplace tasks."))
    if not is_mentor_of(actor, apprentice):
        _deny(_("Only the apprentice's mentors record assessments."))
    task_code = (task_code or "").strip()
    if not task_code or len(task_code) > 100:
        raise ApprenticeshipError(_("The task code is required (at most 100 characters)."), "task_code")
    if kind == "practical_assessment":
        if score is None or not (0 <= score <= 100):
            raise ApprenticeshipError(_("The score must be between 0 and 100."), "score")
    elif score is not None:
        raise ApprenticeshipError(_("Only practical assessments have a score."), "score")
    if corrects is not None and (corrects.apprentice_id != apprentice.id or corrects.kind != kind
                                 or corrects.task_code != task_code):
        raise ApprenticeshipError(_("A correction must refer to a record of the same task."), "corrects")
    if corrects is None and approved is False:
        raise ApprenticeshipError(_("Only a correction can withdraw a sign-off."), "approved")
    comment = (comment or "")[:5000]
    lock_row(apprentice)
    same = dict(kind=kind, task_code=task_code, signed_by_id=actor.id, approved=approved, score=score,
                comment=comment)
    if corrects is not None:
        earlier = _correction_of(corrects)
        if earlier is not None:
            if _same_signoff(earlier, same):
                return earlier
            raise ApprenticeshipError(_("That record was already corrected; correct the latest one."), "corrects",
                                      409, "already_corrected")
    else:
        since = utcnow() - dt.timedelta(seconds=DUPLICATE_SIGNOFF_SECONDS)
        for earlier in db.session.scalars(sa.select(SignOff).where(
                SignOff.apprentice_id == apprentice.id, SignOff.task_code == task_code,
                SignOff.signed_by_id == actor.id, SignOff.corrects_id.is_(None), SignOff.signed_at >= since)):
            if _same_signoff(earlier, same):
                return earlier
    path, name = "", ""
    if attachment is not None and getattr(attachment, "filename", ""):
        path, name = _store_attachment(attachment)
    record = SignOff(apprentice_id=apprentice.id, kind=kind, task_code=task_code, task_title=(task_title or "")[:200],
                     comment=comment, score=score, approved=approved, attachment_path=path,
                     attachment_name=name, signed_by_id=actor.id, signed_at=utcnow(),
                     corrects_id=corrects.id if corrects else None)
    record, created = insert_once(record, lambda: _correction_of(corrects) if corrects is not None else None)
    if not created:
        raise ApprenticeshipError(_("That record was already corrected; correct the latest one."), "corrects", 409,
                                  "already_corrected")
    record.statement_id = _record_signoff_statement(actor, apprentice, record)
    db.session.flush()
    recompute([apprentice.id], today=today)
    send_after_commit(events.signoff_recorded, record)
    return record


def _correction_of(record: SignOff) -> SignOff | None:
    return db.session.scalars(sa.select(SignOff).filter_by(corrects_id=record.id)).first()


def _same_signoff(record: SignOff, fields: dict) -> bool:
    return all(getattr(record, k) == v for k, v in fields.items())


ALLOWED_ATTACHMENTS = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".txt")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _store_attachment(storage) -> tuple[str, str]:
    from werkzeug.utils import secure_filename

    name = os.path.basename(storage.filename or "")
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED_ATTACHMENTS:
        raise ApprenticeshipError(_("Attachments may be PDF, images, Word, Excel or text files."), "attachment")
    data = storage.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ApprenticeshipError(_("The attachment is larger than 10 MB."), "attachment", 413, "too_large")
    rel = os.path.join("apprenticeship", f"{uuid.uuid4().hex}{ext}")
    full = os.path.join(current_app.config["LMS_UPLOAD_DIR"], rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as fh:
        fh.write(data)
    return rel, (secure_filename(name) or f"attachment{ext}")[:200]


def log_hours(actor, apprentice: Apprentice, *, kind: str, hours: float, on_date: dt.date, note: str = "",
              today: dt.date | None = None) -> HoursEntry:
    """A mentor logs workplace or classroom hours (corrections are negative entries)."""
    if not is_mentor_of(actor, apprentice):
        _deny(_("Only the apprentice's mentors log training hours."))
    if kind not in HOURS_KINDS:
        raise ApprenticeshipError(_("Unknown kind of hours."), "kind")
    if not isinstance(hours, (int, float)) or hours == 0 or abs(hours) > 24:
        raise ApprenticeshipError(_("Hours must be between -24 and 24 and not zero."), "hours")
    if not isinstance(on_date, dt.date) or on_date > (today or today_utc()):
        raise ApprenticeshipError(_("The date must not be in the future."), "on_date")
    entry = HoursEntry(apprentice_id=apprentice.id, kind=kind, hours=float(hours), on_date=on_date,
                       note=(note or "")[:300], logged_by_id=actor.id)
    db.session.add(entry)
    db.session.flush()
    recompute([apprentice.id], today=today)
    return entry


# --- status ----------------------------------------------------------------------------------

def status_for(*, met: bool, progress: float, due: dt.date, base: dt.date, today: dt.date) -> str:
    """pending / on_track / at_risk / overdue / done for one unmet-or-met milestone."""
    if met:
        return "done"
    if today > due:
        return "overdue"
    window = max((due - base).days, 1)
    elapsed = min(max((today - base).days / window, 0.0), 1.0)
    if (due - today).days <= AT_RISK_DAYS or elapsed - progress > 0.5:
        return "at_risk"
    return "on_track" if progress > 0 or elapsed > 0 else "pending"


@dataclass
class RecomputeResult:
    changed: int = 0
    done: int = 0
    mails: list[tuple[str, str, str]] = field(default_factory=list)


def recompute(apprentice_ids, *, today: dt.date | None = None, batch: int = 500) -> RecomputeResult:
    """Recompute the milestone status of these apprentices from their evidence (flush only).

    A milestone once done stays done; newly done ones are recorded as xAPI statements; turning
    at risk or overdue notifies the apprentice and both mentors (in-app now, mail returned in
    ``mails`` for the caller to send after commit).
    """
    today = today or today_utc()
    out = RecomputeResult()
    ids = list(dict.fromkeys(apprentice_ids))
    for i in range(0, len(ids), batch):
        chunk = ids[i:i + batch]
        apprentices = db.session.scalars(sa.select(Apprentice).where(Apprentice.id.in_(chunk))
                                         .options(sa.orm.selectinload(Apprentice.cohort)
                                                  .joinedload(Cohort.programme))).all()
        if not apprentices:
            continue
        evs = evidence.collect(apprentices)
        rows = db.session.scalars(sa.select(ApprenticeMilestone).where(ApprenticeMilestone.apprentice_id.in_(chunk),
                                                                       ApprenticeMilestone.retired.is_(False))
                                  .options(sa.orm.joinedload(ApprenticeMilestone.definition))).all()
        by_id = {a.id: a for a in apprentices}
        reached: list[tuple[Apprentice, ApprenticeMilestone]] = []
        for row in rows:
            a = by_id[row.apprentice_id]
            programme = a.cohort.programme
            if row.done_on is not None:
                if row.status != "done":
                    send_after_commit(events.milestone_status_changed, row, old=row.status, new="done")
                    row.status = "done"
                continue
            if a.left_on is not None:
                continue
            met, progress = crit.evaluate(row.definition.criteria, evs[a.id], target_rung=programme.target_rung)
            base = max(a.joined_on, a.cohort.start_date)
            status = status_for(met=met, progress=progress, due=row.due_date, base=base, today=today)
            row.progress = round(progress, 4)
            if status == row.status:
                continue
            old, row.status, row.changed_at = row.status, status, utcnow()
            out.changed += 1
            send_after_commit(events.milestone_status_changed, row, old=old, new=status)
            if status == "done":
                row.done_on = today
                reached.append((a, row))
                out.done += 1
            elif status in ("at_risk", "overdue") and old != status:
                out.mails.extend(_notify(a, row, status))
        if reached:  # one batch of "completed" statements for the milestones reached
            ids = _record_many([_milestone_statement(a, row) for a, row in reached])
            for (_a, row), sid in zip(reached, ids):
                row.statement_id = sid
        db.session.flush()
    return out


def _notify(apprentice: Apprentice, row: ApprenticeMilestone, status: str) -> list[tuple[str, str, str]]:
    mails = []
    title = milestone_title(row.definition)
    label = str(STATUS_LABELS[status])
    for user in (apprentice.user, apprentice.enterprise_mentor, apprentice.school_mentor):
        db.session.add(ApprenticeshipNotification(user_id=user.id, milestone_id=row.id, status=status))
        if user.email:
            subject = _("Apprenticeship milestone %(status)s: %(title)s", status=label, title=title)
            body = _("%(apprentice)s: milestone \"%(title)s\" (due %(due)s) is %(status)s.",
                     apprentice=apprentice.user.display_name, title=title, due=row.due_date.isoformat(), status=label)
            mails.append((user.email, subject, body))
    return mails


def send_mails(mails) -> None:
    """Send notification mails (call after commit)."""
    from lms.core.tasks import send_mail_task

    for to, subject, body in mails:
        send_mail_task.delay(to, subject, body)


def milestone_title(definition: MilestoneDefinition) -> str:
    if definition.title:
        return definition.title
    return str(DEFAULT_TITLES.get(definition.code, definition.code))


def due_check(today: dt.date | None = None) -> RecomputeResult:
    """The daily pass: recompute every apprentice of a cohort that is still running."""
    today = today or today_utc()
    ids = []
    for cohort in db.session.scalars(sa.select(Cohort).where(Cohort.start_date <= today)):
        if cohort.end_date() + dt.timedelta(days=90) >= today:
            ids.extend(db.session.scalars(sa.select(Apprentice.id).filter_by(cohort_id=cohort.id)
                                          .where(Apprentice.left_on.is_(None))))
    return recompute(ids, today=today)


def apprentices_for_users(user_ids) -> list[int]:
    ids = list(user_ids)
    out = []
    for i in range(0, len(ids), 500):
        out.extend(db.session.scalars(sa.select(Apprentice.id).where(Apprentice.user_id.in_(ids[i:i + 500]))))
    return out


def process_statements(statement_ids, voided_ids=()) -> RecomputeResult:
    """The statement-driven path: reduce new statements to facts, retract voided ones, recompute the
    milestones of the apprentices concerned only."""
    from lms.xapi.store import load_statements

    users = evidence.retract(voided_ids)
    ids = list(statement_ids or [])
    for i in range(0, len(ids), 1000):
        users |= evidence.ingest(load_statements(ids[i:i + 1000]))
    if not users:
        return RecomputeResult()
    return recompute(apprentices_for_users(users))


# --- statements ---------------------------------------------------------------------------------

VERB_APPROVED = "http://id.tincanapi.com/verb/approved"


def _record(statement: dict) -> str:
    from lms.xapi.recorder import record

    return record(statement)


def _record_many(statements: list[dict]) -> list[str]:
    from lms.xapi.recorder import record_many

    return record_many(statements)


def _milestone_statement(apprentice: Apprentice, row: ApprenticeMilestone) -> dict:
    from lms.xapi.recorder import actor_for
    from lms.xapi.vocab import VERB_COMPLETED, VERBS, platform_iri

    cohort = apprentice.cohort
    title = milestone_title(row.definition)
    return {
        "actor": actor_for(apprentice.user),
        "verb": VERBS[VERB_COMPLETED],
        "object": {"objectType": "Activity",
                   "id": platform_iri("apprenticeship", "programmes", str(cohort.programme_id), "milestones", row.code),
                   "definition": {"type": "http://adlnet.gov/expapi/activities/objective",
                                  "name": {"zh-CN": title, "en-US": title}}},
        "context": {"contextActivities": {"grouping": [
            {"objectType": "Activity", "id": platform_iri("apprenticeship", "cohorts", str(cohort.id))}]},
            "extensions": {platform_iri("apprenticeship", "extensions", "due-date"): row.due_date.isoformat()}},
    }


def _record_signoff_statement(actor, apprentice: Apprentice, record: SignOff) -> str | None:
    from lms.xapi.recorder import actor_for
    from lms.xapi.vocab import platform_iri, verb

    result = {"success": bool(record.approved)}
    if record.score is not None:
        result["score"] = {"raw": record.score, "min": 0, "max": 100, "scaled": round(record.score / 100, 4)}
    if record.comment:
        result["response"] = record.comment[:1000]
    name = record.task_title or record.task_code
    return _record({
        "actor": actor_for(actor),
        "verb": verb(VERB_APPROVED, "签核", "approved"),
        "object": {"objectType": "Activity",
                   "id": platform_iri("apprenticeship", "apprentices", str(apprentice.id), "tasks", record.task_code),
                   "definition": {"type": "http://adlnet.gov/expapi/activities/performance",
                                  "name": {"zh-CN": name, "en-US": name}}},
        "result": result,
        "context": {"instructor": actor_for(actor),
                    "contextActivities": {"grouping": [
                        {"objectType": "Activity",
                         "id": platform_iri("apprenticeship", "cohorts", str(apprentice.cohort_id))}]},
                    "extensions": {platform_iri("apprenticeship", "extensions", "apprentice"):
                                   str(apprentice.user.uuid),
                                   platform_iri("apprenticeship", "extensions", "signoff"): record.id}},
    })
