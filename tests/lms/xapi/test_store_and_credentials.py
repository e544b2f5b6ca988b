"""The read interface (store), credentials and the ``flask lrs client`` commands."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.core.db import db
from lms.xapi import credentials, recorder, store
from tests.lms.xapi.conftest import make_statement


def test_load_statements_keeps_order_and_skips_unknown(app):
    ids = recorder.record_many([make_statement(i) for i in range(3)])
    db.session.commit()
    got = store.load_statements([ids[2], "not-a-uuid", "00000000-0000-4000-8000-000000000000", ids[0]])
    assert [s.id for s in got] == [ids[2], ids[0]]
    assert got[0].object_type == "Activity" and got[0].registration is None


def test_iter_all_statement_ids_in_batches_and_agent_iteration(app):
    first = recorder.record_many([make_statement(i) for i in range(5)])
    db.session.commit()
    later = recorder.record_many([make_statement(i, actor="mailto:other@example.com") for i in range(3)])
    db.session.commit()
    batches = list(store.iter_all_statement_ids(batch=3))
    assert [len(b) for b in batches] == [3, 3, 2]
    assert sum(batches, []) == first + later
    learner = make_statement()["actor"]
    assert [s.id for s in store.iter_statements_for_agent(learner, batch=2)] == first
    since = store.load_statements([first[-1]])[0].stored - dt.timedelta(milliseconds=1)
    assert [s.id for s in store.iter_statements_for_agent(learner, since=since)] == first
    assert list(store.iter_statements_for_agent({"mbox": "mailto:nobody@example.com"})) == []


def test_credentials_are_checked_by_keyed_hash_and_cached(app):
    client, key, secret = credentials.create_client("reader", ["statements/read"])
    db.session.commit()
    assert client.secret_hash != secret and len(client.secret_hash) == 64
    info = credentials.authenticate(key, secret)
    assert info is not None and info.has("statements/read") and not info.has("statements/write")
    assert info.authority["account"]["name"] == f"lrs-client:{key}"
    assert credentials.authenticate(key, secret + "x") is None
    assert credentials.authenticate("nokey", secret) is None
    assert key in app.extensions["xapi_client_cache"]
    credentials.revoke_client(client)
    db.session.commit()
    assert credentials.authenticate(key, secret) is None


def test_unknown_scope_is_refused(app):
    import pytest

    from lms.xapi.errors import XAPIValidationError

    with pytest.raises(XAPIValidationError):
        credentials.create_client("x", ["statements/everything"])


def test_launch_credentials_expire_and_are_purged(app, create_user):
    from lms.xapi.models import Client
    from lms.xapi.tasks import purge_launch_credentials

    user = create_user()
    key, secret = credentials.create_launch_credential(user, registration="a0b1c2d3-0000-4000-8000-000000000001",
                                                       activity_iri="http://example.com/a", ttl_seconds=60)
    db.session.commit()
    info = credentials.authenticate(key, secret)
    assert info.actor == recorder.actor_for(user)
    assert sorted(info.scopes) == sorted(credentials.LAUNCH_SCOPES)
    assert credentials.lrs_endpoint() == app.config["LMS_PUBLIC_URL"].rstrip("/") + "/xapi/"
    row = db.session.scalars(sa.select(Client).where(Client.key == key)).one()
    row.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    db.session.commit()
    assert purge_launch_credentials() == 1
    assert db.session.scalars(sa.select(Client).where(Client.key == key)).first() is None


def test_cli_creates_lists_and_revokes_clients(app, runner):
    result = runner.invoke(args=["lrs", "client", "create", "Province LRS", "--scope", "statements/read",
                                 "--scope", "statements/write"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.strip().splitlines())
    key, secret = lines["key"].strip(), lines["secret"].strip()
    assert credentials.authenticate(key, secret).has("statements/write")
    listed = runner.invoke(args=["lrs", "client", "list"])
    assert key in listed.output and "Province LRS" in listed.output
    bad = runner.invoke(args=["lrs", "client", "create", "x", "--scope", "nope"])
    assert bad.exit_code != 0 and "unknown scope" in bad.output
    assert runner.invoke(args=["lrs", "client", "revoke", key]).exit_code == 0
    app.extensions["xapi_client_cache"].clear()
    assert credentials.authenticate(key, secret) is None
