"""The same journey with xAPI 2.0.0 headers over plain HTTP, and what 2.0.0 changes."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.lms.xapi.conftest import make_statement, new_id

CONTEXT_2 = {
    "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:mentor@example.com"},
                       "relevantTypes": ["http://example.com/types/mentor"]}],
    "contextGroups": [{"objectType": "contextGroup",
                       "group": {"objectType": "Group", "mbox": "mailto:cohort@example.com"}}],
}


def _post(client, h, body):
    return client.post("/xapi/statements", data=json.dumps(body), headers={**h, "Content-Type": "application/json"})


def test_v2_statements_journey(client, lrs_client):
    _k, _s, h = lrs_client("all", version="2.0.0")
    about = client.get("/xapi/about", headers={"X-Experience-API-Version": "2.0.0"})
    assert "2.0.0" in about.get_json()["version"] and about.headers["X-Experience-API-Version"] == "2.0.0"

    stmt = make_statement(1, context=CONTEXT_2, timestamp="2026-03-01T08:00:00+08:00")
    resp = _post(client, h, stmt)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["X-Experience-API-Version"] == "2.0.0"
    [sid] = resp.get_json()
    many = _post(client, h, [make_statement(i) for i in range(2, 8)]).get_json()
    got = client.get("/xapi/statements", query_string={"statementId": sid}, headers=h).get_json()
    assert got["version"] == "2.0.0" and got["context"]["contextAgents"] == CONTEXT_2["contextAgents"]

    # related_agents finds the context agent and the context group
    for who in ("mailto:mentor@example.com", "mailto:cohort@example.com"):
        agent = {"mbox": who} if "mentor" in who else {"objectType": "Group", "mbox": who}
        q = {"agent": json.dumps(agent), "related_agents": "true"}
        ids = [s["id"] for s in client.get("/xapi/statements", query_string=q, headers=h).get_json()["statements"]]
        assert ids == [sid]

    # paging with more
    seen = []
    page = client.get("/xapi/statements", query_string={"limit": 2, "ascending": "true"}, headers=h).get_json()
    seen += [s["id"] for s in page["statements"]]
    while page["more"]:
        page = client.get(page["more"], headers=h).get_json()
        seen += [s["id"] for s in page["statements"]]
    assert seen == [sid] + many

    # voiding
    voiding = {"actor": stmt["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": sid}}
    assert _post(client, h, voiding).status_code == 200
    assert client.get("/xapi/statements", query_string={"voidedStatementId": sid}, headers=h).status_code == 200


def test_context_agents_and_groups_are_refused_in_103(client, lrs_client):
    _k, _s, h = lrs_client("all", version="1.0.3")
    for key in ("contextAgents", "contextGroups"):
        resp = _post(client, h, make_statement(1, context={key: CONTEXT_2[key]}))
        assert resp.status_code == 400
        assert resp.get_json()["error"]["property"] == f"context.{key}"


def test_timestamp_rules_differ_by_version(client, lrs_client):
    _k, _s, h1 = lrs_client("all", version="1.0.3")
    _k, _s, h2 = lrs_client("all", version="2.0.0", name="v2")
    no_zone = "2026-03-01T08:00:00"
    assert _post(client, h1, make_statement(1, timestamp=no_zone)).status_code == 200
    resp = _post(client, h2, make_statement(2, timestamp=no_zone))
    assert resp.status_code == 400 and resp.get_json()["error"]["property"] == "timestamp"
    # a 2.0.0 statement is refused under 1.0.3 (2.0.0 accepts 1.0.x statements)
    assert _post(client, h1, make_statement(3, version="2.0.0")).status_code == 400
    resp = _post(client, h2, make_statement(4, version="1.0.3"))
    assert resp.status_code == 200
    stored = client.get("/xapi/statements", query_string={"statementId": resp.get_json()[0]}, headers=h2).get_json()
    assert stored["version"] == "1.0.3"


def test_no_alternate_request_syntax_in_v2(client, lrs_client):
    _k, _s, h = lrs_client("all", version="2.0.0")
    form = urlencode({"Authorization": h["Authorization"], "X-Experience-API-Version": "2.0.0",
                      "Content-Type": "application/json", "content": json.dumps(make_statement(1))})
    resp = client.post("/xapi/statements?method=POST", data=form, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400
    assert resp.headers["X-Experience-API-Version"] == "2.0.0"
    assert resp.get_json()["error"]["property"] == "method"


def test_v2_documents(client, lrs_client):
    _k, _s, h = lrs_client("all", version="2.0.0")
    agent = json.dumps({"mbox": "mailto:learner@example.com"})
    q = {"activityId": "http://example.com/activities/1", "agent": agent, "stateId": "s", "registration": new_id()}
    jh = {**h, "Content-Type": "application/json"}
    assert client.put("/xapi/activities/state", query_string=q, data=b'{"a":1}', headers=jh).status_code == 204
    got = client.get("/xapi/activities/state", query_string=q, headers=h)
    assert got.get_json() == {"a": 1} and got.headers["X-Experience-API-Version"] == "2.0.0"
    pq = {"activityId": "http://example.com/activities/1", "profileId": "p"}
    assert client.put("/xapi/activities/profile", query_string=pq, data=b"{}", headers=jh).status_code == 204
    assert client.put("/xapi/activities/profile", query_string=pq, data=b"{}", headers=jh).status_code == 409
    aq = {"agent": agent, "profileId": "p"}
    assert client.post("/xapi/agents/profile", query_string=aq, data=b'{"x":1}', headers=jh).status_code == 204
    assert client.get("/xapi/agents/profile", query_string=aq, headers=h).get_json() == {"x": 1}
