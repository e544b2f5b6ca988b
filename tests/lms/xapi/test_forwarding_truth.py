"""Forwarding that tells the truth (issue 11): attachments, versions, health, counting, 403,
leases, and what the CLI and the page say. Remote LRSs are test servers on 127.0.0.1."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid

import pytest
import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.xapi import forwarding
from lms.xapi.forwarding import DEAD, PENDING, ForwardingDelivery, ForwardingDestination, choose_version
from tests.lms.xapi.conftest import make_statement
from tests.lms.xapi.test_forwarding import dest, drain, forward_config, record_n, remote, rows  # noqa: F401
from tests.lms.xapi.test_v2_journey import CONTEXT_2


@pytest.fixture
def quiet(monkeypatch):
    """No delivery run after each commit: the test runs :func:`forwarding.deliver` itself."""
    monkeypatch.setattr("lms.xapi.forwarding_tasks.forward_deliver.delay", lambda *a, **k: None)


def post(client, headers, body, content_type="application/json"):
    return client.post("/xapi/statements", data=body if isinstance(body, bytes) else json.dumps(body),
                       headers={**headers, "Content-Type": content_type})


def health() -> ForwardingDestination:
    db.session.expire_all()
    return db.session.get(ForwardingDestination, "remote")


def state() -> str:
    db.session.expire_all()
    [status] = forwarding.status("remote")
    return status.state


# --- Attachments ---------------------------------------------------------------------------------


def test_statement_with_attachments_is_forwarded_as_multipart_with_its_parts(
        client, lrs_client, remote, forward_config, quiet):  # noqa: F811
    """1.0.3 Communication 1.5.2 (IEEE 9274.1.1 the same): a statement whose attachment is not
    a ``fileUrl`` reference travels as ``multipart/mixed``: the statement first, then each
    attachment's content with its ``X-Experience-API-Hash``. Sent as JSON only, the remote
    refuses it (400) and it became a permanent dead letter."""
    forward_config([dest(remote)])
    _k, _s, h = lrs_client("all")
    content = "a welding certificate".encode()
    sha = hashlib.sha256(content).hexdigest()
    stmt = make_statement(1, attachments=[{"usageType": "http://example.com/attachment/certificate",
                                           "display": {"en-US": "certificate"}, "contentType": "text/plain",
                                           "length": len(content), "sha2": sha}])
    body = (f"--b\r\nContent-Type: application/json\r\n\r\n{json.dumps(stmt)}\r\n"
            f"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha}\r\n\r\n").encode() + content + b"\r\n--b--\r\n"
    [with_part] = post(client, h, body, "multipart/mixed; boundary=b").get_json()
    by_url = make_statement(2, attachments=[{"usageType": "http://example.com/attachment/certificate",
                                             "display": {"en-US": "certificate"}, "contentType": "text/plain",
                                             "length": 10, "sha2": "0" * 64,
                                             "fileUrl": "https://example.com/cert.txt"}])
    [with_url] = post(client, h, by_url).get_json()
    assert forwarding.deliver().delivered == 2
    from lms.xapi.attachments import parse_multipart

    sent = dict(zip(remote.puts, remote.content_types))
    assert sent[with_part].startswith("multipart/mixed")
    parts = parse_multipart(remote.bodies[with_part], sent[with_part])
    assert json.loads(parts[0].body)["id"] == with_part and parts[1].body == content
    assert sent[with_url] == "application/json"  # a fileUrl reference needs no part
    assert rows() == []


# --- Versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stored,remote_versions,configured,expected", [
    ("2.0.0", ["1.0.3", "2.0.0"], "1.0.3", "2.0.0"),   # the statement's own version, which the remote speaks
    ("1.0.0", ["1.0.3", "2.0.0"], "2.0.0", "1.0.3"),
    ("2.0.0", ["1.0.0", "1.0.1", "1.0.2"], "1.0.3", "1.0.2"),  # remote without 2.0.0: its newest 1.0.x
    ("1.0.0", ["2.0.0"], "1.0.3", "2.0.0"),            # remote with 2.0.0 only
    ("2.0.0", None, "1.0.3", "1.0.3"),                 # about unreadable: the configured version
])
def test_version_is_chosen_per_statement_from_the_remotes_about(stored, remote_versions, configured, expected):
    """1.0.3 Communication 2.8 / IEEE 9274.1.1 "About": the remote lists the versions it
    speaks. A statement goes out under the version it was stored with when the remote speaks
    it (2.0.0 properties such as ``contextAgents`` exist only there); otherwise under the version
    the remote speaks; the destination's setting is the fallback when about cannot be read."""
    assert choose_version({"version": stored}, remote_versions, configured) == expected


