#!/usr/bin/env python
"""Benchmark of the platform's LRS under gunicorn, with PostgreSQL and with SQLite.

    .venv/bin/python benchmarks/lrs_bench.py            # full run (a few minutes)
    .venv/bin/python benchmarks/lrs_bench.py --quick    # smaller counts (about a minute)
    .venv/bin/python benchmarks/lrs_bench.py --big      # also: 1,000,000 statements, filtered GET p95

For each backend it creates a fresh schema with ``flask db upgrade`` (PostgreSQL: the database
``lms_bench``, created if missing; SQLite: a temporary file), creates an LRS client, starts
gunicorn (several workers, gthread, keep-alive) on a free loopback port, and at 1, 8 and 32
concurrent clients (threads, each with its own keep-alive ``http.client`` connection) measures:

* batch POSTs of 100 statements, single POSTs (statements/s);
* filtered GETs (agent, verb, activity, since), following ``more`` to the end and checking the
  count against what was posted; point GETs by id (requests/s);
* p50 / p95 / p99 latency of each request.

Then a ceiling (PostgreSQL): the same kind of statements written straight into the same tables with
psycopg (no HTTP, no validation, rows prepared beforehand, batches of 100 per transaction), and
our best batch figure as a share of it. ``--big`` preloads 1,000,000 statements with the LRS's
own functions (``prepare`` and the shared-row inserts, then COPY, two processes; ``--preload
store`` uses ``store_statements(validate=False)`` instead) and measures the filtered GET latency
at 1 and 8 clients. Only 127.0.0.1 is used; every process started is stopped.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

VERSION = "1.0.3"
N_AGENTS, N_VERBS, N_ACTIVITIES = 200, 25, 500
VERB_NAMES = ["completed", "passed", "failed", "attempted", "experienced", "answered", "launched", "initialized",
              "terminated", "progressed", "registered", "mastered", "commented", "shared", "interacted",
              "asked", "responded", "scored", "suspended", "resumed", "imported", "preferred", "exited",
              "satisfied", "waived"]


# --- Statements --------------------------------------------------------------------------------


def make_statement(i: int, *, n_agents=N_AGENTS, n_verbs=N_VERBS, n_activities=N_ACTIVITIES) -> tuple[dict, tuple]:
    """Statement number ``i`` (a realistic ~700-byte lesson statement) and its (agent, verb, activity)."""
    a, v, act = i % n_agents, (i // 7) % n_verbs, (i * 13) % n_activities
    verb = VERB_NAMES[v % len(VERB_NAMES)] + ("" if v < len(VERB_NAMES) else str(v))
    st = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": f"Learner {a}", "mbox": f"mailto:learner{a}@bench.test"},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-US": verb, "zh-CN": verb}},
        "object": {"objectType": "Activity", "id": f"https://lms.bench.test/activities/{act}",
                   "definition": {"name": {"en-US": f"Lesson {act}", "zh-CN": f"课程 {act}"},
                                  "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "result": {"score": {"scaled": round((i % 100) / 100, 2), "raw": i % 100, "min": 0, "max": 100},
                   "success": i % 3 != 0, "completion": True, "duration": "PT%dM" % (i % 60 + 1)},
        "context": {"registration": str(uuid.UUID(int=a + 1)), "platform": "bench",
                    "contextActivities": {"parent": [{"id": f"https://lms.bench.test/courses/{act % 20}"}]}},
        "timestamp": "2026-11-27T08:00:00.000Z",
    }
    return st, (a, v, act)


def agent_param(a: int) -> str:
    return json.dumps({"objectType": "Agent", "mbox": f"mailto:learner{a}@bench.test"})


def verb_iri(v: int) -> str:
    return f"http://adlnet.gov/expapi/verbs/{VERB_NAMES[v % len(VERB_NAMES)] + ('' if v < len(VERB_NAMES) else str(v))}"


def activity_iri(act: int) -> str:
    return f"https://lms.bench.test/activities/{act}"


@dataclass
class Ledger:
    """Everything posted, to check query counts."""

    ids: list = field(default_factory=list)
    by_agent: dict = field(default_factory=dict)
    by_verb: dict = field(default_factory=dict)
    by_activity: dict = field(default_factory=dict)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, n: int) -> list[dict]:
        with self.lock:
            start = self.counter
            self.counter += n
        return [make_statement(i)[0] for i in range(start, start + n)]

    def commit(self, statements: list[dict]) -> None:
        with self.lock:
            for st in statements:
                self.ids.append(st["id"])
                a = int(st["actor"]["mbox"].split("learner")[1].split("@")[0])
                self.by_agent[a] = self.by_agent.get(a, 0) + 1
                self.by_verb[st["verb"]["id"]] = self.by_verb.get(st["verb"]["id"], 0) + 1
                self.by_activity[st["object"]["id"]] = self.by_activity.get(st["object"]["id"], 0) + 1


# --- HTTP --------------------------------------------------------------------------------------


class Conn:
    """One keep-alive connection of one simulated client."""

    def __init__(self, port: int, auth: str):
        self.port = port
        self.headers = {"Authorization": auth, "X-Experience-API-Version": VERSION}
        self.conn = None

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes, float]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - t0
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return resp.status, payload, elapsed
        raise RuntimeError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()


@dataclass
class PhaseResult:
    backend: str
    phase: str
    clients: int
    requests: int
    items: int
    seconds: float
    latencies: list
    errors: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        k = min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))
        return xs[k] * 1000


def run_clients(n_clients: int, jobs: list, worker, port: int, auth: str) -> tuple[float, list, int, int]:
    """Run ``worker(conn, job) -> (items, [latencies], errors)`` over ``jobs`` with ``n_clients`` threads."""
    lock = threading.Lock()
    queue = list(reversed(jobs))
    lat: list = []
    totals = {"items": 0, "errors": 0}

    def loop():
        conn = Conn(port, auth)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                try:
                    items, ls, errors = worker(conn, job)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    # A timeout or a broken answer is an error of this job, not the end of the client.
                    print(f"    request failed: {type(exc).__name__}: {exc} ({str(job)[:160]})", flush=True)
                    conn.close()
                    conn = Conn(port, auth)
                    items, ls, errors = 0, [], 1
                with lock:
                    lat.extend(ls)
                    totals["items"] += items
                    totals["errors"] += errors
        finally:
            conn.close()

    threads = [threading.Thread(target=loop) for _ in range(n_clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, lat, totals["items"], totals["errors"]


# --- Server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(db_url: str, instance: str, public_url: str, plugins: str) -> dict:
    env = dict(os.environ)
    env.update({"LMS_DATABASE_URL": db_url, "LMS_INSTANCE_PATH": instance, "LMS_PUBLIC_URL": public_url,
                "LMS_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789", "LMS_LOG_LEVEL": "WARNING",
                "LMS_PLUGINS": plugins or " ", "CELERY_BROKER_URL": "", "LMS_XAPI_FORWARD": "[]",
                "PYTHONPATH": str(ROOT)})
    return env


class Gunicorn:
    def __init__(self, env: dict, workers: int, threads: int):
        self.port = free_port()
        self.env = dict(env, LMS_PUBLIC_URL=f"http://127.0.0.1:{self.port}")
        self.workers, self.threads = workers, threads
        self.proc = None

    def start(self):
        cmd = [str(BIN / "gunicorn"), "-w", str(self.workers), "-k", "gthread", "--threads", str(self.threads),
               "--keep-alive", "30", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
               "--timeout", "120", "lms:create_app()"]
        # The server's log goes to a file: an unread pipe would fill up and block the workers.
        self.log_path = os.path.join(self.env["LMS_INSTANCE_PATH"], f"gunicorn-{self.port}.log")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=str(ROOT), start_new_session=True,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                with open(self.log_path, errors="replace") as fh:
                    raise RuntimeError("gunicorn exited: " + fh.read()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                c.request("GET", "/xapi/about")
                if c.getresponse().status == 200:
                    # let every worker boot before measuring
                    time.sleep(1.0)
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start in 60 s")

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the process group of the gunicorn we started
            self.proc.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        self._log.close()


# --- Databases ---------------------------------------------------------------------------------


def prepare_postgres(url: str) -> None:
    import psycopg

    base, _, dbname = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def migrate(env: dict) -> None:
    out = subprocess.run([str(BIN / "flask"), "--app", "lms", "db", "upgrade"], env=env, cwd=str(ROOT),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("flask db upgrade failed:\n" + out.stderr[-3000:])


def create_lrs_client(env: dict) -> str:
    """An LRS client with every scope, created in a child process; returns the Basic header."""
    code = ("from lms import create_app\n"
            "from lms.core.db import db\n"
            "from lms.xapi.credentials import create_client\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    _c, key, secret = create_client('benchmark', ['all'])\n"
            "    db.session.commit()\n"
            "    print(key + ':' + secret)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(ROOT), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("could not create an LRS client:\n" + out.stderr[-3000:])
    pair = out.stdout.strip().splitlines()[-1]
    return "Basic " + base64.b64encode(pair.encode()).decode()


# --- Phases ------------------------------------------------------------------------------------


def phase_post(backend, n_clients, n_requests, size, ledger, port, auth) -> PhaseResult:
    jobs = [size] * n_requests

    def worker(conn, n):
        batch = ledger.take(n)
        body = batch if n > 1 else batch[0]
        status, payload, elapsed = conn.request("POST", "/xapi/statements", body)
        if status != 200 or len(json.loads(payload)) != n:
            return 0, [elapsed], 1
        ledger.commit(batch)
        return n, [elapsed], 0

    seconds, lat, items, errors = run_clients(n_clients, jobs, worker, port, auth)
    return PhaseResult(backend, f"POST batch of {size}" if size > 1 else "POST single", n_clients, n_requests, items,
                       seconds, lat, errors)


def follow(conn, path: str, max_pages: int | None = None) -> tuple[int, list, int]:
    count, lat, pages = 0, [], 0
    while path:
        status, payload, elapsed = conn.request("GET", path)
        lat.append(elapsed)
        if status != 200:
            return -1, lat, pages
        data = json.loads(payload)
        count += len(data["statements"])
        pages += 1
        path = data.get("more") or ""
        if max_pages and pages >= max_pages:
            break
    return count, lat, pages


def phase_filtered(backend, n_clients, queries, port, auth, max_pages=None, label="GET filtered") -> PhaseResult:
    """``queries``: [(params, expected count or None)]."""
    def worker(conn, job):
        params, expected = job
        count, lat, _pages = follow(conn, "/xapi/statements?" + urlencode(params), max_pages)
        bad = count < 0 or (expected is not None and count != expected)
        return (max(count, 0), lat, 1 if bad else 0)

    seconds, lat, items, errors = run_clients(n_clients, list(queries), worker, port, auth)
    return PhaseResult(backend, label, n_clients, len(lat), items, seconds, lat, errors,
                       note=f"{len(queries)} queries")


def phase_point(backend, n_clients, ids, port, auth) -> PhaseResult:
    def worker(conn, sid):
        status, payload, elapsed = conn.request("GET", "/xapi/statements?" + urlencode({"statementId": sid}))
        ok = status == 200 and json.loads(payload)["id"] == sid
        return (1 if ok else 0), [elapsed], (0 if ok else 1)

    seconds, lat, items, errors = run_clients(n_clients, list(ids), worker, port, auth)
    return PhaseResult(backend, "GET by id", n_clients, len(ids), items, seconds, lat, errors)


def filtered_queries(ledger: Ledger, since_iso: str, since_count: int, n: int, rng: random.Random, limit: int):
    """``n`` queries of each filter kind with their expected counts."""
    queries = []
    agents = sorted(ledger.by_agent)
    verbs = sorted(ledger.by_verb)
    acts = sorted(ledger.by_activity)
    for _ in range(n):
        a = rng.choice(agents)
        queries.append(({"agent": agent_param(a), "limit": limit}, ledger.by_agent[a]))
        v = rng.choice(verbs)
        queries.append(({"verb": v, "limit": limit}, ledger.by_verb[v]))
        act = rng.choice(acts)
        queries.append(({"activity": act, "limit": limit}, ledger.by_activity[act]))
        queries.append(({"since": since_iso, "limit": limit}, since_count))
    rng.shuffle(queries)
    return queries


# --- Ceiling -----------------------------------------------------------------------------------


def ceiling_postgres(pg_url: str, n: int, variants=((1, "executemany"), (4, "executemany"), (1, "copy"))):
    """Statements/s written straight into the LRS tables with psycopg, batches of 100 per transaction.

    Rows (statement, agent and activity links) are prepared with the LRS's own ``prepare`` before
    the clock starts and shared rows (agents, verbs, activities) are ensured beforehand; timed: the
    INSERTs (``executemany``, pipelined by psycopg) or ``COPY`` of the statements and their link
    rows, and the commits, with 1 or more connections. Each variant writes its own ``n``
    statements. Returns ``({variant: statements/s}, [statement dicts written])``.
    """
    import psycopg
    from psycopg.types.json import Jsonb

    from lms import create_app
    from lms.core.db import db
    from lms.xapi import storage
    from lms.xapi.identifiers import now_ms
    from lms.xapi.shared_rows import ensure_activities, ensure_agents, ensure_verbs

    app = create_app({"LMS_DATABASE_URL": pg_url, "INSTANCE_PATH": tempfile.mkdtemp(prefix="lrs-bench-"),
                      "LMS_PLUGINS": [], "LMS_LOG_LEVEL": "WARNING"})
    authority = {"objectType": "Agent", "name": "ceiling", "account": {"homePage": "http://bench", "name": "ceiling"}}
    total = n * len(variants)
    with app.app_context():
        stored = now_ms()
        originals = [make_statement(10_000_000 + i)[0] for i in range(total)]
        prepared = [storage.prepare(st, version=VERSION, authority=authority, stored=stored, validate=False)
                    for st in originals]
        agents, verbs, acts = {}, {}, {}
        for p in prepared:
            for ifi, (kind, name, _d) in p.agents.items():
                agents.setdefault(ifi, (kind, name))
            verbs.setdefault(p.verb_iri, p.verb_display)
            for iri, (definition, _d) in p.activities.items():
                acts.setdefault(iri, definition)
        agent_pks, verb_pks, act_pks = ensure_agents(agents), ensure_verbs(verbs), ensure_activities(acts, may_define=True)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        pks = [r[0] for r in conn.execute("SELECT nextval(pg_get_serial_sequence('xapi_statements', 'pk')) "
                                          "FROM generate_series(1, %s)", (total,))]
    batches = []
    for start in range(0, total, 100):
        st_rows, ag_rows, ac_rows = [], [], []
        for pk, p in zip(pks[start:start + 100], prepared[start:start + 100]):
            st_rows.append((pk, p.id, p.content_hash, p.stored, p.timestamp, agent_pks.get(p.actor_ifi),
                            verb_pks[p.verb_iri], p.object_type, p.object_id, p.registration,
                            agent_pks.get(p.authority_ifi), p.voids_id, False, str(p.full["version"]), Jsonb(p.full)))
            for ifi, (_k, _n, direct) in p.agents.items():
                ag_rows.append((pk, agent_pks[ifi], direct, p.stored))
            for iri, (_d, direct) in p.activities.items():
                ac_rows.append((pk, act_pks[iri], direct, p.stored))
        batches.append((st_rows, ag_rows, ac_rows))

    st_cols = ("pk, id, content_hash, stored, timestamp, actor_pk, verb_pk, object_type, object_id, registration, "
               "authority_pk, voids_id, voided, version, \"full\"")

    def write(conn, mode, st_rows, ag_rows, ac_rows):
        with conn.transaction(), conn.cursor() as cur:
            if mode == "copy":
                for table, cols, rows in (("xapi_statements", st_cols, st_rows),
                                          ("xapi_statement_agents", "statement_pk, agent_pk, direct, stored", ag_rows),
                                          ("xapi_statement_activities", "statement_pk, activity_pk, direct, stored",
                                           ac_rows)):
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                cur.executemany(f"INSERT INTO xapi_statements ({st_cols}) "
                                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", st_rows)
                cur.executemany("INSERT INTO xapi_statement_agents (statement_pk, agent_pk, direct, stored) "
                                "VALUES (%s,%s,%s,%s)", ag_rows)
                cur.executemany("INSERT INTO xapi_statement_activities (statement_pk, activity_pk, direct, stored) "
                                "VALUES (%s,%s,%s,%s)", ac_rows)

    rates = {}
    per = len(batches) // len(variants)
    for k, (threads, mode) in enumerate(variants):
        queue = list(batches[k * per:(k + 1) * per])
        lock = threading.Lock()

        def loop():
            with psycopg.connect(plain) as conn:
                while True:
                    with lock:
                        if not queue:
                            return
                        job = queue.pop()
                    write(conn, mode, *job)

        ts = [threading.Thread(target=loop) for _ in range(threads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        rates[f"{mode}, {threads} conn"] = per * 100 / (time.perf_counter() - t0)
    return rates, originals


# --- Preloading (--big) ------------------------------------------------------------------------

BIG_AGENTS, BIG_VERBS, BIG_ACTIVITIES = 10_000, 50, 20_000


def _preload_worker(args):
    """Write ``count`` statements from number ``start`` on: through ``store_statements`` (the LRS's
    own bulk path, without validation) or, with ``method="copy"``, prepared by the LRS's
    ``prepare`` and its shared-row functions and then COPYed into the tables (PostgreSQL)."""
    db_url, start, count, chunk, method = args
    from lms import create_app
    from lms.core.db import db
    from lms.xapi import storage
    from lms.xapi.identifiers import now_ms
    from lms.xapi.shared_rows import ensure_activities, ensure_agents, ensure_verbs

    app = create_app({"LMS_DATABASE_URL": db_url, "INSTANCE_PATH": tempfile.mkdtemp(prefix="lrs-bench-"),
                      "LMS_PLUGINS": [], "LMS_LOG_LEVEL": "WARNING", "LMS_XAPI_FORWARD": "[]"})
    authority = {"objectType": "Agent", "name": "preload", "account": {"homePage": "http://bench", "name": "preload"}}
    with app.app_context():
        for s in range(start, start + count, chunk):
            batch = [make_statement(i, n_agents=BIG_AGENTS, n_verbs=BIG_VERBS, n_activities=BIG_ACTIVITIES)[0]
                     for i in range(s, min(s + chunk, start + count))]
            if method == "store":
                storage.store_statements(batch, version=VERSION, authority=authority, validate=False)
                db.session.commit()
                continue
            stored = now_ms()
            prepared = [storage.prepare(st, version=VERSION, authority=authority, stored=stored, validate=False)
                        for st in batch]
            agents, verbs, acts = {}, {}, {}
            for p in prepared:
                for ifi, (kind, name, _d) in p.agents.items():
                    agents.setdefault(ifi, (kind, name))
                verbs.setdefault(p.verb_iri, p.verb_display)
                for iri, (definition, _d) in p.activities.items():
                    acts.setdefault(iri, definition)
            agent_pks, verb_pks = ensure_agents(agents), ensure_verbs(verbs)
            act_pks = ensure_activities(acts, may_define=False)
            db.session.commit()
            raw = db.session.connection().connection.driver_connection  # the psycopg connection
            pks = [r[0] for r in raw.execute("SELECT nextval(pg_get_serial_sequence('xapi_statements', 'pk')) "
                                             "FROM generate_series(1, %s)", (len(prepared),))]
            from psycopg.types.json import Jsonb

            with raw.cursor() as cur:
                with cur.copy("COPY xapi_statements (pk, id, content_hash, stored, timestamp, actor_pk, verb_pk, "
                              "object_type, object_id, registration, authority_pk, voids_id, voided, version, "
                              "\"full\") FROM STDIN") as copy:
                    for pk, p in zip(pks, prepared):
                        copy.write_row((pk, p.id, p.content_hash, p.stored, p.timestamp, agent_pks.get(p.actor_ifi),
                                        verb_pks[p.verb_iri], p.object_type, p.object_id, p.registration,
                                        agent_pks.get(p.authority_ifi), None, False, str(p.full["version"]),
                                        Jsonb(p.full)))
                with cur.copy("COPY xapi_statement_agents (statement_pk, agent_pk, direct, stored) FROM STDIN") as copy:
                    for pk, p in zip(pks, prepared):
                        for ifi, (_k, _n, direct) in p.agents.items():
                            copy.write_row((pk, agent_pks[ifi], direct, p.stored))
                with cur.copy("COPY xapi_statement_activities (statement_pk, activity_pk, direct, stored) "
                              "FROM STDIN") as copy:
                    for pk, p in zip(pks, prepared):
                        for iri, (_d, direct) in p.activities.items():
                            copy.write_row((pk, act_pks[iri], direct, p.stored))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return count


def preload(db_url: str, total: int, method: str, processes: int = 2, chunk: int = 2000) -> float:
    per = total // processes
    jobs = [(db_url, 20_000_000 + k * per, per if k < processes - 1 else total - per * (processes - 1), chunk, method)
            for k in range(processes)]
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        done = sum(pool.map(_preload_worker, jobs))
    return done / (time.perf_counter() - t0)


# --- Main --------------------------------------------------------------------------------------


def print_table(results: list[PhaseResult], extra: list[str]) -> None:
    head = f"{'backend':<10} {'phase':<20} {'clients':>7} {'requests':>8} {'items/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}  note"
    print()
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r.backend:<10} {r.phase:<20} {r.clients:>7} {r.requests:>8} {r.rate:>10.0f} {r.pct(50):>8.1f} "
              f"{r.pct(95):>8.1f} {r.pct(99):>8.1f} {r.errors:>6}  {r.note}")
    for line in extra:
        print(line)
    sys.stdout.flush()


def bench_backend(backend: str, db_url: str, args, results: list, extra: list) -> None:
    instance = tempfile.mkdtemp(prefix=f"lrs-bench-{backend}-")
    env = base_env(db_url, instance, "http://127.0.0.1:5000", args.plugins)
    if backend == "postgres":
        prepare_postgres(db_url)
    migrate(env)
    auth = create_lrs_client(env)
    server = Gunicorn(env, args.workers, args.threads).start()
    port = server.port
    rng = random.Random(42)
    ledger = Ledger()
    levels = [int(c) for c in args.clients.split(",")]
    scale = 0.25 if args.quick else 1.0
    print(f"[{backend}] gunicorn -w {args.workers} --threads {args.threads} on port {port}", flush=True)
    try:
        # warm-up (shared rows, caches, connections)
        results_warm = phase_post(backend, 2, 4, 100, ledger, port, auth)
        if results_warm.errors:
            raise RuntimeError("warm-up POSTs failed")
        for c in levels:
            n_batch = max(4, int({1: 30, 8: 80, 32: 128}.get(c, 4 * c) * scale))
            r = phase_post(backend, c, n_batch, 100, ledger, port, auth)
            results.append(r)
            print(f"  batch x{c}: {r.rate:.0f} st/s", flush=True)
        since_mark = None
        for c in levels:
            if c == levels[-1]:
                time.sleep(0.05)
                since_mark = time.time()
                before_since = len(ledger.ids)
                time.sleep(0.05)
            n_single = max(20, int({1: 300, 8: 1200, 32: 1600}.get(c, 50 * c) * scale))
            r = phase_post(backend, c, n_single, 1, ledger, port, auth)
            results.append(r)
            print(f"  single x{c}: {r.rate:.0f} st/s", flush=True)
        if backend == "postgres":
            # The ceiling right after the POST phases (same load, same table sizes); its statements
            # join the ledger so the query counts below stay exact.
            best = max((r for r in results if r.backend == backend and r.phase.startswith("POST batch")),
                       key=lambda r: r.rate)
            n_ceiling = 3000 if args.quick else 10000
            ceilings, written = ceiling_postgres(db_url, n_ceiling)
            ledger.commit(written)
            ceiling = max(ceilings.values())
            extra.append(f"[postgres] ceiling (psycopg straight into the tables, no HTTP, no validation, batches of "
                         f"100, {n_ceiling} statements each): "
                         + "; ".join(f"{k}: {v:.0f} st/s" for k, v in ceilings.items()))
            extra.append(f"[postgres] best batch ingestion {best.rate:.0f} st/s at {best.clients} clients = "
                         f"{100 * best.rate / ceiling:.0f}% of the ceiling ({ceiling:.0f} st/s)")
        since_iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since_mark)) + f".{int(since_mark % 1 * 1000):03d}Z"
        since_count = len(ledger.ids) - before_since
        for c in levels:
            n_q = max(2, int({1: 5, 8: 10, 32: 16}.get(c, c) * scale))
            r = phase_filtered(backend, c, filtered_queries(ledger, since_iso, since_count, n_q, rng, args.limit),
                               port, auth)
            results.append(r)
            print(f"  filtered x{c}: p95 {r.pct(95):.1f} ms, errors {r.errors}", flush=True)
        for c in levels:
            n_p = max(50, int({1: 300, 8: 1000, 32: 2000}.get(c, 50 * c) * scale))
            r = phase_point(backend, c, [rng.choice(ledger.ids) for _ in range(n_p)], port, auth)
            results.append(r)
            print(f"  point x{c}: {r.rate:.0f} req/s", flush=True)
        if args.big and backend in args.big_backends.split(","):
            server.stop()
            total = args.big_count
            print(f"  preloading {total} statements ({args.preload})...", flush=True)
            method = args.preload if backend == "postgres" else "store"
            rate = preload(db_url, total, method)
            how = "prepare() + COPY" if method == "copy" else "store_statements(validate=False)"
            extra.append(f"[{backend}] preload of {total} statements ({how}, 2 processes): {rate:.0f} st/s")
            if backend == "postgres":
                import psycopg

                with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"),
                                     autocommit=True) as conn:
                    conn.execute("VACUUM ANALYZE")
            server = Gunicorn(env, args.workers, args.threads).start()
            port = server.port
            queries = []
            for _ in range(8 if args.quick else 25):
                a = rng.randrange(BIG_AGENTS)
                queries.append(({"agent": agent_param(a), "limit": args.limit}, None))
                queries.append(({"verb": verb_iri(rng.randrange(BIG_VERBS)), "limit": args.limit}, None))
                queries.append(({"activity": activity_iri(rng.randrange(BIG_ACTIVITIES)), "limit": args.limit}, None))
                queries.append(({"since": "2026-01-01T00:00:00Z", "limit": args.limit}, None))
            rng.shuffle(queries)
            for c in (1, 8):
                r = phase_filtered(backend, c, queries, port, auth, max_pages=5, label="GET filtered 1M")
                r.note += ", at most 5 pages each"
                results.append(r)
                print(f"  filtered with 1M x{c}: p95 {r.pct(95):.1f} ms", flush=True)
    finally:
        server.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller counts (about a minute per backend)")
    ap.add_argument("--big", action="store_true", help="also preload 1,000,000 statements and measure filtered GETs")
    ap.add_argument("--big-count", type=int, default=1_000_000)
    ap.add_argument("--big-backends", default="postgres", help="backends for --big (postgres,sqlite)")
    ap.add_argument("--preload", choices=("copy", "store"), default="copy",
                    help="--big preload path on PostgreSQL: the LRS's prepare() + COPY (fast), or store_statements")
    ap.add_argument("--backends", default="postgres,sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("LMS_BENCH_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/lms_bench"))
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--limit", type=int, default=100, help="page size of the filtered GETs")
    ap.add_argument("--plugins", default="", help="LMS_PLUGINS for the server (default: none, the LRS alone)")
    args = ap.parse_args(argv)
    if not args.pg_url.startswith("postgresql://127.0.0.1") and "@127.0.0.1" not in args.pg_url:
        ap.error("the benchmark only talks to 127.0.0.1")
    results: list[PhaseResult] = []
    extra: list[str] = []
    t0 = time.time()
    load_before = os.getloadavg()
    for backend in args.backends.split(","):
        if backend == "postgres":
            url = args.pg_url
        elif backend == "sqlite":
            url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="lrs-bench-sqlite-"), "bench.sqlite3")
        else:
            ap.error(f"unknown backend {backend}")
        bench_backend(backend, url, args, results, extra)
    extra.append("load average (1, 5, 15 min) before: %.1f %.1f %.1f; after: %.1f %.1f %.1f; cores: %d"
                 % (*load_before, *os.getloadavg(), os.cpu_count()))
    print_table(results, extra)
    print(f"total time {time.time() - t0:.0f} s; items/s = statements/s for POSTs and filtered GETs "
          f"(statements returned), requests/s for GET by id; latency per HTTP request")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
