"""Bad input to the LRS is a 4xx (never a 500), on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import json

import pytest


@pytest.fixture
def lrs_headers(app):
    from lms.core.db import db
    from lms.xapi.credentials import create_client

    _c, key, secret = create_client("fuzz", ["all"])
    db.session.commit()
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def _statement(**over):
    st = {"actor": {"mbox": "mailto:a@example.com", "name": "A"},
          "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
          "object": {"id": "http://example.com/a", "definition": {"name": {"en-US": "A"}}}}
    st.update(over)
    return st


@pytest.mark.parametrize("body", [
    _statement(verb={"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "a\x00b"}}),
    _statement(actor={"mbox": "mailto:a@example.com", "name": "x\x00y"}),
    _statement(object={"id": "http://example.com/a\x00"}),
    _statement(result={"response": "\x00"}),
])
def test_nul_characters_in_statements_are_not_a_server_error(client, lrs_headers, body):
    resp = client.post("/xapi/statements", data=json.dumps(body), headers=lrs_headers)
    assert resp.status_code < 500, resp.get_data(as_text=True)


@pytest.mark.parametrize("params", [{"agent": '{"mbox": "mailto:a\\u0000@example.com"}'},
                                    {"activity": "http://example.com/\x00"}, {"registration": "\x00"},
                                    {"since": "2026-01-01T00:00:00\x00Z"}, {"verb": "http://x/\x00"},
                                    {"statementId": "\x00"}])
def test_nul_characters_in_lrs_queries_are_not_a_server_error(client, lrs_headers, params):
    resp = client.get("/xapi/statements", query_string=params, headers=lrs_headers)
    assert resp.status_code < 500, resp.get_data(as_text=True)


def test_nul_characters_in_documents_are_not_a_server_error(client, lrs_headers):
    q = {"activityId": "http://example.com/a", "agent": json.dumps({"mbox": "mailto:a@example.com"}),
         "stateId": "s\x00"}
    assert client.put("/xapi/activities/state", query_string=q, data=b"{}", headers=lrs_headers).status_code < 500
    q["stateId"] = "s"
    assert client.put("/xapi/activities/state", query_string=q, data=json.dumps({"a": "\x00"}),
                      headers=lrs_headers).status_code < 500