def test_2_0_0_statements_reach_a_2_0_0_remote_under_2_0_0(client, lrs_client, remote, forward_config,
                                                            quiet):  # noqa: F811
    """IEEE 9274.1.1 Context: ``contextAgents`` / ``contextGroups`` are 2.0.0 properties; a
    statement using them, forwarded under 1.0.3 (the old default), was refused and dead-lettered."""
    forward_config([dest(remote, version="1.0.3")])
    _k, _s, h2 = lrs_client("all", version="2.0.0")
    _k, _s, h1 = lrs_client("all", name="old client")
    [v2] = post(client, h2, make_statement(1, context=CONTEXT_2)).get_json()
    [v1] = post(client, h1, make_statement(2)).get_json()
    assert forwarding.deliver().delivered == 2
    assert dict(zip(remote.puts, remote.versions_seen)) == {v2: "2.0.0", v1: "1.0.3"}
    assert remote.statements[v2]["context"]["contextAgents"] == CONTEXT_2["contextAgents"]


def test_a_2_0_0_statement_refused_by_a_1_0_x_remote_says_why(client, lrs_client, remote, forward_config,
                                                              quiet):  # noqa: F811
    """The documented fallback: to a remote that speaks only 1.0.x a 2.0.0 statement goes out as
    1.0.3; when the remote refuses it, the dead letter's reason names both versions."""
    forward_config([dest(remote)])
    remote.about_versions = ["1.0.3"]
    _k, _s, h2 = lrs_client("all", version="2.0.0")
    [v2] = post(client, h2, make_statement(1, context=CONTEXT_2)).get_json()
    remote.status_for[v2] = 400
    forwarding.deliver()
    [dead] = rows()
    assert dead.state == DEAD and remote.versions_seen == ["1.0.3"]
    assert "stored under xAPI 2.0.0, sent as 1.0.3" in dead.last_error


# --- Health ---------------------------------------------------------------------------------------


def test_a_batch_that_delivers_some_then_fails_reads_failing_not_ok(app, remote, forward_config, quiet):  # noqa: F811
    """The remote went down in the middle of a batch: the success is recorded before the failure
    (each at the time it happened), and once the pause is over the destination reads
    ``failing`` until a statement gets through again -- never ``ok``."""
    forward_config([dest(remote)], LMS_XAPI_FORWARD_PAUSE_MAX=0.001)
    ids = record_n(4)
    db.session.commit()
    remote.status_for[ids[2]] = 503
    forwarding.deliver()
    h = health()
    assert h.last_success_at < h.last_failure_at
    time.sleep(0.01)  # the pause is over
    assert state() == "failing"
    del remote.status_for[ids[2]]
    forwarding.retry_now("remote")
    db.session.commit()
    drain()
    assert state() == "ok" and sorted(remote.statements) == sorted(ids)


# --- Counting -------------------------------------------------------------------------------------


