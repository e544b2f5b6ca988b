"""Forwarding to remote LRSs: the outbox, delivery, backoff, dead letters, resend."""
from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.testing import free_port
from lms.xapi import forwarding, recorder
from lms.xapi.forwarding import DEAD, PENDING, ForwardingDelivery, ForwardingDestination
from tests.lms.xapi.conftest import make_statement

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"


class FakeLRS:
    """A minimal remote LRS on a loopback port: stores PUT statements by id and can be told to
    answer some ids with a given status, or to go away."""

    def __init__(self):
        self.statements: dict[str, dict] = {}
        self.puts: list[str] = []
        self.status_for: dict[str, int] = {}
        self.auth_seen: list[str] = []
        self.versions_seen: list[str] = []
        self.content_types: list[str] = []
        self.bodies: dict[str, bytes] = {}
        #: What GET /about lists (``None``: about answers 404).
        self.about_versions: list[str] | None = ["1.0.3", "2.0.0"]
        self.delay = 0.0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xapi/"
        self._server = None
        self._thread = None
        self.lock = threading.Lock()

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, body=b""):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sid = parse_qs(urlsplit(self.path).query)["statementId"][0]
                if fake.delay:
                    time.sleep(fake.delay)
                with fake.lock:
                    fake.puts.append(sid)
                    fake.auth_seen.append(self.headers.get("Authorization", ""))
                    fake.versions_seen.append(self.headers.get("X-Experience-API-Version", ""))
                    fake.content_types.append(self.headers.get("Content-Type", ""))
                    fake.bodies[sid] = body
                    status = fake.status_for.get(sid)
                    if status is None:
                        content_type = self.headers.get("Content-Type", "")
                        if content_type.startswith("multipart/mixed"):
                            from lms.xapi.attachments import parse_multipart

                            body = parse_multipart(body, content_type)[0].body
                        data = json.loads(body)
                        if sid in fake.statements:
                            status = 409
                        else:
                            fake.statements[sid] = data
                            status = 204
                self._answer(status, b'{"error": "nope"}' if status >= 400 else b"")

            def do_GET(self):
                if urlsplit(self.path).path.endswith("/about"):
                    if fake.about_versions is None:
                        self._answer(404, b"{}")
                    else:
                        self._answer(200, json.dumps({"version": fake.about_versions}).encode())
                    return
                sid = parse_qs(urlsplit(self.path).query).get("statementId", [None])[0]
                with fake.lock:
                    st = fake.statements.get(sid)
                if st is None:
                    self._answer(404, b"{}")
                else:
                    self._answer(200, json.dumps(st).encode())

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None


@pytest.fixture
def remote():
    fake = FakeLRS().start()
    yield fake
    fake.stop()


@pytest.fixture
def forward_config(app):
    """``forward_config([destination, ...], **settings)``: configure forwarding for one test."""
    saved = {k: app.config.get(k, forwarding.SETTINGS[k]) for k in forwarding.SETTINGS}

    def configure(dests, **settings):
        app.config["LMS_XAPI_FORWARD"] = json.dumps(dests)
        app.config.update({"LMS_XAPI_FORWARD_BACKOFF_BASE": 0.001, "LMS_XAPI_FORWARD_PAUSE_MAX": 0.001,
                           "LMS_XAPI_FORWARD_TIMEOUT": 5.0})
        app.config.update(settings)

    yield configure
    app.config.update(saved)


def dest(remote, name="remote", **kw):
    return {"name": name, "endpoint": remote.url, "username": "k", "password": "s", **kw}


def record_n(n, **kw):
    ids = [recorder.record(make_statement(i, **kw)) for i in range(n)]
    return ids


def rows(**where):
    stmt = sa.select(ForwardingDelivery).order_by(ForwardingDelivery.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(ForwardingDelivery, k) == v)
    return list(db.session.scalars(stmt))


def drain(rounds=20, **kw):
    """Run delivery until nothing is due (ignoring the short pauses of the test settings)."""
    total = forwarding.DeliveryReport()
    for _ in range(rounds):
        report = forwarding.deliver(ignore_pause=True, **kw)
        total.delivered += report.delivered
        total.retried += report.retried
        total.dead += report.dead
        if not rows(state=PENDING):
            break
    return total


# --- The outbox ---------------------------------------------------------------------------


def test_outbox_rows_are_written_in_the_statements_transaction(app, remote, forward_config, monkeypatch):
    forward_config([dest(remote, "all"), dest(remote, "passes", filter={"verbs": [PASSED]}),
                    dest(remote, "course", filter={"activity_prefixes": ["http://example.com/activities/1"]})])
    monkeypatch.setattr("lms.xapi.forwarding_tasks.forward_deliver.delay", lambda *a, **k: None)
    completed = recorder.record(make_statement(1))
    passed = recorder.record(make_statement(2, verb="passed"))
    # Flushed with the statements, before any commit.
    queued = {(r.destination, str(r.statement_id)) for r in rows()}
    assert queued == {("all", completed), ("all", passed), ("passes", passed), ("course", completed)}
    db.session.commit()
    assert len(rows(state=PENDING)) == 4


