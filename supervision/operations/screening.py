"""Screening of a claim before it can be submitted: each rule returns hits with their evidence.

Rules (codes), each a function ``rule(ctx) -> [(user_id | None, evidence values)]``:

* ``unverified_real_name`` -- no real-name check of the trainee's current ID number;
* ``duplicate_claim``      -- the same ID number in another claim for the same occupation and level;
* ``concurrent_classes``   -- the same ID number on the roster of another class running at the same time;
* ``exclusion_list``       -- the ID number is on an imported pension-recipient, student or payroll list;
* ``daily_hours``          -- more study time in one day than the policy's hours per day (the core's
                              study-time rule applied to that day);
* ``overlapping_sessions`` -- two study sessions of one learner overlapping in time;
* ``untrusted_source``     -- study time reported by sources the trust policy does not accept;
* ``bulk_completion``      -- (the whole class) four fifths or more of a class of ten or more
                              completing within the policy's minutes: completions entered in bulk.

Study time is always the core's (:mod:`lms.records.study_time`); the pattern rules read the fact
rows' timestamps, durations and provenance, never the statements.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.records import study_time, trust
from lms.records.identity import key_hash, platform_key
from lms.records.models import StatementFact
from supervision.models import (Claim, ClaimLine, ClassTrainee, RealNameCheck, TrainingClass,
                                WatchlistEntry)
from supervision.operations import policy

#: code -> (title, evidence text with %(name)s placeholders)
RULES: dict[str, tuple[object, object]] = {
    "unverified_real_name": (_l("Real name not verified"),
                             _l("No real-name check of ID number %(id)s is on record.")),
    "duplicate_claim": (_l("Claimed twice for one occupation and level"),
                        _l("Also claimed in class %(class)s of %(institution)s (same occupation and level).")),
    "concurrent_classes": (_l("In two classes at once"),
                           _l("Also on the roster of class %(class)s of %(institution)s, %(start)s to %(end)s.")),
    "bulk_completion": (_l("Completions in bulk"),
                        _l("%(count)s of %(enrolled)s trainees completed within %(minutes)s minutes (%(first)s).")),
    "exclusion_list": (_l("On an exclusion list"),
                       _l("Listed as: %(lists)s.")),
    "daily_hours": (_l("Too many study hours in a day"),
                    _l("%(hours)s study hours on %(day)s (the policy allows %(limit)s).")),
    "overlapping_sessions": (_l("Overlapping study sessions"),
                             _l("Sessions %(first)s and %(second)s overlap by %(minutes)s minutes.")),
    "untrusted_source": (_l("Study time from sources not trusted"),
                         _l("%(count)s reports with %(hours)s hours from %(sources)s, which the trust policy does not "
                            "accept for study time.")),
}
LIST_LABELS = {"pension": _l("pension recipient"), "student": _l("full-time student"),
               "payroll": _l("public payroll")}


def evidence_text(rule: str, values: dict) -> str:
    """The evidence of a hit in the reader's language."""
    values = dict(values or {})
    if rule == "exclusion_list":
        values["lists"] = ", ".join(str(LIST_LABELS.get(k, k)) for k in values.get("lists", []))
    try:
        return str(RULES[rule][1]) % values
    except (KeyError, TypeError, ValueError):
        return str(RULES.get(rule, (rule, ""))[0])


@dataclass
class Context:
    claim: Claim
    cls: TrainingClass
    lines: list[ClaimLine]
    zone: ZoneInfo
    since: dt.datetime
    until: dt.datetime
    _facts: dict | None = field(default=None, repr=False)

    @property
    def user_ids(self) -> list[int]:
        return [line.user_id for line in self.lines]

    def facts(self) -> dict[int, list]:
        """Fact rows with a duration, per user, in the class period (every source, not voided):
        ``(learner_hash, registration, session, duration, occurred_at, source_policy, source_label,
        statement_id, time_class)``."""
        if self._facts is None:
            from lms.accounts.models import User
            from lms.records.models import LearnerIdentity

            owner: dict[str, int] = {}
            ids = self.user_ids
            for i in range(0, len(ids), 500):
                for user in db.session.scalars(sa.select(User).where(User.id.in_(ids[i:i + 500]))):
                    owner[key_hash(platform_key(user))] = user.id
                for uid, digest in db.session.execute(sa.select(LearnerIdentity.user_id, LearnerIdentity.key_hash)
                                                      .where(LearnerIdentity.user_id.in_(ids[i:i + 500]))):
                    owner[digest] = uid
            out: dict[int, list] = defaultdict(list)
            hashes = list(owner)
            for i in range(0, len(hashes), 500):
                q = (sa.select(StatementFact.learner_hash, StatementFact.registration, StatementFact.session,
                               StatementFact.duration, StatementFact.occurred_at, StatementFact.source_policy,
                               StatementFact.source_label, StatementFact.statement_id, StatementFact.time_class)
                     .where(StatementFact.learner_hash.in_(hashes[i:i + 500]), StatementFact.voided.is_(False),
                            StatementFact.time_class != "none", StatementFact.duration > 0,
                            StatementFact.occurred_at >= self.since, StatementFact.occurred_at < self.until))
                for row in db.session.execute(q):
                    out[owner[row[0]]].append(row)
            self._facts = out
        return self._facts