def test_delivered_counter_is_one_atomic_update(app, remote, forward_config, quiet):  # noqa: F811
    """Overlapping runs lost counts (205 delivered, the counter rose by 171): the counter is
    raised in the database (``delivered_total = delivered_total + n``), never read and written back."""
    forward_config([dest(remote)])
    record_n(3)
    db.session.commit()
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        assert forwarding.deliver().delivered == 3
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    updates = [s for s in seen if s.startswith("UPDATE xapi_forward_destinations") and "delivered_total" in s]
    assert updates and all("delivered_total=(xapi_forward_destinations.delivered_total +" in u for u in updates)
    assert health().delivered_total == 3


def test_a_statement_sent_again_by_an_overlapping_run_is_counted_once(app, remote, forward_config,
                                                                      monkeypatch, quiet):  # noqa: F811
    """A run whose lease ran out while it was sending, and whose row another run took and sent
    again, does not count (nor delete) that row: only the run holding the lease does."""
    forward_config([dest(remote)])
    [sid] = record_n(1)
    db.session.commit()
    real_send = forwarding._send_one

    def slow_run(client, statement_id, statement, *args):
        outcome = real_send(client, statement_id, statement, *args)
        # Meanwhile our lease ran out and another run took the row.
        db.session.execute(sa.update(ForwardingDelivery).values(claim="other-run"))
        db.session.commit()
        return outcome

    monkeypatch.setattr(forwarding, "_send_one", slow_run)
    assert forwarding.deliver().delivered == 0
    monkeypatch.setattr(forwarding, "_send_one", real_send)
    db.session.execute(sa.update(ForwardingDelivery).values(claim=None, next_attempt_at=utcnow()))
    db.session.commit()
    assert forwarding.deliver().delivered == 1  # the other run: the remote answers 409, the same statement
    assert remote.puts == [sid, sid] and rows() == []
    assert health().delivered_total == 1


# --- 403 ----------------------------------------------------------------------------------------


def test_a_403_pauses_the_destination_as_credentials_refused(app, remote, forward_config, runner, quiet):  # noqa: F811
    """1.0.3 Communication 3.2 "Error Codes": 403 means the request is not allowed for these
    credentials (e.g. the remote's client lacks write scope). Nothing about the statement: the
    destination pauses, reads ``refused``, and no row spends an attempt or becomes a dead letter."""
    forward_config([dest(remote)], LMS_XAPI_FORWARD_PAUSE_MAX=0.001)
    ids = record_n(3)
    db.session.commit()
    for sid in ids:
        remote.status_for[sid] = 403
    forwarding.deliver()
    assert remote.puts == ids[:1]  # the batch stopped at the first refusal
    assert all(r.state == PENDING and r.attempts == 0 for r in rows())
    h = health()
    assert h.last_failure_status == 403 and "credentials refused" in h.last_error
    time.sleep(0.01)
    assert state() == "refused"  # also after the pause: until a statement gets through
    out = runner.invoke(args=["lrs", "forward", "status"])
    assert "remote: refused" in out.output and "credentials refused" in out.output
    remote.status_for.clear()
    forwarding.deliver(ignore_pause=True)
    assert state() == "ok" and rows() == []


# --- Leases ---------------------------------------------------------------------------------------


def test_a_claimed_batch_is_leased_briefly_not_for_the_whole_batch(app, remote, forward_config, monkeypatch,
                                                                   quiet):  # noqa: F811
    """A crashed worker's batch waited out a 560 s lease (50 statements x 10 s + 60 s). The lease
    is now ``LMS_XAPI_FORWARD_LEASE`` (60 s), at least four timeouts, renewed while sending."""
    forward_config([dest(remote)], LMS_XAPI_FORWARD_TIMEOUT=10.0, LMS_XAPI_FORWARD_BATCH=50)
    assert forwarding.lease_seconds() == (60.0, 40.0)
    record_n(3)
    db.session.commit()
    leases = []

    def spy(client, statement_id, statement, *args):
        leases.append(db.session.scalar(sa.select(sa.func.max(ForwardingDelivery.next_attempt_at))))
        return forwarding._Outcome("delivered", 204)

    monkeypatch.setattr(forwarding, "_send_one", spy)
    before = utcnow()
    forwarding.deliver()
    assert all(lease <= before + dt.timedelta(seconds=61) for lease in leases)


