"""Property-based tests of the LRS over HTTP (hypothesis): random valid statements round-trip
exactly; malformed ones are refused with 400 (never a 500) and a batch is stored whole or not at all.

The statement strategies are the validation tests' own (``test_validation_properties``).
"""
from __future__ import annotations

import copy
import json
import uuid

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lms.xapi.test_validation_properties import V1, V2, json_scalars, raw_scalars, statements

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LRS_SET = ("stored", "authority", "version")


def _storable(stmt: dict) -> dict:
    """Fresh id (examples share one database) and attachments by fileUrl (no multipart here)."""
    stmt = copy.deepcopy(stmt)
    stmt["id"] = str(uuid.uuid4())
    for attachment in stmt.get("attachments", []):
        attachment.setdefault("fileUrl", "http://example.com/file")
    return stmt


def _expected(stmt: dict) -> dict:
    """What the LRS stores, apart from the properties it sets: single context activities as arrays."""
    out = copy.deepcopy(stmt)
    for holder in (out, out.get("object") if out["object"].get("objectType") == "SubStatement" else None):
        ca = (holder or {}).get("context", {}).get("contextActivities")
        for key, value in (ca or {}).items():
            if isinstance(value, dict):
                ca[key] = [value]
    for key in LRS_SET:
        out.pop(key, None)
    return out


def _count(app):
    from lms.core.db import db
    from lms.xapi.models import Statement

    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Statement))


@SETTINGS
@given(data=st.data())
def test_valid_statements_round_trip_exactly(client, lrs_client, data):
    version = data.draw(st.sampled_from([V1, V2]))
    headers = lrs_client("all", version=version)[2]
    batch = [_storable(s) for s in data.draw(st.lists(statements(version), min_size=1, max_size=3))]
    resp = client.post("/xapi/statements", data=json.dumps(batch), headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json() == [s["id"] for s in batch]
    for sent in batch:
        got = client.get("/xapi/statements", query_string={"statementId": sent["id"]}, headers=headers)
        if got.status_code == 404:  # voided by a later statement of the same batch
            got = client.get("/xapi/statements", query_string={"voidedStatementId": sent["id"]}, headers=headers)
        stored = got.get_json()
        assert stored["version"] == sent.get("version", "2.0.0" if version == V2 else "1.0.0")
        assert stored["authority"]["name"] == "test client"
        if "timestamp" not in sent:
            assert stored["timestamp"] == stored["stored"]
            stored.pop("timestamp")
        assert _expected(stored) == _expected(sent)


@SETTINGS
@given(data=st.data())
def test_malformed_statements_are_refused_whole_never_a_500(app, client, lrs_client, data):
    version = data.draw(st.sampled_from([V1, V2]))
    headers = lrs_client("all", version=version)[2]
    batch = [_storable(s) for s in data.draw(st.lists(statements(version), min_size=1, max_size=3))]
    victim = data.draw(st.integers(0, len(batch) - 1))
    key = data.draw(st.sampled_from(sorted(batch[victim]) + ["unknownProperty"]))
    batch[victim][key] = data.draw(raw_scalars)
    before = _count(app)
    resp = client.post("/xapi/statements", data=json.dumps(batch), headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)
    after = _count(app)
    if resp.status_code == 400:
        error = resp.get_json()["error"]
        assert error["message"]
        assert after == before
    else:
        assert after == before + len(batch)


@SETTINGS
@given(body=st.one_of(st.binary(max_size=60), st.recursive(json_scalars, lambda c: st.lists(c, max_size=3)
                                                            | st.dictionaries(st.text(max_size=5), c, max_size=3),
                                                            max_leaves=8).map(lambda v: json.dumps(v).encode())))
def test_random_bodies_never_cause_a_500(client, lrs_client, body):
    headers = lrs_client("all")[2]
    for method, url in (("POST", "/xapi/statements"), ("PUT", f"/xapi/statements?statementId={uuid.uuid4()}")):
        resp = client.open(url, method=method, data=body, headers={**headers, "Content-Type": "application/json"})
        assert resp.status_code in (200, 204, 400), resp.get_data(as_text=True)
