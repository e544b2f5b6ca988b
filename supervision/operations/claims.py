"""Subsidy claims per class: per-person lines computed by the policy, screening before
submission, hits reviewed by officers and answered by institutions.

Amount of a line = catalogue standard x min(1, online hours / total hours) (when the rule
``subsidy.prorate_online`` holds; else the standard), capped so that one person receives at most
``subsidy.max_per_person_year`` in a calendar year across submitted claims. Where the region pays
in steps (``subsidy.stepped_by_employment``), the class's employment rate within
``indicator.employment_months`` decides: below ``subsidy.step_only_employed_below`` only the
employed trainees are paid; from ``subsidy.step_bonus_from`` every amount gets
``subsidy.step_bonus_share`` more (before the cap). Online hours are the
core's study time (:func:`lms.records.study_time.seconds_by_user`) in the class period.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.core.db import db, utcnow
from lms.records import study_time
from supervision.access import is_officer, may_act_for
from supervision.models import Claim, ClaimLine, ClassTrainee, ScreeningHit, TrainingClass
from supervision.operations import SupervisionError, audit, policy, screening

STATUS_LABELS = {"draft": _l("Draft"), "screened": _l("Screened"), "submitted": _l("Submitted")}
HIT_STATE_LABELS = {"open": _l("Open"), "explained": _l("Explained"), "confirmed": _l("Confirmed"),
                    "dismissed": _l("Dismissed")}
CENT = Decimal("0.01")


def _window(cls: TrainingClass) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    since = dt.datetime.combine(cls.start_date, dt.time(), zone).astimezone(dt.timezone.utc)
    until = dt.datetime.combine(cls.end_date + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return since, until


def _already_paid(numbers: list[str], year: int, exclude_claim: int) -> dict[str, Decimal]:
    """Amounts already in submitted claims per ID number for classes ending in ``year``."""
    out: dict[str, Decimal] = {}
    for i in range(0, len(numbers), 500):
        q = (sa.select(ClaimLine.id_number, sa.func.sum(ClaimLine.amount))
             .join(Claim, Claim.id == ClaimLine.claim_id).join(TrainingClass, TrainingClass.id == Claim.class_id)
             .where(ClaimLine.id_number.in_(numbers[i:i + 500]), Claim.status == "submitted", Claim.id != exclude_claim,
                    TrainingClass.end_date >= dt.date(year, 1, 1), TrainingClass.end_date <= dt.date(year, 12, 31))
             .group_by(ClaimLine.id_number))
        for number, total in db.session.execute(q):
            out[number] = Decimal(str(total or 0))
    return out


def compute_lines(claim: Claim) -> None:
    """(Re)compute the claim's lines from the roster, study time and policy (flush only)."""
    cls = claim.training_class
    trainees = db.session.scalars(sa.select(ClassTrainee).where(ClassTrainee.class_id == cls.id)
                                  .order_by(ClassTrainee.id)).all()
    lines = {line.user_id: line for line in claim.lines}
    since, until = _window(cls)
    seconds = study_time.seconds_by_user([t.user_id for t in trainees], since=since, until=until)
    prorate = bool(policy.value("subsidy.prorate_online", cls.end_date))
    cap = Decimal(str(policy.value("subsidy.max_per_person_year", cls.end_date))).quantize(CENT)
    paid = _already_paid([t.id_number for t in trainees], cls.end_date.year, claim.id)
    excluded = {h.user_id for h in claim.hits if h.state == "confirmed"}
    standard = Decimal(str(cls.standard_amount))
    only_employed, bonus = _steps(cls, trainees)
    total = Decimal("0")
    for t in trainees:
        line = lines.get(t.user_id)
        if line is None:
            line = ClaimLine(claim=claim, user_id=t.user_id)
            db.session.add(line)
        line.id_number, line.real_name = t.id_number, t.real_name
        line.online_seconds = float(seconds.get(t.user_id, 0.0))
        line.online_hours = study_time.study_hours_of_seconds(line.online_seconds)
        share = min(Decimal("1"), Decimal(line.online_hours) / Decimal(str(cls.total_hours))) \
            if prorate and cls.total_hours else Decimal("1")
        line.base_amount = (standard * share).quantize(CENT, rounding=ROUND_HALF_UP)
        room = max(Decimal("0"), cap - paid.get(t.id_number, Decimal("0")))
        line.excluded = t.user_id in excluded
        stepped = line.base_amount * (1 + bonus)
        if only_employed is not None and t.user_id not in only_employed:
            stepped = Decimal("0")
        line.amount = Decimal("0") if line.excluded else min(stepped.quantize(CENT, rounding=ROUND_HALF_UP), room)
        total += line.amount
    claim.total_amount = total
    db.session.flush()


