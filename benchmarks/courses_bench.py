"""Benchmark of course delivery under gunicorn with PostgreSQL.

    .venv/bin/python benchmarks/courses_bench.py            # 10 s per phase
    .venv/bin/python benchmarks/courses_bench.py --quick    # 3 s per phase

What it does: creates (or empties) the PostgreSQL database ``lms_cbench``, runs the migrations,
seeds a published course (a text lesson and a 5-question quiz) with 32 enrolled learners, starts
gunicorn (``-k gthread``, same workers and threads for every server) on a free loopback port,
logs one learner in per client, and measures for 1, 8 and 32 concurrent clients (keep-alive
connections, one thread each):

* ``hello``: ``GET /`` of a bare Flask app (``benchmarks/hello_app.py``) -- the ceiling;
* ``lesson page``: ``GET /learn/lesson/<id>`` (the full lesson player page of a logged-in learner);
* ``quiz submit``: the learner starts an attempt (``POST .../attempts``), submits five answers
  (``POST /learn/attempts/<id>``: graded, 5 answers stored, ~7 xAPI statements recorded in the same
  transaction) and follows the redirect to the result page; the rate counts submits per second
  (each one with its start request and its result page), the latencies are the submit's.

The client threads run on the same machine as the server and share its CPUs, so absolute figures
are a floor; the ratio to the hello ceiling is the meaningful figure. Only 127.0.0.1 is used;
every process started is stopped (its own process group) at the end.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/lms_cbench"
CLIENT_COUNTS = (1, 8, 32)
PASSWORD = "Bench-Passw0rd!"

SEED = r'''
import json, sys
from lms import create_app
from lms.core.db import db
app = create_app()
with app.app_context():
    from lms.accounts.operations import register_user
    from lms.organisations.operations import add_membership, create_organisation
    from courses.operations import authoring
    from courses.operations.enrolment import enrol
    n, password = int(sys.argv[1]), sys.argv[2]
    school = create_organisation("基准测试学院", "institution")
    teacher = register_user("bench-teacher@example.com", password, "基准教师")
    add_membership(teacher, school, "teacher")
    course = authoring.create_course(teacher, organisation_id=school.id, code="BENCH-1", title_zh="基准课程",
                                     description_format="markdown", description_zh_source="基准", study_hours=1)
    module = authoring.add_module(teacher, course, "第一章")
    body = "\n\n".join("## 第%d节\n\n电工作业必须遵守安全操作规程，**断电**、验电、挂牌。" % i for i in range(1, 11))
    text = authoring.add_lesson(teacher, module, "text", title_zh="安全须知", body_format="markdown", body_source=body)
    quiz = authoring.add_lesson(teacher, module, "quiz", title_zh="测验", body_format="markdown", pass_mark=60)
    answers = {}
    for i in range(5):
        q = authoring.add_question(teacher, quiz, "single", prompt="第%d题：安全电压？" % (i + 1),
                                   choices_text="*36 伏\n220 伏\n380 伏\n110 伏", points=2)
        answers["q%d" % q.id] = q.correct[0]
    authoring.publish(teacher, course)
    logins = []
    for i in range(n):
        u = register_user("bench-learner-%d@example.com" % i, password, "学员%d" % i)
        add_membership(u, school, "learner")
        enrol(u, course, by=u)
        logins.append(u.email)
    db.session.commit()
    print(json.dumps({"text": text.id, "quiz": quiz.id, "answers": answers, "logins": logins}))
'''

# In-process cost per request (``--in-process``): Flask's test client, no HTTP server, same database.
# Counts every round trip to PostgreSQL at the driver (SQLAlchemy's and raw psycopg cursors, and
# BEGIN/COMMIT/ROLLBACK); "queries" leaves out the transaction commands and the pool's pre-ping (";").
IN_PROCESS = r'''
import json, re, sys, time
import psycopg
counts = {"queries": 0, "trips": 0}
_execute, _many, _command = psycopg.Cursor.execute, psycopg.Cursor.executemany, psycopg.Connection._exec_command
def _counted(fn, query_like):
    def wrapper(self, query, *a, **k):
        counts["trips"] += 1
        if query_like and str(query).strip() != ";":
            counts["queries"] += 1
        return fn(self, query, *a, **k)
    return wrapper
psycopg.Cursor.execute = _counted(_execute, True)
psycopg.Cursor.executemany = _counted(_many, True)
psycopg.Connection._exec_command = _counted(_command, False)
from lms import create_app
world, password, n = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
app = create_app()
c = app.test_client()
def token(html):
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
page = c.get("/login").get_data(as_text=True)
assert c.post("/login", data={"login": world["logins"][0], "password": password, "csrf_token": token(page)}).status_code == 302
lesson = "/learn/lesson/%d" % world["text"]
csrf = token(c.get(lesson).get_data(as_text=True))
def ok(r, status):
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    return r
def quiz():
    r = ok(c.post("/learn/lesson/%d/attempts" % world["quiz"], data={"csrf_token": csrf}), 302)
    r = ok(c.post(r.headers["Location"], data={"csrf_token": csrf, **{k: [v] for k, v in world["answers"].items()}}), 302)
    ok(c.get(r.headers["Location"]), 200)
targets = [("healthz", lambda: ok(c.get("/healthz"), 200), n),
           ("lesson page", lambda: ok(c.get(lesson), 200), n),
           ("quiz submit (3 requests)", quiz, max(10, n // 10))]
print("in-process cost per request (Flask test client, %s)" % app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[-1])
print("%-26s%10s%10s%10s%13s" % ("target", "CPU ms", "wall ms", "queries", "round trips"))
for name, fn, k in targets:
    for _ in range(5):
        fn()
    counts.update(queries=0, trips=0)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(k):
        fn()
    print("%-26s%10.2f%10.2f%10.1f%13.1f" % (name, (time.process_time() - c0) / k * 1000,
                                            (time.perf_counter() - t0) / k * 1000, counts["queries"] / k, counts["trips"] / k))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection with its own cookie jar (a logged-in learner)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, bytes, float]:
        headers = {}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - t0
            for header, value in resp.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return resp.status, dict(resp.getheaders()), payload, elapsed
        raise RuntimeError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()


def csrf(html: bytes) -> str:
    m = re.search(rb'name="csrf-token" content="([^"]+)"', html) or re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    if not m:
        raise RuntimeError("no CSRF token in page")
    return m.group(1).decode()


class Gunicorn:
    """gunicorn in its own process group; ``stop`` ends exactly that group."""

    def __init__(self, app_spec: str, env: dict, cwd: Path, workers: int, threads: int, probe: str):
        self.port = free_port()
        self.env = dict(env, LMS_PUBLIC_URL=f"http://127.0.0.1:{self.port}")
        self.cmd = [str(BIN / "gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", str(threads),
                    "--keep-alive", "30", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                    "--timeout", "120", app_spec]
        self.cwd, self.probe, self.proc = cwd, probe, None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=str(self.cwd), start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                c.request("GET", self.probe)
                if c.getresponse().status < 500:
                    time.sleep(1.0)  # let every worker boot
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start in 60 s")

    def __exit__(self, *exc):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Result:
    target: str
    clients: int
    count: int
    seconds: float
    latencies: list = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


def run_phase(target: str, clients: list, seconds: float, step) -> Result:
    """Each client thread calls ``step(client) -> (ok, latency)`` until the time is up."""
    lock = threading.Lock()
    res = Result(target, len(clients), 0, 0.0)
    stop_at = [0.0]

    def loop(client):
        count, errors, lats = 0, 0, []
        while time.perf_counter() < stop_at[0]:
            ok, latency = step(client)
            if ok:
                count += 1
                lats.append(latency)
            else:
                errors += 1
        with lock:
            res.count += count
            res.errors += errors
            res.latencies.extend(lats)

    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res.seconds = time.perf_counter() - t0
    return res


def prepare_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per phase instead of 10")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per phase")
    parser.add_argument("--db-url", default=os.environ.get("COURSES_BENCH_DB", DEFAULT_DB))
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--in-process", action="store_true",
                        help="only measure CPU, queries and round trips per request in-process (no server)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    n_learners = max(CLIENT_COUNTS)

    prepare_database(args.db_url)
    instance = tempfile.mkdtemp(prefix="courses-bench-")
    env = dict(os.environ, LMS_DATABASE_URL=args.db_url, LMS_INSTANCE_PATH=instance, LMS_PLUGINS="courses",
               LMS_SECRET_KEY="bench-secret-key-bench-secret-key-0123456789", LMS_LOG_LEVEL="WARNING",
               LMS_LOGIN_MAX_FAILURES="1000", CELERY_BROKER_URL="", PYTHONPATH=str(ROOT))
    subprocess.run([str(BIN / "flask"), "--app", "lms", "db", "upgrade"], env=env, cwd=str(ROOT), check=True,
                   capture_output=True)
    seeded = subprocess.run([sys.executable, "-c", SEED, str(n_learners), PASSWORD], env=env, cwd=str(ROOT),
                            check=True, capture_output=True, text=True)
    world = json.loads(seeded.stdout.strip().splitlines()[-1])
    if args.in_process:
        n = 100 if args.quick else 500
        return subprocess.run([sys.executable, "-c", IN_PROCESS, json.dumps(world), PASSWORD, str(n)], env=env,
                              cwd=str(ROOT)).returncode
    results: list[Result] = []

    with Gunicorn("hello_app:app", env, ROOT / "benchmarks", args.workers, args.threads, "/") as hello:
        for n in CLIENT_COUNTS:
            clients = [Client(hello.port) for _ in range(n)]

            def step(c):
                status, _h, _b, lat = c.request("GET", "/")
                return status == 200, lat

            results.append(run_phase("hello", clients, seconds, step))
            for c in clients:
                c.close()

    with Gunicorn("lms:create_app()", env, ROOT, args.workers, args.threads, "/healthz") as server:
        clients = []
        for login in world["logins"]:
            c = Client(server.port)
            _s, _h, page, _l = c.request("GET", "/login")
            status, _h, _b, _l = c.request("POST", "/login", {"login": login, "password": PASSWORD,
                                                              "csrf_token": csrf(page)})
            if status not in (302, 303):
                raise RuntimeError(f"login of {login} failed: {status}")
            _s, _h, page, _l = c.request("GET", f"/learn/lesson/{world['text']}")  # first visit: session start
            c.token = csrf(page)
            clients.append(c)
        lesson_path = f"/learn/lesson/{world['text']}"

        def lesson_step(c):
            status, _h, _b, lat = c.request("GET", lesson_path)
            return status == 200, lat

        def quiz_step(c):
            status, headers, _b, lat1 = c.request("POST", f"/learn/lesson/{world['quiz']}/attempts",
                                                  {"csrf_token": c.token})
            if status != 302:
                return False, 0.0
            path = urllib.parse.urlsplit(headers.get("Location", "")).path
            form = {"csrf_token": c.token, **{k: [v] for k, v in world["answers"].items()}}
            status, headers, _b, lat2 = c.request("POST", path, form)
            if status != 302:
                return False, 0.0
            # Follow the redirect to the result, as a browser does: it shows (and so consumes) the
            # flashed score; unread flashes would pile up in the session cookie of every request.
            status, _h, _b, _lat3 = c.request("GET", urllib.parse.urlsplit(headers.get("Location", "")).path)
            return status == 200, lat2

        for n in CLIENT_COUNTS:
            results.append(run_phase("lesson page", clients[:n], seconds, lesson_step))
        for n in CLIENT_COUNTS:
            results.append(run_phase("quiz submit", clients[:n], seconds, quiz_step))
        for c in clients:
            c.close()

    ceiling = {r.clients: r.rate for r in results if r.target == "hello"}
    print(f"\ncourses delivery under gunicorn -w {args.workers} -k gthread --threads {args.threads}, "
          f"PostgreSQL ({args.db_url.rsplit('/', 1)[-1]}), {seconds:g} s per phase, {os.cpu_count()} CPUs shared "
          f"with the clients")
    print(f"{'target':<14}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'% of hello':>12}")
    for r in results:
        share = 100 * r.rate / ceiling[r.clients] if ceiling.get(r.clients) else float("nan")
        print(f"{r.target:<14}{r.clients:>8}{r.rate:>10.1f}{r.pct(50):>9.1f}{r.pct(95):>9.1f}{r.errors:>8}"
              f"{share:>11.1f}%")
    print("quiz submit: each submit comes with its start request and its result page (not counted); "
          "latencies are the submit's.")
    bad = sum(r.errors for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
