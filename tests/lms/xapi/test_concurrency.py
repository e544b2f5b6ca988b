"""Concurrent writers on a live server: same statement id, and batches sharing new activities."""
from __future__ import annotations

import json
import threading
import urllib.request
import uuid

import sqlalchemy as sa

from tests.lms.xapi.conftest import make_statement


def _send(url, method, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                 headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)


def test_same_id_from_many_clients_is_stored_once(live_server, lrs_client):
    from lms.core.db import db
    from lms.xapi.models import Statement

    _k, _s, h = lrs_client("all")
    sid = str(uuid.uuid4())
    stmt = make_statement(1, id=sid)
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(
        _send(f"{live_server.url}/xapi/statements?statementId={sid}", "PUT", stmt, h))) for _ in range(6)]
    _run(threads)
    assert statuses == [204] * 6
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)) == 1


def test_concurrent_batches_sharing_new_activities_all_succeed(live_server, lrs_client):
    from lms.core.db import db
    from lms.xapi.models import Activity, Statement

    _k, _s, h = lrs_client("all")
    statuses = []

    def worker(w):
        # every batch names the same 20 new activities, in different orders
        batch = [make_statement(i, actor=f"mailto:w{w}@example.com") for i in range(20)]
        batch = batch[w % 20:] + batch[:w % 20]
        statuses.append(_send(f"{live_server.url}/xapi/statements", "POST", batch, h))

    _run([threading.Thread(target=worker, args=(w,)) for w in range(6)])
    assert statuses == [200] * 6
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Statement)) == 120
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 20