def context(claim: Claim) -> Context:
    cls = claim.training_class
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    since = dt.datetime.combine(cls.start_date, dt.time(), zone).astimezone(dt.timezone.utc)
    until = dt.datetime.combine(cls.end_date + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    return Context(claim, cls, list(claim.lines), zone, since, until)


def _unverified(ctx: Context):
    checked = set(db.session.execute(sa.select(RealNameCheck.user_id, RealNameCheck.id_number).where(
        RealNameCheck.user_id.in_(ctx.user_ids or [-1]))).all())
    from lms.accounts.idcard import mask

    return [(line.user_id, {"id": mask(line.id_number)}) for line in ctx.lines
            if (line.user_id, line.id_number) not in checked]


def _other_rosters(ctx: Context):
    from lms.organisations.models import Organisation

    numbers = [line.id_number for line in ctx.lines if line.id_number]
    rows = []
    for i in range(0, len(numbers), 500):
        rows += db.session.execute(
            sa.select(ClassTrainee.id_number, TrainingClass, Organisation.name)
            .join(TrainingClass, TrainingClass.id == ClassTrainee.class_id)
            .join(Organisation, Organisation.id == TrainingClass.organisation_id)
            .where(ClassTrainee.id_number.in_(numbers[i:i + 500]), TrainingClass.id != ctx.cls.id,
                   TrainingClass.status.in_(("open", "completed")))).all()
    return rows


def _duplicate_claim(ctx: Context):
    from lms.organisations.models import Organisation

    numbers = [line.id_number for line in ctx.lines if line.id_number]
    found: dict[str, dict] = {}
    for i in range(0, len(numbers), 500):
        q = (sa.select(ClaimLine.id_number, TrainingClass.name, Organisation.name)
             .join(Claim, Claim.id == ClaimLine.claim_id)
             .join(TrainingClass, TrainingClass.id == Claim.class_id)
             .join(Organisation, Organisation.id == TrainingClass.organisation_id)
             .where(ClaimLine.id_number.in_(numbers[i:i + 500]), Claim.id != ctx.claim.id,
                    ClaimLine.excluded.is_(False), TrainingClass.occupation_code == ctx.cls.occupation_code,
                    TrainingClass.level == ctx.cls.level)
             .order_by(Claim.id))
        for number, cname, oname in db.session.execute(q):
            found.setdefault(number, {"class": cname, "institution": oname})
    return [(line.user_id, found[line.id_number]) for line in ctx.lines if line.id_number in found]


def _concurrent(ctx: Context):
    found: dict[str, dict] = {}
    for number, other, oname in _other_rosters(ctx):
        if other.start_date <= ctx.cls.end_date and ctx.cls.start_date <= other.end_date:
            found.setdefault(number, {"class": other.name, "institution": oname, "start": other.start_date.isoformat(),
                                      "end": other.end_date.isoformat()})
    return [(line.user_id, found[line.id_number]) for line in ctx.lines if line.id_number in found]


def _exclusion(ctx: Context):
    numbers = [line.id_number for line in ctx.lines if line.id_number]
    lists: dict[str, set] = defaultdict(set)
    for i in range(0, len(numbers), 500):
        for number, kind in db.session.execute(sa.select(WatchlistEntry.id_number, WatchlistEntry.list_kind).where(
                WatchlistEntry.id_number.in_(numbers[i:i + 500]))):
            lists[number].add(kind)
    return [(line.user_id, {"lists": sorted(lists[line.id_number])}) for line in ctx.lines if line.id_number in lists]


def _daily_hours(ctx: Context):
    """The core's study-time rule (:func:`lms.records.study_time.seconds_from_rows`, trusted sources
    only, its per-statement cap) applied to each day of each trainee, without the daily cap: a day
    with more than the policy's hours is flagged."""
    limit = float(policy.value("screen.max_daily_hours", ctx.cls.end_date))
    allowed = set(trust.allowed_sources("study_time"))
    max_statement = trust.limit("study_time.max_statement_seconds")
    out = []
    for uid, rows in sorted(ctx.facts().items()):
        by_day: dict[dt.date, list] = defaultdict(list)
        for row in rows:
            if row[5] in allowed:
                by_day[row[4].astimezone(ctx.zone).date()].append((row[1], row[2], row[8], row[3], row[4]))
        worst = None
        for day, day_rows in sorted(by_day.items()):
            hours = study_time.seconds_from_rows(day_rows, max_statement=max_statement, max_daily=float("inf"),
                                                 zone=ctx.zone) / 3600
            if hours > limit and (worst is None or hours > worst[0]):
                worst = (hours, day)
        if worst:
            out.append((uid, {"hours": f"{worst[0]:.1f}", "day": worst[1].isoformat(), "limit": f"{limit:g}"}))
    return out


def _overlaps(ctx: Context):
    threshold = float(policy.value("screen.overlap_minutes", ctx.cls.end_date)) * 60
    out = []
    for uid, rows in sorted(ctx.facts().items()):
        intervals = []
        for _h, registration, session, seconds, at, _policy, _label, sid, _kind in rows:
            key = session or (str(registration) if registration else str(sid))
            intervals.append((at - dt.timedelta(seconds=float(seconds)), at, key))
        intervals.sort(key=lambda x: (x[0], x[1]))
        best = None
        for i, (s1, e1, k1) in enumerate(intervals):
            for s2, e2, k2 in intervals[i + 1:]:
                if s2 >= e1:
                    break
                if k1 == k2:
                    continue
                overlap = (min(e1, e2) - s2).total_seconds()
                if overlap > threshold and (best is None or overlap > best[0]):
                    best = (overlap, (s1, e1), (s2, e2))
        if best:
            fmt = lambda r: f"{r[0].astimezone(ctx.zone):%m-%d %H:%M}–{r[1].astimezone(ctx.zone):%H:%M}"  # noqa: E731
            out.append((uid, {"first": fmt(best[1]), "second": fmt(best[2]), "minutes": int(best[0] // 60)}))
    return out


def _untrusted(ctx: Context):
    allowed = set(trust.allowed_sources("study_time"))
    out = []
    for uid, rows in sorted(ctx.facts().items()):
        bad = [r for r in rows if r[5] not in allowed]
        if bad:
            labels = sorted({r[6] or r[5] for r in bad})
            out.append((uid, {"count": len(bad), "hours": f"{sum(float(r[3]) for r in bad) / 3600:.1f}",
                              "sources": ", ".join(labels)}))
    return out


def _bulk_completion(ctx: Context):
    minutes = float(policy.value("screen.bulk_minutes", ctx.cls.end_date))
    times = sorted(t for (t,) in db.session.execute(sa.select(ClassTrainee.completed_at).where(
        ClassTrainee.class_id == ctx.cls.id, ClassTrainee.in_denominator.is_(True),
        ClassTrainee.completed_at.is_not(None))))
    enrolled = ctx.cls.enrolled_at_opening
    need = max(10, -(-4 * enrolled // 5))  # four fifths, rounded up; never fewer than ten
    if enrolled < 10 or len(times) < need:
        return []
    window = dt.timedelta(minutes=minutes)
    best, first = 0, None
    lo = 0
    for hi, at in enumerate(times):
        while at - times[lo] > window:
            lo += 1
        if hi - lo + 1 > best:
            best, first = hi - lo + 1, times[lo]
    if best < need:
        return []
    return [(None, {"count": best, "enrolled": enrolled, "minutes": f"{minutes:g}",
                    "first": first.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M")})]


CHECKS = {"unverified_real_name": _unverified, "duplicate_claim": _duplicate_claim,
          "concurrent_classes": _concurrent, "exclusion_list": _exclusion, "daily_hours": _daily_hours,
          "overlapping_sessions": _overlaps, "untrusted_source": _untrusted,
          "bulk_completion": _bulk_completion}


def run(claim: Claim) -> dict[tuple[int | None, str], dict]:
    """Every hit of a claim: ``{(user id, rule): evidence values}``."""
    ctx = context(claim)
    found: dict[tuple[int | None, str], dict] = {}
    for code, check in CHECKS.items():
        for uid, evidence in check(ctx):
            found[(uid, code)] = evidence
    return found