def _steps(cls: TrainingClass, trainees) -> tuple[set[int] | None, Decimal]:
    """``(user ids paid when only the employed are, else None; bonus share)`` by the region's steps."""
    from supervision.operations.indicators import add_months

    if not policy.value("subsidy.stepped_by_employment", cls.end_date):
        return None, Decimal("0")
    months = int(policy.value("indicator.employment_months", cls.end_date))
    limit = add_months(cls.end_date, months)
    counted = [t for t in trainees if t.in_denominator]
    employed = {t.user_id for t in trainees if t.employed_on is not None and t.employed_on <= limit}
    rate = len([t for t in counted if t.user_id in employed]) / len(counted) if counted else 0.0
    if rate < float(policy.value("subsidy.step_only_employed_below", cls.end_date)):
        return employed, Decimal("0")
    if rate >= float(policy.value("subsidy.step_bonus_from", cls.end_date)):
        return None, Decimal(str(policy.value("subsidy.step_bonus_share", cls.end_date)))
    return None, Decimal("0")


def prepare(by, class_id: int) -> Claim:
    """The institution prepares the claim of a class (one per class, even under parallel requests)."""
    cls = db.session.get(TrainingClass, class_id)
    if cls is None or not may_act_for(by, cls.organisation_id):
        raise SupervisionError(_l("No such class."), status=404)
    if cls.status not in ("open", "completed"):
        raise SupervisionError(_l("Only an opened class can be claimed for."), status=409)
    existing = db.session.scalars(sa.select(Claim).where(Claim.class_id == cls.id)).first()
    if existing is not None:
        return existing
    claim = Claim(class_id=cls.id, organisation_id=cls.organisation_id, created_by_id=by.id, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(claim)
    except sa.exc.IntegrityError:
        return db.session.scalars(sa.select(Claim).where(Claim.class_id == cls.id)).one()
    compute_lines(claim)
    audit.log(by, "claim.prepared", "claim", claim.id, organisation_id=cls.organisation_id,
              summary=f"{cls.name}: {claim.total_amount}")
    return claim


def screen(by, claim_id: int) -> Claim:
    """Run every screening rule on the claim (the institution or an officer; not once submitted).
    Hits found again keep their state and notes; open hits no longer found are dropped."""
    claim = db.session.get(Claim, claim_id)
    if claim is None or not (may_act_for(by, claim.organisation_id) or is_officer(by)):
        raise SupervisionError(_l("No such claim."), status=404)
    if claim.status == "submitted":
        raise SupervisionError(_l("A submitted claim cannot be screened again."), status=409)
    compute_lines(claim)
    found = screening.run(claim)
    existing = {(h.user_id, h.rule): h for h in claim.hits}
    for key, hit in existing.items():
        if key not in found and hit.state == "open":
            db.session.delete(hit)
    for (uid, rule), evidence in found.items():
        hit = existing.get((uid, rule))
        if hit is None:
            db.session.add(ScreeningHit(claim_id=claim.id, user_id=uid, rule=rule, evidence=evidence,
                                        created_at=utcnow()))
        elif hit.state == "open":
            hit.evidence = evidence
    claim.status = "screened"
    claim.screened_at = utcnow()
    db.session.flush()
    db.session.expire(claim, ["hits"])
    audit.log(by, "claim.screened", "claim", claim.id, organisation_id=claim.organisation_id,
              summary=f"{claim.training_class.name}: {len(found)}", hits=len(found))
    return claim


def submit(by, claim_id: int) -> Claim:
    """Submit a screened claim with no open hits. Exactly one submission counts."""
    claim = db.session.get(Claim, claim_id)
    if claim is None or not may_act_for(by, claim.organisation_id):
        raise SupervisionError(_l("No such claim."), status=404)
    open_hits = db.session.scalar(sa.select(sa.func.count()).select_from(ScreeningHit).where(
        ScreeningHit.claim_id == claim.id, ScreeningHit.state == "open"))
    if open_hits:
        raise SupervisionError(_l("Answer or resolve every open screening hit first."), status=409)
    now = utcnow()
    done = db.session.execute(sa.update(Claim).where(Claim.id == claim.id, Claim.status == "screened")
                              .values(status="submitted", submitted_at=now, submitted_by_id=by.id)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(claim)
    if done != 1:
        raise SupervisionError(_l("Screen the claim before submitting it (or it was submitted already)."), status=409)
    audit.log(by, "claim.submitted", "claim", claim.id, organisation_id=claim.organisation_id,
              summary=f"{claim.training_class.name}: {claim.total_amount}")
    return claim


def answer_hit(by, hit_id: int, response: str) -> ScreeningHit:
    """The institution explains a hit (open -> explained)."""
    hit = db.session.get(ScreeningHit, hit_id)
    if hit is None or not may_act_for(by, hit.claim.organisation_id):
        raise SupervisionError(_l("No such screening hit."), status=404)
    response = (response or "").strip()
    if not response:
        raise SupervisionError(_l("Write the explanation."), "response")
    if hit.state not in ("open", "explained") or hit.claim.status == "submitted":
        raise SupervisionError(_l("This hit has been reviewed already."), status=409)
    hit.response = response[:4000]
    hit.state = "explained"
    db.session.flush()
    audit.log(by, "hit.answered", "hit", hit.id, organisation_id=hit.claim.organisation_id,
              summary=str(screening.RULES[hit.rule][0]))
    return hit


def review_hit(by, hit_id: int, state: str, note: str) -> ScreeningHit:
    """An officer confirms (the line is excluded) or dismisses (a false positive) a hit, or marks
    it explained, with a note."""
    if not is_officer(by):
        raise SupervisionError(_l("Only an authority officer may do this."), status=403)
    hit = db.session.get(ScreeningHit, hit_id)
    if hit is None:
        raise SupervisionError(_l("No such screening hit."), status=404)
    if state not in ("explained", "confirmed", "dismissed"):
        raise SupervisionError(_l("Choose a decision."), "state")
    note = (note or "").strip()
    if not note:
        raise SupervisionError(_l("Write the reviewer's note."), "note")
    hit.state, hit.note, hit.reviewed_by_id, hit.reviewed_at = state, note[:4000], by.id, utcnow()
    db.session.flush()
    if hit.claim.status != "submitted":
        db.session.expire(hit.claim, ["hits"])
        compute_lines(hit.claim)
    audit.log(by, "hit.reviewed", "hit", hit.id, organisation_id=hit.claim.organisation_id,
              summary=f"{screening.RULES[hit.rule][0]}: {HIT_STATE_LABELS[state]}", state=state)
    return hit


def false_positive_counts() -> dict[str, dict[str, int]]:
    """Per rule: hits by state (dismissals are the false positives)."""
    out: dict[str, dict[str, int]] = {}
    for rule, state, n in db.session.execute(sa.select(ScreeningHit.rule, ScreeningHit.state, sa.func.count())
                                             .group_by(ScreeningHit.rule, ScreeningHit.state)):
        out.setdefault(rule, {}).update({state: n})
    return out