def test_rollback_leaves_no_outbox_rows(app, remote, forward_config):
    forward_config([dest(remote)])
    record_n(3)
    assert len(rows()) == 3
    db.session.rollback()
    assert rows() == []
    assert remote.puts == []


def test_statement_sent_again_with_same_content_is_not_queued_twice(app, remote, forward_config, monkeypatch):
    forward_config([dest(remote)])
    monkeypatch.setattr("lms.xapi.forwarding_tasks.forward_deliver.delay", lambda *a, **k: None)
    st = make_statement(5, id=str(uuid.uuid4()))
    recorder.record(dict(st))
    db.session.commit()
    recorder.record(dict(st))
    db.session.commit()
    assert len(rows()) == 1


def test_no_destinations_means_no_rows(app, forward_config):
    forward_config([])
    record_n(2)
    db.session.commit()
    assert rows() == []


# --- Configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("raw, message", [
    ("{", "not valid JSON"),
    ('{"name": "x"}', "must be a JSON list"),
    ('[{"endpoint": "http://a/"}]', "'name' is required"),
    ('[{"name": "a", "endpoint": "ftp://a/"}]', "http(s) URL"),
    ('[{"name": "a", "endpoint": "http://a/"}, {"name": "a", "endpoint": "http://b/"}]', "used twice"),
    ('[{"name": "a", "endpoint": "http://a/", "version": "0.9"}]', "unsupported version"),
    ('[{"name": "a", "endpoint": "http://a/", "filter": {"actors": []}}]', "'filter' takes"),
    ('[{"name": "a", "endpoint": "http://a/", "passwd": "x"}]', "unknown keys"),
])
def test_invalid_destination_settings_are_refused_with_a_reason(raw, message):
    with pytest.raises(forwarding.ForwardingConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        forwarding.parse_destinations(raw)


def test_destination_settings_defaults():
    [d] = forwarding.parse_destinations('[{"name": "a", "endpoint": "http://lrs.example/xapi"}]')
    assert d.endpoint == "http://lrs.example/xapi/" and d.version == "1.0.3"
    assert d.accepts(make_statement(1)) and not d.verbs


def test_filter_needs_an_activity_object_for_prefixes():
    [d] = forwarding.parse_destinations(json.dumps([{"name": "a", "endpoint": "http://x/", "filter": {
        "verbs": [COMPLETED], "activity_prefixes": ["http://example.com/"]}}]))
    assert d.accepts(make_statement(1))
    assert not d.accepts(make_statement(1, verb="passed"))
    assert not d.accepts(make_statement(1, activity="http://other.org/a"))
    ref = make_statement(1)
    ref["object"] = {"objectType": "StatementRef", "id": str(uuid.uuid4())}
    assert not d.accepts(ref)


# --- Backoff ---------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(7)
    for attempts, nominal in [(1, 30), (2, 60), (3, 120), (4, 240), (10, 3600), (30, 3600)]:
        delays = [forwarding.backoff_delay(attempts, 30, 3600, rng) for _ in range(200)]
        assert all(nominal / 2 <= d <= nominal for d in delays), attempts
        assert max(delays) - min(delays) > nominal / 4  # really jittered


def test_failed_row_is_scheduled_by_the_backoff(app, remote, forward_config):
    forward_config([dest(remote)], LMS_XAPI_FORWARD_BACKOFF_BASE=100.0, LMS_XAPI_FORWARD_BACKOFF_MAX=10000.0)
    [sid] = record_n(1)
    remote.status_for[sid] = 503
    before = utcnow()
    db.session.commit()  # the eager delivery run after the commit tries it once
    [row] = rows()
    assert row.attempts == 1 and row.state == PENDING and row.last_status == 503
    assert before + dt.timedelta(seconds=49) <= row.next_attempt_at <= utcnow() + dt.timedelta(seconds=101)
    assert "HTTP 503" in row.last_error
    # Not due: a second run sends nothing.
    forwarding.deliver(ignore_pause=True)
    assert remote.puts == [sid]


# --- Delivery ------------------------------------------------------------------------------


def test_statements_are_put_by_id_as_stored(app, remote, forward_config, monkeypatch):
    forward_config([dest(remote, version="1.0.3")])
    monkeypatch.setattr("lms.xapi.forwarding_tasks.forward_deliver.delay", lambda *a, **k: None)
    ids = record_n(5)
    db.session.commit()
    report = forwarding.deliver()
    assert report.delivered == 5 and rows() == []
    assert sorted(remote.statements) == sorted(ids)
    sent = remote.statements[ids[0]]
    assert sent["id"] == ids[0] and "stored" not in sent and "version" not in sent
    assert sent["authority"]["account"]["name"] == "lms"
    assert set(remote.versions_seen) == {"1.0.3"} and remote.auth_seen[0].startswith("Basic ")
    health = db.session.get(ForwardingDestination, "remote")
    assert health.delivered_total == 5 and health.last_success_at is not None and health.consecutive_failures == 0


def test_configured_version_is_the_fallback_when_about_cannot_be_read(app, remote, forward_config):
    """The destination's ``version`` is used only when the remote's about cannot be read (it
    used to be sent always; versions are now negotiated, see test_forwarding_truth.py)."""
    forward_config([dest(remote, version="2.0.0")])
    remote.about_versions = None
    record_n(1)
    db.session.commit()
    forwarding.deliver(ignore_pause=True)
    assert remote.versions_seen == ["2.0.0"]


def test_signal_after_commit_delivers_without_waiting_for_the_beat(app, remote, forward_config):
    forward_config([dest(remote)])
    ids = record_n(2)
    assert remote.puts == []  # nothing is sent before the commit
    db.session.commit()  # statement_stored -> forward_deliver (eager without a broker)
    assert sorted(remote.statements) == sorted(ids)
    assert rows() == []


def test_permanent_4xx_makes_a_dead_letter_with_the_reason(app, remote, forward_config):
    forward_config([dest(remote)])
    ids = record_n(3)
    remote.status_for[ids[1]] = 400
    db.session.commit()
    drain()
    [dead] = rows()
    assert dead.state == DEAD and str(dead.statement_id) == ids[1]
    assert dead.last_status == 400 and "HTTP 400" in dead.last_error and dead.attempts == 1
    assert sorted(remote.statements) == sorted([ids[0], ids[2]])


def test_one_failing_statement_does_not_block_the_others(app, remote, forward_config):
    forward_config([dest(remote)], LMS_XAPI_FORWARD_MAX_ATTEMPTS=4, LMS_XAPI_FORWARD_BATCH=3)
    ids = record_n(10)
    remote.status_for[ids[0]] = 500  # the first in the queue fails every time
    db.session.commit()
    drain(rounds=30)
    assert sorted(remote.statements) == sorted(ids[1:])
    [dead] = rows()
    assert str(dead.statement_id) == ids[0] and dead.state == DEAD and dead.attempts == 4
    assert dead.last_error.startswith("gave up after 4 attempts") and "HTTP 500" in dead.last_error


def test_unreachable_destination_pauses_without_spending_attempts(app, remote, forward_config):
    forward_config([dest(remote)], LMS_XAPI_FORWARD_BACKOFF_BASE=60.0, LMS_XAPI_FORWARD_PAUSE_MAX=600.0)
    remote.stop()
    ids = record_n(4)
    db.session.commit()
    forwarding.deliver(ignore_pause=True)
    health = db.session.get(ForwardingDestination, "remote")
    assert health.paused_until > utcnow() and "unreachable" in health.last_error
    assert health.consecutive_failures >= 1
    assert all(r.attempts == 0 and r.state == PENDING for r in rows())
    # While paused, the periodic run skips the destination.
    report = forwarding.deliver()
    assert report.skipped_destinations == ["remote"]
    # Back up: "retry now" sends everything.
    remote.start()
    forwarding.retry_now("remote")
    db.session.commit()
    assert forwarding.deliver().delivered == 4
    assert sorted(remote.statements) == sorted(ids)


def test_resend_queues_dead_letters_again(app, remote, forward_config):
    forward_config([dest(remote)])
    ids = record_n(2)
    remote.status_for[ids[0]] = 422
    db.session.commit()
    drain()
    [dead] = rows(state=DEAD)
    assert forwarding.resend("remote", [dead.id + 1000]) == 0  # someone else's id: nothing
    del remote.status_for[ids[0]]
    assert forwarding.resend("remote", [dead.id]) == 1
    db.session.commit()
    drain()
    assert rows() == [] and sorted(remote.statements) == sorted(ids)


def test_conflict_for_the_same_statement_counts_as_delivered(app, remote, forward_config):
    forward_config([dest(remote)])
    [sid] = record_n(1)
    db.session.commit()
    drain()
    # Queue it again (e.g. our earlier success was lost): the remote answers 409 for the repeat.
    forwarding.enqueue([{"id": sid, **make_statement(0)}])
    db.session.commit()
    assert drain().delivered == 1
    assert remote.puts == [sid, sid] and rows() == []


def test_conflict_with_different_content_is_a_dead_letter(app, remote, forward_config):
    forward_config([dest(remote)])
    [sid] = record_n(1)
    remote.statements[sid] = make_statement(99, verb="failed")  # someone else's statement, same id
    db.session.commit()
    drain()
    [dead] = rows()
    assert dead.state == DEAD and "different statement" in dead.last_error


def test_rows_of_a_crashed_worker_come_back_after_the_lease(app, remote, forward_config):
    forward_config([dest(remote)])
    ids = record_n(2)
    db.session.flush()
    # A worker leased the rows and died.
    db.session.execute(sa.update(ForwardingDelivery).values(claim="dead-worker",
                                                            next_attempt_at=utcnow() + dt.timedelta(minutes=5)))
    db.session.commit()
    assert forwarding.deliver(ignore_pause=True).delivered == 0
    db.session.execute(sa.update(ForwardingDelivery).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert forwarding.deliver(ignore_pause=True).delivered == 2
    assert sorted(remote.statements) == sorted(ids)


def test_missing_statement_is_a_dead_letter(app, remote, forward_config):
    forward_config([dest(remote)])
    forwarding.enqueue([{"id": str(uuid.uuid4()), **make_statement(1)}])
    db.session.commit()
    drain()
    [dead] = rows()
    assert dead.state == DEAD and "not in the store" in dead.last_error


def test_status_reports_backlog_dead_letters_and_health(app, remote, forward_config):
    forward_config([dest(remote), dest(remote, "idle", filter={"verbs": [PASSED]})])
    ids = record_n(3)
    remote.status_for[ids[0]] = 400
    db.session.commit()
    drain()
    forwarding.enqueue([{"id": ids[1], **make_statement(1)}])
    db.session.commit()
    by_name = {s.destination.name: s for s in forwarding.status()}
    assert by_name["remote"].backlog == 1 and by_name["remote"].dead == 1
    assert by_name["remote"].state == "ok"
    assert by_name["idle"].state == "unused" and by_name["idle"].backlog == 0 and by_name["idle"].dead == 0


def test_periodic_task_is_scheduled(app):
    schedule = app.extensions["celery"].conf.beat_schedule["xapi-forward-deliver"]
    assert schedule["task"] == "lms.xapi.forward_deliver"
    assert schedule["schedule"] == forwarding.setting("LMS_XAPI_FORWARD_INTERVAL", app)


def test_cli_status_and_retry(app, remote, runner, forward_config):
    forward_config([dest(remote)], LMS_XAPI_FORWARD_BACKOFF_BASE=60.0, LMS_XAPI_FORWARD_PAUSE_MAX=600.0)
    remote.stop()
    record_n(2)
    db.session.commit()
    out = runner.invoke(args=["lrs", "forward", "status"])
    assert out.exit_code == 0, out.output
    assert "remote: paused" in out.output and "backlog=2" in out.output and "unreachable" in out.output
    remote.start()
    out = runner.invoke(args=["lrs", "forward", "retry", "remote"])
    assert out.exit_code == 0, out.output
    assert "delivered 2" in out.output
    assert len(remote.statements) == 2
    assert runner.invoke(args=["lrs", "forward", "retry", "nope"]).exit_code != 0


def test_a_run_stops_sending_at_its_time_budget(app, remote, forward_config, monkeypatch):
    forward_config([dest(remote)], LMS_XAPI_FORWARD_BATCH=50)
    monkeypatch.setattr("lms.xapi.forwarding_tasks.forward_deliver.delay", lambda *a, **k: None)
    record_n(20)
    db.session.commit()
    remote.delay = 0.1
    started = time.monotonic()
    report = forwarding.deliver(time_budget=0.35)
    assert time.monotonic() - started < 1.5
    assert 1 <= report.delivered <= 6
    left = rows()
    assert len(left) == 20 - report.delivered
    assert all(r.state == PENDING and r.attempts == 0 and r.claim is None for r in left)
    remote.delay = 0
    assert forwarding.deliver().delivered == len(left)


def test_connection_check_reads_about_without_tincans_parser(app, remote, forward_config):
    from tincan.remote_lrs import RemoteLRS

    forward_config([dest(remote), dest(remote, "future", version="2.0.0")])
    # The quirk worked around: tincan's own about() fails on a version list with "2.0.0".
    with pytest.raises(Exception):
        RemoteLRS(endpoint=remote.url, username="k", password="s").about()
    ok, message = forwarding.check_destination(forwarding.destination("remote"))
    assert ok and "1.0.3, 2.0.0" in message
    assert forwarding.check_destination(forwarding.destination("future"))[0]
    remote.stop()
    ok, message = forwarding.check_destination(forwarding.destination("remote"))
    assert not ok and "unreachable" in message
