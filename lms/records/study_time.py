"""Study time (学时): the one rule, read by the course page, the apprentice page, the subsidy
export and the API alike.

Every statement's ``result.duration`` is classified when its fact is written
(:func:`lms.records.facts.time_class`):

* **session** -- statements of one study session: a launch of external content by the platform
  (one launch = one session) or a cmi5 session (``context.extensions`` ``sessionid``). Within a
  session every duration is time since the session began (cmi5: ``terminated`` carries the session,
  ``passed``/``completed`` the time so far), so the session counts its **largest** duration once.
  For launched content that duration is also bounded by the time the server observed between the
  launch and the content's request.
* **increment** -- ``progressed``, ``terminated``, ``passed``, ``failed`` outside a session: time
  spent since the previous report (the platform's video reports, a quiz attempt's time, another
  system's session). Increments are **added**.
* **total** -- ``completed`` from another system outside a session: a total that repeats the
  increments before it. Per registration it counts only for what it **exceeds** the increments
  already counted in that registration. The platform's own ``completed`` statements repeat time
  it recorded as increments and never count.
* everything else (``experienced``, ``answered``, ...) does not count.

Then the policy (:mod:`lms.records.trust`, data): only sources trusted for ``study_time`` count;
no statement counts more than ``study_time.max_statement_seconds``; no learner more than
``study_time.max_daily_seconds`` per calendar day in ``BABEL_DEFAULT_TIMEZONE`` (Asia/Shanghai).
Voided statements never count. A learner's statements under every identity linked to them count
as one learner.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from lms.core.db import db
from lms.records import durations, trust
from lms.records.identity import key_hash, keys_of_user

__all__ = ["seconds_of_user", "seconds_by_user", "seconds_from_rows", "hours", "study_hours_of_seconds"]


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


def seconds_from_rows(rows, *, max_statement: float, max_daily: float, zone: ZoneInfo) -> float:
    """The rule applied to fact rows ``(registration, session, time_class, duration, occurred_at)``
    of one learner (already filtered by trust and voiding). Pure: property tests call it."""
    per_day: dict[dt.date, float] = defaultdict(float)
    increments: dict[object, float] = defaultdict(float)
    # the largest duration, the earliest statement on ties (so the order of arrival never matters)
    totals: dict[object, tuple[float, dt.datetime]] = {}
    sessions: dict[tuple, tuple[float, dt.datetime]] = {}

    def larger(new: tuple, old: tuple | None) -> bool:
        return old is None or new[0] > old[0] or (new[0] == old[0] and new[1] < old[1])

    for registration, session, kind, seconds, occurred_at in rows:
        seconds = min(max(float(seconds or 0.0), 0.0), max_statement)
        if seconds <= 0:
            continue
        day = occurred_at.astimezone(zone).date()
        if kind == "increment":
            increments[registration] += seconds
            per_day[day] += seconds
        elif kind == "total":
            if larger((seconds, occurred_at), totals.get(registration)):
                totals[registration] = (seconds, occurred_at)
        elif kind == "session":
            key = (registration, session)
            if larger((seconds, occurred_at), sessions.get(key)):
                sessions[key] = (seconds, occurred_at)
    for registration, (seconds, at) in totals.items():
        extra = seconds - increments.get(registration, 0.0)
        if extra > 0:
            per_day[at.astimezone(zone).date()] += extra
    for seconds, at in sessions.values():
        per_day[at.astimezone(zone).date()] += seconds
    return float(sum(min(v, max_daily) for v in per_day.values()))


def _rows(hashes: list[str], *, registration=None, since=None, until=None):
    from lms.records.models import StatementFact

    allowed = trust.allowed_sources("study_time")
    if not hashes or not allowed:
        return []
    out = []
    for i in range(0, len(hashes), 500):
        stmt = (sa.select(StatementFact.learner_hash, StatementFact.registration, StatementFact.session,
                          StatementFact.time_class, StatementFact.duration, StatementFact.occurred_at)
                .where(StatementFact.learner_hash.in_(hashes[i:i + 500]), StatementFact.voided.is_(False),
                       StatementFact.time_class != "none", StatementFact.source_policy.in_(allowed)))
        if registration is not None:
            stmt = stmt.where(StatementFact.registration == registration)
        if since is not None:
            stmt = stmt.where(StatementFact.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(StatementFact.occurred_at < until)
        out += list(db.session.execute(stmt))
    return out


def _limits():
    return dict(max_statement=trust.limit("study_time.max_statement_seconds"),
                max_daily=trust.limit("study_time.max_daily_seconds"), zone=_zone())


def seconds_of_user(user, *, registration=None, since: dt.datetime | None = None,
                    until: dt.datetime | None = None) -> float:
    """Study seconds credited to ``user`` (optionally in one registration, i.e. one enrolment, and
    a time window ``[since, until)``)."""
    hashes = [key_hash(k) for k in keys_of_user(user)]
    rows = _rows(hashes, registration=registration, since=since, until=until)
    return seconds_from_rows([r[1:] for r in rows], **_limits())


def seconds_by_user(user_ids, *, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[int, float]:
    """``{user id: study seconds}`` for many users at once (apprentice lists, subsidy exports)."""
    from lms.records.identity import key_hashes_of_users

    ids = list(dict.fromkeys(user_ids))
    owner = key_hashes_of_users(ids)
    grouped: dict[int, list] = defaultdict(list)
    for row in _rows(list(owner), since=since, until=until):
        grouped[owner[row[0]]].append(row[1:])
    limits = _limits()
    return {uid: seconds_from_rows(grouped.get(uid, []), **limits) for uid in ids}


def study_hours_of_seconds(seconds: float) -> Decimal:
    """Study hours (学时) for ``seconds``, rounded down to one decimal (``LMS_STUDY_HOUR_MINUTES``)."""
    minutes = int(current_app.config.get("LMS_STUDY_HOUR_MINUTES") or durations.DEFAULT_STUDY_HOUR_MINUTES)
    return durations.study_hours(seconds, minutes)


def hours(user, **kw) -> Decimal:
    """Study hours of ``user`` (same keywords as :func:`seconds_of_user`)."""
    return study_hours_of_seconds(seconds_of_user(user, **kw))
