"""Benchmark of the supervision dashboard queries and of screening a class's subsidy claim.

    .venv/bin/python benchmarks/supervision_bench.py            # 100,000 enrolments, a 1,000-person class screened
    .venv/bin/python benchmarks/supervision_bench.py --quick    # 10,000 enrolments, a 200-person class
    .venv/bin/python benchmarks/supervision_bench.py --enrolments 1000000 --database-url postgresql://...

What it does, in-process (an empty SQLite file under a temporary folder by default, or the
PostgreSQL database given, whose schema is dropped and rebuilt by the migrations):

1. seeds 50 institutions in 10 regions, each with classes of 40 trainees over 5 occupations and
   3 levels until ``--enrolments`` roster rows exist (bulk inserts: the operations are timed
   elsewhere), with outcomes (completed, passed, employed) and one indicator row per class, as the
   incremental path leaves them;
2. times the dashboard query (indicators per institution x occupation x level) unfiltered, by
   region, by occupation and level, and by period: 20 runs each, median and p95;
3. builds one class of ``--class-size`` trainees with ``--facts`` study statements each stored
   through the LRS (facts written in the same transaction, as in production), a pension list and
   real-name checks, and times preparing and screening its claim (every rule).

``--background-facts N`` (PostgreSQL only) first loads N statements of 100,000 other learners,
with their fact rows, straight into the tables with COPY, so screening runs against a large fact
table (it reads the class's learners through the learner index).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OCCUPATIONS = ("6-31-01-03", "4-04-05-05", "6-29-01-01", "4-10-01-02", "6-18-01-01")


def _id_number(n: int) -> str:
    from lms.accounts.idcard import check_character

    first17 = f"3201{n // 1000 % 100:02d}1990{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + check_character(first17)


def _timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def _seed(enrolments: int) -> None:
    import sqlalchemy as sa

    from lms.core.db import db, utcnow
    from lms.organisations.models import Organisation
    from supervision.models import ClassIndicator, ClassTrainee, TrainingClass

    rng = random.Random(13)
    t0 = time.perf_counter()
    orgs = [Organisation(name=f"基准培训学校{i:02d}", kind="institution", region=f"地区{i % 10}") for i in range(50)]
    db.session.add_all(orgs)
    db.session.flush()
    # trainees are users; one account per 4 roster rows (people train more than once)
    people = max(enrolments // 4, 1)
    users = sa.table("users", sa.column("id"), sa.column("uuid"), sa.column("email"), sa.column("password_hash"),
                     sa.column("real_name"), sa.column("id_card_number"), sa.column("locale"),
                     sa.column("is_system_admin"), sa.column("is_active_account"), sa.column("created_at"),
                     sa.column("session_version"))
    now = utcnow()
    for i in range(0, people, 5000):
        db.session.execute(users.insert(), [
            {"uuid": str(uuid.uuid4()) if db.engine.dialect.name == "sqlite" else uuid.uuid4(),
             "email": f"bench-{j}@example.com", "password_hash": "x", "real_name": f"学员{j}",
             "id_card_number": _id_number(j), "locale": "", "is_system_admin": False, "is_active_account": True,
             "created_at": now, "session_version": 1} for j in range(i, min(i + 5000, people))])
    user_ids = db.session.scalars(sa.select(sa.column("id")).select_from(sa.table("users"))
                                  .where(sa.column("email").like("bench-%"))).all()
    size, classes, made = 40, [], 0
    start = dt.date.today() - dt.timedelta(days=400)
    while made < enrolments:
        org = orgs[len(classes) % len(orgs)]
        end = start + dt.timedelta(days=rng.randrange(20, 360))
        classes.append(TrainingClass(organisation_id=org.id, entry_key=f"SUB-B-{len(classes)}",
                                     occupation_code=OCCUPATIONS[len(classes) % 5], level=1 + len(classes) % 3,
                                     total_hours=40, standard_amount=1500, name=f"基准班{len(classes)}",
                                     start_date=end - dt.timedelta(days=20), end_date=end, status="completed",
                                     opened_at=now, enrolled_at_opening=min(size, enrolments - made), created_at=now))
        made += size
    db.session.add_all(classes)
    db.session.flush()
    rows, indicators = [], []
    k = 0
    for cls in classes:
        counts = dict(enrolled=0, completed=0, passed=0, employed_2m=0, employed_6m=0, employed_12m=0,
                      entrepreneurs=0)
        for _ in range(cls.enrolled_at_opening):
            uid = user_ids[k % len(user_ids)]
            k += 1
            completed = rng.random() < 0.8
            passed = completed and rng.random() < 0.7
            employed = cls.end_date + dt.timedelta(days=rng.randrange(0, 400)) if rng.random() < 0.6 else None
            rows.append({"class_id": cls.id, "user_id": uid, "id_number": _id_number(k % len(user_ids)),
                         "real_name": "", "in_denominator": True, "added_after_opening": False,
                         "completed_at": now if completed else None, "passed_at": now if passed else None,
                         "employed_on": employed, "business_on": None, "refreshed_at": now, "created_at": now})
            counts["enrolled"] += 1
            counts["completed"] += completed
            counts["passed"] += passed
            if employed:
                days = (employed - cls.end_date).days
                counts["employed_2m"] += days <= 61
                counts["employed_6m"] += days <= 183
                counts["employed_12m"] += days <= 366
        indicators.append({"class_id": cls.id, "organisation_id": cls.organisation_id,
                           "occupation_code": cls.occupation_code, "level": cls.level, "end_date": cls.end_date,
                           "computed_at": now, "extra": {}, **counts})
        if len(rows) >= 20000:
            db.session.execute(sa.insert(ClassTrainee), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(ClassTrainee), rows)
    db.session.execute(sa.insert(ClassIndicator), indicators)
    db.session.commit()
    print(f"seeded {enrolments} enrolments in {len(classes)} classes in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)


def _dashboard(repeat: int) -> list[tuple[str, str]]:
    from lms.core.db import db
    from supervision.operations import indicators

    out = []
    since = dt.date.today() - dt.timedelta(days=200)
    for label, kw in (("unfiltered", {}), ("one region", {"region": "地区3"}),
                      ("occupation + level", {"occupation": OCCUPATIONS[0], "level": 1}),
                      ("period (200 days)", {"since": since})):
        def run():
            indicators.grouped(**kw)
            db.session.rollback()

        median, p95 = _timed(run, repeat)
        out.append((f"dashboard query, {label}", f"median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
                                                 f"({len(indicators.grouped(**kw))} rows)"))
    return out


def _background_facts(n: int) -> list[tuple[str, str]]:
    """COPY ``n`` statements and their fact rows of 100,000 other learners (PostgreSQL)."""
    import hashlib
    import json

    import sqlalchemy as sa

    from lms.core.db import db
    from lms.xapi.models import Verb

    verb = "http://adlnet.gov/expapi/verbs/progressed"
    digest = hashlib.sha1(verb.encode()).hexdigest()
    verb_pk = db.session.scalar(sa.select(Verb.pk).where(Verb.iri == verb))
    if verb_pk is None:
        row = Verb(iri_hash=digest, iri=verb, display=None)
        db.session.add(row)
        db.session.flush()
        verb_pk = row.pk
    db.session.commit()
    t0 = time.perf_counter()
    base = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=300)
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        done = 0
        while done < n:
            chunk = min(500_000, n - done)
            ids = [uuid.uuid4() for _ in range(chunk)]
            with cur.copy('COPY xapi_statements (id, content_hash, stored, "timestamp", verb_pk, object_type, '
                          'object_id, registration, voided, version, "full") FROM STDIN') as copy:
                for i, sid in enumerate(ids):
                    at = base + dt.timedelta(seconds=(done + i) * 2)
                    copy.write_row((sid, "0" * 64, at, at, verb_pk, "Activity", "http://bench/act", None, False,
                                    "1.0.3", json.dumps({"id": str(sid)})))
            with cur.copy("COPY records_statement_facts (statement_id, learner_hash, learner_key, verb, object_iri, "
                          "object_hash, registration, duration, time_class, occurred_at, source_kind, "
                          "source_policy, source_label, voided) FROM STDIN") as copy:
                for i, sid in enumerate(ids):
                    key = f"mbox:mailto:bg{(done + i) % 100_000}@example.com"
                    at = base + dt.timedelta(seconds=(done + i) * 2)
                    copy.write_row((sid, hashlib.sha1(key.encode()).hexdigest(), key, verb, "http://bench/act",
                                    "0" * 40, None, 600.0, "increment", at, "platform", "platform", "", False))
            raw.commit()
            done += chunk
            print(f"  copied {done:,} statements and facts", file=sys.stderr)
        cur.execute("ANALYZE xapi_statements")
        cur.execute("ANALYZE records_statement_facts")
        raw.commit()
    finally:
        raw.close()
    took = time.perf_counter() - t0
    return [("background statements + facts loaded with COPY", f"{n:,} in {took:.0f} s ({n / took:.0f}/s)")]


def _screening(class_size: int, facts: int) -> list[tuple[str, str]]:
    from zoneinfo import ZoneInfo

    from lms.accounts.operations import register_user
    from lms.core.db import db, utcnow
    from lms.organisations.operations import add_membership, create_organisation
    from lms.records.provenance import PLATFORM_SOURCE
    from lms.xapi.recorder import actor_for, platform_authority
    from lms.xapi.storage import store_statements
    from supervision.models import (AuthorityOfficer, ClassTrainee, RealNameCheck, TrainingClass,
                                    WatchlistEntry, ImportBatch)
    from supervision.operations import claims

    zone = ZoneInfo("Asia/Shanghai")
    school = create_organisation("基准筛查学校", "institution", region="地区0")
    admin = register_user("bench-screen-admin@example.com", "Bench-Passw0rd!", "校长")
    add_membership(admin, school, "institution_admin")
    officer = register_user("bench-officer@example.com", "Bench-Passw0rd!", "审批员")
    db.session.add(AuthorityOfficer(user_id=officer.id))
    start = dt.date.today() - dt.timedelta(days=30)
    cls = TrainingClass(organisation_id=school.id, entry_key="SUB-SCREEN", occupation_code=OCCUPATIONS[0], level=1,
                        total_hours=40, standard_amount=1500, name="筛查基准班", start_date=start,
                        end_date=start + dt.timedelta(days=25), status="completed", opened_at=utcnow(),
                        enrolled_at_opening=class_size)
    db.session.add(cls)
    db.session.flush()
    batch = ImportBatch(kind="pension", filename="bench.csv", rows=0)
    db.session.add(batch)
    db.session.flush()
    people = []
    for i in range(class_size):
        number = _id_number(900000 + i)
        u = register_user(f"bench-trainee-{i}@example.com", "Bench-Passw0rd!", f"学员{i}", id_card_number=number)
        people.append(u)
        db.session.add(ClassTrainee(class_id=cls.id, user_id=u.id, id_number=number, in_denominator=True))
        if i % 10:
            db.session.add(RealNameCheck(user_id=u.id, id_number=number))
        if i % 50 == 0:
            db.session.add(WatchlistEntry(import_id=batch.id, list_kind="pension", id_number=number))
    db.session.commit()
    t0 = time.perf_counter()
    stored = 0
    batch_rows = []
    for i, u in enumerate(people):
        reg = str(uuid.uuid4())
        for j in range(facts):
            day = start + dt.timedelta(days=j % 20)
            at = dt.datetime(day.year, day.month, day.day, 9 + j % 8, tzinfo=zone)
            batch_rows.append({"id": str(uuid.uuid4()), "actor": actor_for(u),
                               "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
                               "object": {"id": f"http://bench.example.com/act/{j % 5}", "objectType": "Activity"},
                               "result": {"duration": "PT3000S"}, "context": {"registration": reg},
                               "timestamp": at.astimezone(dt.timezone.utc).isoformat()})
        if len(batch_rows) >= 500:
            store_statements(batch_rows, version="1.0.3", authority=platform_authority(), may_define=True,
                             source=PLATFORM_SOURCE)
            db.session.commit()
            stored += len(batch_rows)
            batch_rows = []
    if batch_rows:
        store_statements(batch_rows, version="1.0.3", authority=platform_authority(), may_define=True,
                         source=PLATFORM_SOURCE)
        db.session.commit()
        stored += len(batch_rows)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    claim = claims.prepare(admin, cls.id)
    db.session.commit()
    prepared = time.perf_counter() - t0
    t0 = time.perf_counter()
    claims.screen(admin, claim.id)
    db.session.commit()
    screened = time.perf_counter() - t0
    return [("statements stored through the LRS (facts included)", f"{stored} in {load:.1f} s "
                                                                    f"({stored / max(load, 1e-9):.0f}/s)"),
            (f"prepare the claim of a {class_size}-person class", f"{prepared:.2f} s"),
            (f"screen it (every rule, {len(claim.hits)} hits)", f"{screened:.2f} s")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 enrolments, a 200-person class")
    parser.add_argument("--enrolments", type=int, default=None)
    parser.add_argument("--class-size", type=int, default=None)
    parser.add_argument("--facts", type=int, default=None, help="study statements per trainee of the screened class")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--background-facts", type=int, default=0,
                        help="PostgreSQL: COPY this many statements and facts of other learners first")
    parser.add_argument("--database-url", default=os.environ.get("LMS_BENCH_DATABASE_URL", ""))
    args = parser.parse_args()
    enrolments = args.enrolments or (10_000 if args.quick else 100_000)
    class_size = args.class_size or (200 if args.quick else 1000)
    facts = args.facts or (10 if args.quick else 20)

    tmp = tempfile.mkdtemp(prefix="supervision-bench-")
    url = args.database_url or "sqlite:///" + os.path.join(tmp, "bench.sqlite3")
    os.environ["LMS_PLUGINS"] = "supervision"  # the dashboard and screening need no other plugin
    from lms import create_app
    from lms.accounts.passwords import use_fast_hashing_for_tests
    from lms.testing import _reset_schema

    use_fast_hashing_for_tests()
    _reset_schema(url)
    app = create_app({"INSTANCE_PATH": tmp, "LMS_DATABASE_URL": url, "LMS_LOG_LEVEL": "WARNING",
                      "LMS_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789", "CELERY_BROKER_URL": "",
                      "MAIL_BACKEND": "console"})
    figures = [("database", url.split(":", 1)[0]), ("enrolments", f"{enrolments:,}")]
    with app.app_context():
        from lms.core.migrations import upgrade_all

        upgrade_all()
        _seed(enrolments)
        figures += _dashboard(args.repeat)
        if args.background_facts and url.startswith("postgres"):
            figures += _background_facts(args.background_facts)
        figures += _screening(class_size, facts)
    width = max(len(k) for k, _ in figures)
    print("\nsupervision benchmark")
    print("-" * (width + 40))
    for k, v in figures:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
