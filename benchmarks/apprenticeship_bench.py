"""Benchmark of apprenticeship milestone status for a large cohort.

    .venv/bin/python benchmarks/apprenticeship_bench.py            # 1,000 apprentices, a year of statements
    .venv/bin/python benchmarks/apprenticeship_bench.py --quick    # 100 apprentices, a quarter of that
    .venv/bin/python benchmarks/apprenticeship_bench.py --database-url postgresql://postgres@127.0.0.1:5432/lms_appr_bench

What it does, in-process (no network; an empty SQLite file under a temporary folder by default,
or the PostgreSQL database given, whose schema is dropped and rebuilt by the migrations):

1. seeds an enterprise, a school, 2 x N/8 mentors, N apprentices in one cohort that started a year
   ago, on a programme with the 7 standard milestones plus two that read statements;
2. stores a year of statements per apprentice through the LRS recorder (``--statements`` each,
   with durations and parent activities; commits in batches, so the ``statement stored`` signal
   drives the apprenticeship task exactly as in production: facts, then a recompute of the
   apprentices concerned) and reports the rate of that path;
3. times the full recompute of the cohort's milestone status (every apprentice, every milestone)
   twice: the first pass records the milestones reached (xAPI statements, notifications), the
   second is the steady state; then the daily due-date task;
4. times the cohort dashboard (``GET /competency/apprenticeship/cohorts/<id>``, 100 apprentices
   per page, logged in as the enterprise administrator), its last page, and the API listing the
   whole cohort with its milestone status (``limit=1000``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-Passw0rd!"
ALL_LISTENERS = False
COURSE = "http://bench.example.com/courses/"


def _timed(fn, repeat=1):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 apprentices, 30 statements each")
    parser.add_argument("--apprentices", type=int, default=None)
    parser.add_argument("--statements", type=int, default=None, help="statements per apprentice (a year)")
    parser.add_argument("--database-url", default=os.environ.get("LMS_BENCH_DATABASE_URL", ""))
    parser.add_argument("--all-listeners", action="store_true",
                        help="keep every statement listener (competency engine, forwarding) while loading")
    args = parser.parse_args()
    global ALL_LISTENERS
    ALL_LISTENERS = args.all_listeners
    n = args.apprentices or (100 if args.quick else 1000)
    per = args.statements or (30 if args.quick else 120)

    tmp = tempfile.mkdtemp(prefix="appr-bench-")
    url = args.database_url or "sqlite:///" + os.path.join(tmp, "bench.sqlite3")
    os.environ["LMS_PLUGINS"] = "competency"  # the apprenticeship path only needs the competency plugin
    from lms import create_app
    from lms.accounts.passwords import use_fast_hashing_for_tests
    from lms.testing import _reset_schema

    use_fast_hashing_for_tests()
    _reset_schema(url)
    app = create_app({"INSTANCE_PATH": tmp, "LMS_DATABASE_URL": url, "LMS_LOG_LEVEL": "WARNING",
                      "LMS_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789", "CELERY_BROKER_URL": "",
                      "MAIL_BACKEND": "console", "WTF_CSRF_ENABLED": True})
    figures: list[tuple[str, str]] = [("database", url.split(":", 1)[0]), ("apprentices", str(n)),
                                      ("statements per apprentice", str(per))]
    with app.app_context():
        from lms.core.migrations import upgrade_all

        upgrade_all()
        cohort_id, admin_login, apprentice_ids, users = _seed(n)
        figures += _initial(apprentice_ids)
        figures += _statements(app, users, per)
        figures += _recompute(apprentice_ids)
        figures += _dashboard(app, cohort_id, admin_login, (n + 99) // 100)
    _print(figures)
    return 0


def _seed(n):
    from competency.apprenticeship import operations as ops
    from competency.apprenticeship.models import Apprentice, ApprenticeMilestone, PolicyProfile
    from lms.accounts.models import User
    from lms.organisations.models import Membership
    from lms.core.db import db
    from lms.organisations.operations import add_membership, create_organisation
    from lms.accounts.operations import register_user

    t0 = time.perf_counter()
    ent = create_organisation("基准企业", "enterprise")
    school = create_organisation("基准学院", "institution")
    admin = register_user("bench-admin@example.com", PASSWORD, "基准管理员")
    add_membership(admin, ent, "enterprise_admin")
    # A region's pilot profile: a cohort of 1,000 is beyond the class limit, accepted with warnings.
    policy = PolicyProfile(name="bench", enforce=False, max_per_class=n, max_apprentices_per_mentor=8)
    db.session.add(policy)
    db.session.flush()
    programme, _w = ops.create_programme(admin, title="基准学徒班", enterprise=ent, school=school, target_rung=2,
                                         duration_months=12, hours_per_year=600, online_hours_per_year=150,
                                         policy=policy)
    ops.save_milestone(admin, programme, code="course_a", due_offset_days=90,
                       criteria={"type": "activity_completed", "parent": COURSE + "0", "min": 5})
    ops.save_milestone(admin, programme, code="online_100", due_offset_days=300,
                       criteria={"all": [{"type": "training_hours", "min": 100, "kind": "online"},
                                         {"type": "activity_completed", "parent": COURSE + "1", "min": 3}]})
    start = dt.date.today() - dt.timedelta(days=365)
    cohort = ops.create_cohort(admin, programme, name="基准班", start_date=start)
    hasher_users = []  # apprentices (inserted in bulk: the operations are timed elsewhere)
    mentors, teachers = [], []
    rows = []
    for i in range(n):
        u = User(email=f"bench-{i}@example.com", password_hash="x", real_name=f"学徒{i:04d}")
        hasher_users.append(u)
    for i in range((n + 7) // 8):
        m = User(email=f"bench-mentor-{i}@example.com", password_hash="x", real_name=f"企业导师{i}")
        t = User(email=f"bench-teacher-{i}@example.com", password_hash="x", real_name=f"院校导师{i}")
        mentors.append(m)
        teachers.append(t)
    db.session.add_all(hasher_users + mentors + teachers)
    db.session.flush()
    db.session.add_all([Membership(user_id=u.id, organisation_id=ent.id, role="learner") for u in hasher_users]
                       + [Membership(user_id=m.id, organisation_id=ent.id, role="mentor") for m in mentors]
                       + [Membership(user_id=t.id, organisation_id=school.id, role="teacher") for t in teachers])
    for i, u in enumerate(hasher_users):
        rows.append(Apprentice(cohort_id=cohort.id, user_id=u.id, enterprise_mentor_id=mentors[i // 8].id,
                               school_mentor_id=teachers[i // 8].id, agreement_number=f"B-{i}",
                               agreement_signed_on=start if i % 10 else None, contract_start=start,
                               contract_end=start + dt.timedelta(days=3 * 365), joined_on=start))
    db.session.add_all(rows)
    db.session.flush()
    defs = programme.definitions()
    db.session.execute(sa_insert(ApprenticeMilestone), [
        {"apprentice_id": a.id, "definition_id": d.id, "code": d.code,
         "due_date": start + dt.timedelta(days=d.due_offset_days), "status": "pending", "progress": 0.0,
         "retired": False, "changed_at": ops.utcnow()} for a in rows for d in defs])
    db.session.commit()
    print(f"seeded {n} apprentices in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return cohort.id, admin.email, [a.id for a in rows], hasher_users


def sa_insert(model):
    import sqlalchemy as sa

    return sa.insert(model)


def _initial(apprentice_ids):
    """The seeded cohort started a year ago: its first status pass turns milestones overdue and
    sends the notifications (in-app rows and mails through the eager Celery task)."""
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    t0 = time.perf_counter()
    result = ops.due_check()
    db.session.commit()
    t1 = time.perf_counter()
    sample = result.mails[:200]  # mails go to the broker in production; time a sample in-process
    ops.send_mails(sample)
    t2 = time.perf_counter()
    per_mail = (t2 - t1) / max(len(sample), 1)
    return [("first status pass of the seeded cohort", f"{t1 - t0:.2f} s ({result.changed} changes, "
                                                       f"{len(result.mails)} notification mails queued)"),
            ("  one notification mail (eager Celery, console backend)", f"{per_mail * 1000:.1f} ms")]


def _statements(app, users, per):
    """A year of statements per apprentice through the recorder; the signal drives the apprenticeship task."""
    from lms.core.db import db
    from lms.xapi.recorder import actor_for, record_many

    from competency.apprenticeship import operations as ops

    spent = [0.0]
    original = ops.process_statements

    def timed_process(*a, **kw):  # the apprenticeship share of the statement path
        t = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            spent[0] += time.perf_counter() - t

    ops.process_statements = timed_process
    from competency.apprenticeship.setup import _on_statements_stored
    from lms.core.extension_points import statement_stored

    others = [] if ALL_LISTENERS else [r for r in statement_stored.receivers_for(app) if r is not _on_statements_stored]
    for receiver in others:  # measure the apprenticeship path alone (the engine has its own benchmark)
        statement_stored.disconnect(receiver, sender=app)
    rng = random.Random(7)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365)
    batch_users = 25  # statements of 25 apprentices per transaction (a busy minute of the platform)
    total = 0
    t0 = time.perf_counter()
    for b in range(0, len(users), batch_users):
        items = []
        for u in users[b:b + batch_users]:
            actor = actor_for(u)
            for k in range(per):
                course = COURSE + str(k % 4)
                when = start + dt.timedelta(days=365 * k / per, minutes=rng.randrange(600))
                items.append({"id": str(uuid.uuid4()), "actor": actor,
                              "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
                              "object": {"objectType": "Activity", "id": f"{course}/lesson-{k}"},
                              "result": {"completion": True, "duration": f"PT{rng.randrange(10, 90)}M"},
                              "context": {"contextActivities": {"parent": [{"id": course}]}},
                              "timestamp": when.isoformat()})
        record_many(items)
        db.session.commit()  # -> statement stored -> facts -> recompute of these 25 apprentices
        total += len(items)
    elapsed = time.perf_counter() - t0
    ops.process_statements = original
    for receiver in others:
        statement_stored.connect(receiver, sender=app, weak=False)
    which = "all listeners" if ALL_LISTENERS else "apprenticeship listener only"
    return [(f"statements stored + processed ({which})", f"{total:,} in {elapsed:.1f} s "
                                                             f"({total / elapsed:,.0f}/s)"),
            ("  of which apprenticeship task (facts + recompute)", f"{spent[0]:.1f} s "
                                                                  f"({total / max(spent[0], 1e-9):,.0f} statements/s)")]


def _recompute(apprentice_ids):
    from competency.apprenticeship import operations as ops
    from competency.apprenticeship.models import LearningFact
    from lms.core.db import db
    import sqlalchemy as sa

    facts = db.session.scalar(sa.select(sa.func.count()).select_from(LearningFact))

    def run():
        result = ops.recompute(apprentice_ids)
        db.session.commit()
        return result

    first, t1 = _timed(run)
    second, t2 = _timed(run, repeat=3)
    (_r, t3) = _timed(lambda: (ops.due_check(), db.session.commit()))
    n = len(apprentice_ids)
    return [("learning facts stored", f"{facts:,}"),
            (f"recompute {n} apprentices, pass with changes", f"{t1[0]:.2f} s ({first.changed} status changes)"),
            (f"recompute {n} apprentices, steady state (median of 3)", f"{statistics.median(t2):.2f} s "
                                                                      f"({statistics.median(t2) / n * 1000:.2f} ms each)"),
            ("daily due-date task (whole cohort)", f"{t3[0]:.2f} s")]


def _dashboard(app, cohort_id, admin_login, last_page):
    from lms.accounts.operations import create_api_token
    from lms.accounts.models import User
    from lms.core.db import db
    import sqlalchemy as sa

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"login": admin_login, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code in (302, 303), resp.status_code
    user = db.session.scalars(sa.select(User).filter_by(email=admin_login)).one()
    _row, api = create_api_token(user, "bench")
    db.session.commit()
    headers = {"Authorization": f"Bearer {api}"}
    out = []
    for label, path, kw in (("dashboard page 1 (100 apprentices x 9 milestones)",
                             f"/competency/apprenticeship/cohorts/{cohort_id}", {}),
                            ("dashboard last page", f"/competency/apprenticeship/cohorts/{cohort_id}?page={last_page}", {}),
                            ("dashboard filtered: overdue", f"/competency/apprenticeship/cohorts/{cohort_id}?status=overdue", {}),
                            ("API: whole cohort with status (limit=1000)",
                             f"/api/v1/apprenticeship/cohorts/{cohort_id}?limit=1000", {"headers": headers}),
                            ("enterprise overview", "/competency/apprenticeship/", {})):
        def get(path=path, kw=kw):
            r = client.get(path, **kw)
            assert r.status_code == 200, (path, r.status_code)
            return r

        _timed(get)  # warm up
        _r, times = _timed(get, repeat=5)
        out.append((label, f"{statistics.median(times) * 1000:.0f} ms (median of 5)"))
    return out


def _print(figures):
    width = max(len(k) for k, _ in figures)
    print("\napprenticeship benchmark")
    print("-" * (width + 30))
    for k, v in figures:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    raise SystemExit(main())
