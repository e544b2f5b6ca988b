"""Forwarding between two platform instances on loopback (the issue's "Done when" test).

The first instance is the test app behind ``live_server``; the second is another app created
with ``create_app`` on its own SQLite file, served by werkzeug on another free port, with an LRS
client whose key and secret the first uses as its destination. The remote is stopped in the
middle of the stream, 1,000 statements are posted to the first, the remote comes back, and the
delivery task runs until the backlog is empty: every statement must arrive exactly once.
"""
from __future__ import annotations

import base64
import http.client
import json
import threading
import uuid

import pytest
import sqlalchemy as sa

from lms.core.db import db
from lms.testing import free_port
from lms.xapi import forwarding
from tests.lms.xapi.conftest import make_statement

TOTAL = 1000
BATCH = 25
STOP_AFTER_BATCHES = 8  # the remote goes away after 200 statements


class RemotePlatform:
    """A second platform instance served on its own port, which can be stopped and restarted."""

    def __init__(self, tmp_path):
        from lms import create_app
        from lms.core.migrations import upgrade_all

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app({
            "TESTING": True, "INSTANCE_PATH": str(tmp_path / "remote-instance"),
            "LMS_DATABASE_URL": "sqlite:///" + str(tmp_path / "remote.sqlite3"),
            "LMS_SECRET_KEY": "remote-secret-key-remote-secret-key-0123456789",
            "LMS_PUBLIC_URL": self.url, "LMS_LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "",
            "LMS_XAPI_FORWARD": "[]",
        })
        with self.app.app_context():
            upgrade_all()
            from lms.xapi.credentials import create_client

            _client, self.key, self.secret = create_client("platform one", ["statements/write", "statements/read"])
            db.session.commit()
        self._server = None
        self._thread = None

    def start(self):
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    def stored_ids(self) -> list[str]:
        from lms.xapi.models import Statement

        with self.app.app_context():
            ids = [str(i) for i in db.session.scalars(sa.select(Statement.id))]
            db.session.remove()
            return ids

    def stored_statement(self, sid: str) -> dict:
        from lms.xapi import store

        with self.app.app_context():
            [st] = store.load_statements([sid])
            db.session.remove()
            return st.full

    def close(self):
        self.stop()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def remote_platform(tmp_path):
    platform = RemotePlatform(tmp_path)
    platform.start()
    yield platform
    platform.close()


