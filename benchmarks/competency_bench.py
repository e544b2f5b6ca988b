#!/usr/bin/env python
"""Benchmark of the competency evidence engine.

    .venv/bin/python benchmarks/competency_bench.py            # 10,000 learners, 500 units, 2,000 rules, 1,000,000 statements
    .venv/bin/python benchmarks/competency_bench.py --quick    # 1,000 learners, 100 units, 400 rules, 50,000 statements

Uses PostgreSQL (database ``lms_competency_bench`` on 127.0.0.1, created if missing, schema
reset) when it answers, else a temporary SQLite file (``--sqlite`` forces it). Steps:

1. schema by the real migrations; learners inserted in bulk; a synthetic framework (5 levels,
   units spread over functions and work contents, 4 rules per unit: 3 on activities, 1 on a
   parent course) imported through the normal CSV import;
2. history: statements written through the LRS's own bulk path (``store_statements(validate=False)``,
   COPY on PostgreSQL) with the ``statement_stored`` signal muted, and the evidence those
   statements would have produced inserted in bulk, so the evidence table is as large as it
   would be;
3. engine throughput: fresh statements (stored the same way) run through the engine exactly as
   the Celery task does (``load_statements`` + ``apply_statements``, a commit per batch of 100),
   measured at a small history and again at the full history: the cost per statement should
   not grow with the history, since the engine only uses the rule index and per-learner rows;
4. full recompute of 1,000 learners (``recompute_learner``, from their statements).

Only 127.0.0.1 is used; no process is started.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "lms_competency_bench"
ACT = "https://bench.example.org/act/"
COURSE = "https://bench.example.org/course/"
VERBS = ["http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/completed"]


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def prepare_pg() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


def framework_csv(n_units: int) -> tuple[str, list[tuple[int, str, int]]]:
    """A CSV framework with ``n_units`` units over 5 levels and 4 rules per unit.

    Returns the text and ``[(rung, unit code, unit number)]``.
    """
    lines = ["record,level,code,parent,title,title_en,weight,required,theory_weight,skill_weight,options",
             "document,,6-31-01-99,,基准测试标准,Benchmark standard,,,,,edition=B1; occupation=基准测试工; "
             "occupation_en=Benchmark worker"]
    per_level = n_units // 5
    units = []
    for rung in range(1, 6):
        lines.append(f"level,{rung},,,,,,,,,coverage=0.8")
        n_fn = max(1, per_level // 10)
        u = 0
        for f in range(1, n_fn + 1):
            lines.append(f"function,{rung},{f},,功能{f},Function {f},,,{100 // n_fn},{100 // n_fn},")
            for w in (1, 2):
                lines.append(f"work_content,{rung},{f}.{w},{f},内容{f}.{w},Content,,,,,")
                for k in range(1, 6):
                    if u >= per_level:
                        break
                    code = f"{f}.{w}.{k}"
                    number = (rung - 1) * per_level + u
                    lines.append(f"skill,{rung},{code},{f}.{w},单元{number},Unit {number},1,,,,")
                    units.append((rung, code, number))
                    u += 1
    for rung, code, number in units:
        for r in range(3):
            lines.append(f"rule,{rung},{code},,{ACT}{number}/{r},,,,,,verbs=passed|completed; match=activity")
        lines.append(f"rule,{rung},{code},,{COURSE}{number // 10},,,,,,verbs=completed; match=parent; weight=0.25")
    return "\n".join(lines) + "\n", units


def make_statement(rng: random.Random, n_learners: int, n_units: int, when: dt.datetime) -> tuple[dict, int, int | None]:
    """A statement by a random learner: 60% on a rule's activity, else on an unrelated activity."""
    learner = rng.randrange(n_learners)
    if rng.random() < 0.6:
        unit = rng.randrange(n_units)
        act = f"{ACT}{unit}/{rng.randrange(3)}"
    else:
        unit, act = None, f"{ACT}noise/{rng.randrange(5000)}"
    st = {"id": str(uuid.uuid4()), "actor": {"objectType": "Agent", "mbox": f"mailto:l{learner}@bench.example"},
          "verb": {"id": rng.choice(VERBS)}, "object": {"objectType": "Activity", "id": act},
          "result": {"score": {"scaled": round(rng.uniform(0.4, 1.0), 2)}},
          "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    return st, learner, unit


def store(batch: list[dict]) -> None:
    from lms.core.db import db
    from lms.core.extension_points import statement_stored
    from lms.xapi.recorder import platform_authority
    from lms.xapi.storage import store_statements

    with statement_stored.muted():
        store_statements(batch, version="1.0.3", authority=platform_authority(), validate=False)
        db.session.commit()


def load_history(rng, count: int, ctx: dict, report_every: int = 100_000) -> None:
    """Store ``count`` statements in bulk and insert the evidence they would have produced."""
    import sqlalchemy as sa

    from competency.models import Evidence
    from lms.core.db import db

    batch, evidence = [], []
    start = time.perf_counter()
    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(count):
        st, learner, unit = make_statement(rng, ctx["n_learners"], ctx["n_units"],
                                           base + dt.timedelta(seconds=ctx["stored"] + i))
        batch.append(st)
        if unit is not None:
            r = int(st["object"]["id"].rsplit("/", 1)[1])
            rule_id, group_id, unit_id = ctx["rules"][(unit, r)]
            evidence.append({"statement_id": st["id"], "learner_key": f"user:{ctx['user_ids'][learner]}",
                             "user_id": ctx["user_ids"][learner], "unit_id": unit_id, "rule_id": rule_id,
                             "group_id": group_id, "weight": 1.0, "verb_iri": st["verb"]["id"],
                             "activity_iri": st["object"]["id"], "activity_name": "", "source": "bench",
                             "scaled": st["result"]["score"]["scaled"], "occurred_at": base,
                             "created_at": base})
        if len(batch) == 1000:
            store(batch)
            batch = []
        if len(evidence) >= 5000:
            db.session.execute(sa.insert(Evidence), evidence)
            db.session.commit()
            evidence = []
        if (i + 1) % report_every == 0:
            print(f"    {i + 1:>9,} stored ({(i + 1) / (time.perf_counter() - start):,.0f}/s)", flush=True)
    if batch:
        store(batch)
    if evidence:
        db.session.execute(sa.insert(Evidence), evidence)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # what autovacuum does after a bulk load: fresh planner statistics
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
    ctx["stored"] += count


def measure_engine(rng, ctx: dict, n: int, batch_size: int = 100) -> dict:
    """Fresh statements through the engine as the Celery task runs it; seconds and statements/s."""
    from competency.operations.engine import apply_statements
    from lms.core.db import db
    from lms.xapi.store import load_statements

    base = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    new = [make_statement(rng, ctx["n_learners"], ctx["n_units"], base + dt.timedelta(seconds=i))[0] for i in range(n)]
    for i in range(0, n, 1000):
        store(new[i:i + 1000])
    ids = [s["id"] for s in new]
    evidence = 0
    start = time.perf_counter()
    for i in range(0, n, batch_size):
        out = apply_statements(load_statements(ids[i:i + batch_size]))
        db.session.commit()
        evidence += out.evidence_added
    secs = time.perf_counter() - start
    return {"statements": n, "seconds": secs, "per_s": n / secs, "ms": secs * 1000 / n, "evidence": evidence}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 learners, 100 units, 50,000 statements")
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PostgreSQL answers")
    parser.add_argument("--learners", type=int)
    parser.add_argument("--units", type=int)
    parser.add_argument("--history", type=int, help="statements already stored (full size)")
    parser.add_argument("--probe", type=int, help="fresh statements run through the engine per measurement")
    parser.add_argument("--recompute", type=int, help="learners to recompute")
    args = parser.parse_args()
    n_learners = args.learners or (1_000 if args.quick else 10_000)
    n_units = args.units or (100 if args.quick else 500)
    history = args.history or (50_000 if args.quick else 1_000_000)
    probe = args.probe or (500 if args.quick else 2_000)
    n_recompute = args.recompute or (100 if args.quick else 1_000)

    tmp = tempfile.mkdtemp(prefix="competency-bench-")
    if pg_available() and not args.sqlite:
        url, backend = prepare_pg(), "postgresql"
    else:
        url, backend = "sqlite:///" + os.path.join(tmp, "bench.sqlite3"), "sqlite"
    from lms import create_app

    app = create_app({"INSTANCE_PATH": tmp, "LMS_DATABASE_URL": url, "LMS_LOG_LEVEL": "WARNING",
                      "LMS_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789", "CELERY_BROKER_URL": "",
                      "LMS_PUBLIC_URL": "http://127.0.0.1:5000"})
    rng = random.Random(2026)
    figures = []
    with app.app_context():
        import sqlalchemy as sa

        from competency.models import EvidenceRule, FrameworkItem
        from competency.operations.engine import recompute_learner
        from competency.operations.frameworks import import_framework
        from lms.accounts.models import User
        from lms.core.db import db
        from lms.core.migrations import upgrade_all

        print(f"competency engine benchmark on {backend}: {n_learners:,} learners, {n_units} units, "
              f"{n_units * 4:,} rules, {history:,} statements of history", flush=True)
        upgrade_all()
        now = dt.datetime.now(dt.timezone.utc)
        rows = [{"uuid": uuid.uuid4(), "email": f"l{i}@bench.example", "password_hash": "x", "real_name": f"L{i}",
                 "locale": "", "is_system_admin": False, "is_active_account": True, "created_at": now,
                 "session_version": 1} for i in range(n_learners)]
        for i in range(0, len(rows), 5000):
            db.session.execute(sa.insert(User), rows[i:i + 5000])
        db.session.commit()
        user_ids = dict(db.session.execute(sa.select(User.email, User.id)).all())
        user_ids = [user_ids[f"l{i}@bench.example"] for i in range(n_learners)]
        text, units = framework_csv(n_units)
        t = time.perf_counter()
        fw = import_framework(text, "bench.csv")
        db.session.commit()
        figures.append(("framework import (CSV, validated)", f"{time.perf_counter() - t:.2f} s"))
        by_code = {(it.level.rung, it.code): it.id for it in db.session.scalars(
            sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id))}
        unit_ids = {number: by_code[(rung, code)] for rung, code, number in units}
        rules = {}
        for rule in db.session.scalars(sa.select(EvidenceRule).where(EvidenceRule.match_kind == "activity")):
            number, r = rule.match_iri[len(ACT):].split("/")
            rules[(int(number), int(r))] = (rule.id, rule.group_id, unit_ids[int(number)])
        n_rules = db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceRule))
        ctx = {"n_learners": n_learners, "n_units": len(units), "user_ids": user_ids, "rules": rules, "stored": 0}

        small = history // 10
        print(f"  loading {small:,} statements of history...", flush=True)
        t = time.perf_counter()
        load_history(rng, small, ctx, report_every=max(small // 2, 1))
        load_rate = small / (time.perf_counter() - t)
        a = measure_engine(rng, ctx, probe)
        print(f"  engine at {ctx['stored']:,} stored: {a['per_s']:,.0f} statements/s", flush=True)
        print(f"  loading {history - small:,} more statements...", flush=True)
        load_history(rng, history - small, ctx, report_every=max((history - small) // 4, 1))
        b = measure_engine(rng, ctx, probe)
        print(f"  engine at {ctx['stored']:,} stored: {b['per_s']:,.0f} statements/s", flush=True)

        sample = rng.sample(user_ids, min(n_recompute, len(user_ids)))
        t = time.perf_counter()
        for i, uid in enumerate(sample, 1):
            recompute_learner(f"user:{uid}")
            if i % 50 == 0:
                db.session.commit()
        db.session.commit()
        rec = time.perf_counter() - t
        total = db.session.execute(sa.text("SELECT count(*) FROM xapi_statements")).scalar()

    figures = [("backend", backend), ("learners", f"{n_learners:,}"), ("units / rules", f"{len(units)} / {n_rules:,}"),
               ("statements stored at the end", f"{total:,}"), ("history load rate (bulk path + evidence)", f"{load_rate:,.0f} /s")] + figures + [
        (f"engine, {small + probe:,} stored ({probe:,} fresh statements)", f"{a['per_s']:,.0f} st/s, {a['ms']:.2f} ms/st"),
        (f"engine, {ctx['stored']:,} stored ({probe:,} fresh statements)", f"{b['per_s']:,.0f} st/s, {b['ms']:.2f} ms/st"),
        ("cost per statement, large / small history", f"{b['ms'] / a['ms']:.2f}x"),
        (f"recompute {len(sample):,} learners from their statements", f"{rec:.1f} s ({rec * 1000 / len(sample):.0f} ms/learner)"),
    ]
    width = max(len(k) for k, _v in figures)
    print()
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|-{'-' * 32}")
    for k, v in figures:
        print(f"{k.ljust(width)} | {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