def test_the_lease_is_renewed_while_a_long_batch_is_sent(app, remote, forward_config, monkeypatch, quiet):  # noqa: F811
    """A batch that takes longer than its lease keeps it: the lease of the unsent rows is renewed
    as it goes, so no other run takes (and sends again) a row this one is about to send."""
    forward_config([dest(remote)], LMS_XAPI_FORWARD_TIMEOUT=0.3, LMS_XAPI_FORWARD_LEASE=1.5)
    assert forwarding.lease_seconds() == (1.5, 1.2)
    ids = record_n(12)
    db.session.commit()
    remote.delay = 0.15
    real_send = forwarding._send_one
    left = []

    def spy(client, statement_id, statement, *args):
        F = ForwardingDelivery
        earliest = db.session.scalar(sa.select(sa.func.min(F.next_attempt_at)).where(F.claim.is_not(None)))
        left.append((earliest - utcnow()).total_seconds())
        return real_send(client, statement_id, statement, *args)

    monkeypatch.setattr(forwarding, "_send_one", spy)
    started = time.monotonic()
    assert forwarding.deliver().delivered == 12
    assert time.monotonic() - started > 1.5  # longer than one lease
    assert min(left) > 0, left
    assert sorted(remote.puts) == sorted(ids)


def test_an_interrupted_run_releases_its_unsent_rows_at_once(app, remote, forward_config, monkeypatch,
                                                             quiet):  # noqa: F811
    """A worker shutting down (SystemExit, KeyboardInterrupt) or failing mid-batch records what
    it sent and releases the rest now, instead of leaving it leased."""
    forward_config([dest(remote)])
    ids = record_n(4)
    db.session.commit()
    real_send = forwarding._send_one
    calls = []

    def interrupted(client, statement_id, statement, *args):
        calls.append(statement_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_send(client, statement_id, statement, *args)

    monkeypatch.setattr(forwarding, "_send_one", interrupted)
    with pytest.raises(KeyboardInterrupt):
        forwarding.deliver()
    db.session.expire_all()
    left = rows()
    assert [str(r.statement_id) for r in left] == ids[1:]
    assert all(r.claim is None and r.attempts == 0 and r.next_attempt_at <= utcnow() for r in left)
    assert health().delivered_total == 1


# --- What the CLI and the page say ------------------------------------------------------------------


def test_cli_and_page_do_not_say_paused_until_a_past_time_or_due_now_while_paused(
        app, client, create_user, auth, remote, forward_config, runner, quiet):  # noqa: F811
    """``paused until`` is printed only while the pause lasts; while paused the page does not
    call the backlog "due now" (nothing is sent before the pause ends)."""
    forward_config([dest(remote)])
    record_n(2)
    db.session.commit()
    forwarding.deliver()
    h = forwarding._health("remote")
    h.paused_until = utcnow() - dt.timedelta(minutes=5)
    db.session.commit()
    out = runner.invoke(args=["lrs", "forward", "status"]).output
    assert "paused until" not in out
    forwarding.enqueue([{"id": str(uuid.uuid4()), **make_statement(1)}])
    h = forwarding._health("remote")
    h.paused_until = utcnow() + dt.timedelta(minutes=5)
    h.consecutive_failures, h.last_failure_at = 1, utcnow()
    db.session.commit()
    out = runner.invoke(args=["lrs", "forward", "status"]).output
    assert "paused until" in out and "(due" not in out and "waiting for the pause: 1" in out
    auth.login(create_user(admin=True, real_name="Admin"))
    page = client.get("/admin/xapi/forwarding/remote").get_data(as_text=True)
    assert "due now" not in page and "已到发送时间" not in page