def _post(conn: http.client.HTTPConnection, headers: dict, statements: list[dict]) -> list[str]:
    conn.request("POST", "/xapi/statements", body=json.dumps(statements), headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 200, body[:500]
    return json.loads(body)


def test_every_statement_arrives_exactly_once_after_the_remote_comes_back(app, live_server, remote_platform):
    from lms.xapi.credentials import create_client

    saved = {k: app.config.get(k) for k in forwarding.SETTINGS}
    app.config.update({
        "LMS_XAPI_FORWARD": json.dumps([{"name": "platform-two", "endpoint": remote_platform.url + "/xapi/",
                                         "username": remote_platform.key, "password": remote_platform.secret,
                                         "version": "1.0.3"}]),
        "LMS_XAPI_FORWARD_BATCH": 100, "LMS_XAPI_FORWARD_TIMEOUT": 5.0,
    })
    try:
        _client, key, secret = create_client("content tool", ["statements/write"])
        db.session.commit()
        headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
                   "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
        sent: list[str] = []
        originals: dict[str, dict] = {}
        for n in range(TOTAL // BATCH):
            if n == STOP_AFTER_BATCHES:
                remote_platform.stop()  # mid-stream
            batch = [make_statement(n * BATCH + i, id=str(uuid.uuid4()),
                                    result={"score": {"scaled": i / BATCH}, "success": i % 2 == 0})
                     for i in range(BATCH)]
            originals.update((s["id"], s) for s in batch)
            sent += _post(conn, headers, batch)
        conn.close()
        assert len(set(sent)) == TOTAL

        # While the remote is down the backlog waits, attempts are not spent, nothing is dead.
        db.session.rollback()
        [status] = forwarding.status()
        assert status.dead == 0 and status.backlog > 0
        assert "unreachable" in status.health.last_error
        delivered_before = len(remote_platform.stored_ids())
        assert 0 < delivered_before < TOTAL

        remote_platform.start()
        for _ in range(30):
            forwarding.deliver(ignore_pause=True)
            db.session.commit()
            if forwarding.status()[0].backlog == 0:
                break
        [status] = forwarding.status()
        assert status.backlog == 0 and status.dead == 0 and status.state == "ok"

        remote_ids = remote_platform.stored_ids()
        assert len(remote_ids) == TOTAL  # no statement twice (ids are unique there, count is exact)
        assert sorted(remote_ids) == sorted(sent)
        for sid in (sent[0], sent[TOTAL // 2], sent[-1]):  # arrived as sent
            got, want = remote_platform.stored_statement(sid), originals[sid]
            for key in ("actor", "verb", "object", "result"):
                assert got[key] == want[key], (sid, key)
    finally:
        app.config.update(saved)


def test_attachments_and_2_0_0_statements_arrive_at_a_real_remote_lrs(app, client, lrs_client, remote_platform):
    """Against a second instance of this LRS: a statement with an attachment arrives with its
    content (multipart/mixed, Communication 1.5.2), and a 2.0.0 statement with ``contextAgents``
    arrives under 2.0.0 (IEEE 9274.1.1), instead of both becoming dead letters."""
    import hashlib

    from tests.lms.xapi.test_v2_journey import CONTEXT_2

    saved = {k: app.config.get(k) for k in forwarding.SETTINGS}
    app.config.update({
        "LMS_XAPI_FORWARD": json.dumps([{"name": "platform-two", "endpoint": remote_platform.url + "/xapi/",
                                         "username": remote_platform.key, "password": remote_platform.secret}]),
        "LMS_XAPI_FORWARD_TIMEOUT": 5.0,
    })
    try:
        content = b"certificate of welding, level 3"
        sha = hashlib.sha256(content).hexdigest()
        stmt = make_statement(1, attachments=[{"usageType": "http://example.com/attachment/certificate",
                                               "display": {"en-US": "certificate"}, "contentType": "text/plain",
                                               "length": len(content), "sha2": sha}])
        body = (f"--b\r\nContent-Type: application/json\r\n\r\n{json.dumps(stmt)}\r\n--b\r\n"
                f"Content-Type: text/plain\r\nX-Experience-API-Hash: {sha}\r\n\r\n").encode() + content + b"\r\n--b--\r\n"
        _k, _s, h1 = lrs_client("all")
        _k, _s, h2 = lrs_client("all", name="v2 tool", version="2.0.0")
        resp = client.post("/xapi/statements", data=body, headers={**h1, "Content-Type": "multipart/mixed; boundary=b"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        [with_attachment] = resp.get_json()
        resp = client.post("/xapi/statements", data=json.dumps(make_statement(2, context=CONTEXT_2)),
                           headers={**h2, "Content-Type": "application/json"})
        [v2] = resp.get_json()
        for _ in range(5):
            forwarding.deliver(ignore_pause=True)
            db.session.commit()
            if forwarding.status()[0].backlog == 0:
                break
        [status] = forwarding.status()
        assert status.backlog == 0 and status.dead == 0, status.health.last_error
        assert sorted(remote_platform.stored_ids()) == sorted([with_attachment, v2])
        assert remote_platform.stored_statement(v2)["context"]["contextAgents"] == CONTEXT_2["contextAgents"]
        assert remote_platform.stored_statement(v2)["version"] == "2.0.0"
        from lms.xapi import attachments

        with remote_platform.app.app_context():
            assert attachments.load([sha])[sha].content == content
            db.session.remove()
    finally:
        app.config.update(saved)
