"""Requirements of xAPI 1.0.3 and IEEE 9274.1.1 (2.0.0) checked over HTTP (issue 11).

Each test cites the section of the specification it reads; the ADL conformance requirement
codes (XAPI-000nn) are given where the issue named them.
"""
from __future__ import annotations

import copy
import json

import pytest

from tests.lms.xapi.conftest import make_statement, new_id

CT = "X-Experience-API-Consistent-Through"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:learner@example.com"})
ACTIVITY = "http://example.com/activities/1"


def post(client, headers, body):
    return client.post("/xapi/statements", data=json.dumps(body),
                       headers={**headers, "Content-Type": "application/json"})


def listed(client, headers, **params) -> list[str]:
    resp = client.get("/xapi/statements", query_string=params, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [s["id"] for s in resp.get_json()["statements"]]


def ref(target: str, *, verb: str = "http://example.com/verbs/commented", actor="mailto:other@example.com") -> dict:
    return {"actor": {"mbox": actor}, "verb": {"id": verb}, "object": {"objectType": "StatementRef", "id": target}}


# --- 1. X-Experience-API-Consistent-Through on every Statements response ------------------------


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_consistent_through_is_on_every_statements_response_errors_and_writes_included(client, lrs_client, version):
    """1.0.3 Communication 2.1.3 (Statements GET, "Requirements": the LRS MUST include the header
    ``X-Experience-API-Consistent-Through`` in all responses to Statements Resource requests;
    IEEE 9274.1.1 the same). XAPI-00150, -00151, -00153, -00163, -00018, -00182, -00326."""
    _k, _s, h = lrs_client("all", version=version)
    [target] = post(client, h, make_statement(1)).get_json()
    voiding = {**ref(target, verb=VOIDED, actor="mailto:learner@example.com")}
    replies = {
        "POST": post(client, h, voiding),
        "PUT": client.put("/xapi/statements", query_string={"statementId": new_id()},
                          data=json.dumps(make_statement(2)), headers={**h, "Content-Type": "application/json"}),
        "GET unknown parameter": client.get("/xapi/statements", query_string={"LIMIT": "1"}, headers=h),
        "GET statementId with a filter": client.get(
            "/xapi/statements", query_string={"statementId": target, "agent": AGENT}, headers=h),
        "GET a voided statement by statementId": client.get(
            "/xapi/statements", query_string={"statementId": target}, headers=h),
        "GET without credentials": client.get("/xapi/statements",
                                              headers={"X-Experience-API-Version": version}),
        "POST invalid": post(client, h, {"actor": "nobody"}),
        "HEAD": client.head("/xapi/statements", headers=h),
        "DELETE (not allowed)": client.delete("/xapi/statements", headers=h),
    }
    codes = {k: r.status_code for k, r in replies.items()}
    assert codes == {"POST": 200, "PUT": 204, "GET unknown parameter": 400, "GET statementId with a filter": 400,
                     "GET a voided statement by statementId": 404, "GET without credentials": 401,
                     "POST invalid": 400, "HEAD": 200, "DELETE (not allowed)": 405}
    missing = [k for k, r in replies.items() if CT not in r.headers]
    assert missing == []
    # The header is an ISO 8601 timestamp (Communication 2.1.3: "a timestamp").
    from lms.xapi.identifiers import parse_timestamp

    parse_timestamp(replies["POST"].headers[CT])


# --- 2. format=ids --------------------------------------------------------------------------------


def test_ids_format_reduces_activities_to_their_id_inside_substatements_too(client, lrs_client):
    """1.0.3 Communication 2.1.3, ``format`` parameter: "ids": only include minimum information
    necessary in Agent, Activity, Verb and Group Objects to identify them. For Activities this
    means only including the ``id`` (XAPI-00171)."""
    _k, _s, h = lrs_client("all")
    inner = make_statement(5)
    del inner["object"]["objectType"]
    sub = make_statement(6, object={"objectType": "SubStatement", **{k: inner[k] for k in ("actor", "verb", "object")}},
                         context={"contextActivities": {"parent": [{"objectType": "Activity", "id": ACTIVITY,
                                                                   "definition": {"name": {"en": "P"}}}]}})
    [sid] = post(client, h, sub).get_json()
    got = client.get("/xapi/statements", query_string={"statementId": sid, "format": "ids"}, headers=h).get_json()
    assert got["object"]["object"] == {"id": "http://example.com/activities/5"}
    assert got["context"]["contextActivities"]["parent"] == [{"id": ACTIVITY}]
    assert got["object"]["objectType"] == "SubStatement"


# --- 3. Statements targeting voided statements -----------------------------------------------------


def test_statements_targeting_a_voided_statement_are_returned_with_the_voiding_statement(client, lrs_client):
    """1.0.3 Communication 2.1.4 "Voided Statements" (XAPI-00162): the LRS MUST NOT return a
    voided statement, but statements that target it are still returned under the filters it
    would have matched (2.1.3 "Filter Conditions for StatementRefs"): "This includes the
    voiding Statement, which cannot be voided." X has verb V, Y voids X, R (verb V) refers to X:
    ``GET ?verb=V`` returns R and Y."""
    _k, _s, h = lrs_client("all")
    verb_v = "http://adlnet.gov/expapi/verbs/completed"
    [x] = post(client, h, make_statement(1)).get_json()
    [y] = post(client, h, ref(x, verb=VOIDED, actor="mailto:learner@example.com")).get_json()
    [r] = post(client, h, ref(x, verb=verb_v)).get_json()
    assert listed(client, h, verb=verb_v) == [r, y]
    assert listed(client, h, activity="http://example.com/activities/1", ascending="true") == [y, r]


def test_statement_ref_chains_are_followed_to_their_end(client, lrs_client):
    """1.0.3 Communication 2.1.3 "Filter Conditions for StatementRefs": a statement matches when
    it targets a statement that matches, including through a chain of StatementRefs (A <- B <- C:
    C matches the filters A matches). A cycle of references does not loop forever."""
    _k, _s, h = lrs_client("all")
    [a] = post(client, h, make_statement(1, actor="mailto:a@example.com")).get_json()
    [b] = post(client, h, ref(a)).get_json()
    [c] = post(client, h, ref(b)).get_json()
    [d] = post(client, h, ref(c)).get_json()
    agent_a = json.dumps({"mbox": "mailto:a@example.com"})
    assert listed(client, h, agent=agent_a) == [d, c, b, a]
    seen, page = [], client.get("/xapi/statements", query_string={"agent": agent_a, "limit": 1}, headers=h).get_json()
    seen += [s["id"] for s in page["statements"]]
    while page["more"]:
        page = client.get(page["more"], headers=h).get_json()
        seen += [s["id"] for s in page["statements"]]
    assert seen == [d, c, b, a]
    # two statements that target each other (a StatementRef may name a statement not stored yet)
    p_id, q_id = new_id(), new_id()
    for sid, target in ((p_id, q_id), (q_id, p_id)):
        resp = client.put("/xapi/statements", query_string={"statementId": sid}, data=json.dumps(ref(target)),
                          headers={**h, "Content-Type": "application/json"})
        assert resp.status_code == 204
    assert listed(client, h, agent=agent_a) == [d, c, b, a]


# --- 4. Empty definition --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_an_empty_activity_definition_is_valid_also_inside_a_substatement(client, lrs_client, version):
    """1.0.3 Data 2.4.4.1 "Activity Definition": every property of a definition is optional
    ("Optional" in each row of the table), so ``{}`` is a valid definition; IEEE 9274.1.1 the same."""
    _k, _s, h = lrs_client("all", version=version)
    stmt = make_statement(1)
    stmt["object"]["definition"] = {}
    assert post(client, h, stmt).status_code == 200
    inner = make_statement(2)
    inner["object"]["definition"] = {}
    sub = make_statement(3, object={"objectType": "SubStatement",
                                    **{k: inner[k] for k in ("actor", "verb", "object")}})
    assert post(client, h, sub).status_code == 200


# --- 5. / 6. Document concurrency -----------------------------------------------------------------


@pytest.mark.parametrize("url,params", [
    ("/xapi/activities/profile", {"activityId": ACTIVITY, "profileId": "p"}),
    ("/xapi/agents/profile", {"agent": AGENT, "profileId": "p"}),
])
def test_103_profile_put_without_a_precondition_header_is_refused(client, lrs_client, url, params):
    """1.0.3 Communication 3.1 "Concurrency": a client making a PUT request to the Activity
    Profile or Agent Profile resource MUST include ``If-Match`` or ``If-None-Match``; without
    either the LRS answers 409 for an existing document and 400 (as the ADL reference LRS does)
    for a new one. The document is not created."""
    _k, _s, h = lrs_client("all")
    jh = {**h, "Content-Type": "application/json"}
    resp = client.put(url, query_string=params, data=b'{"v":1}', headers=jh)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["property"] == "If-None-Match"
    assert client.get(url, query_string=params, headers=h).status_code == 404
    assert client.put(url, query_string=params, data=b'{"v":1}',
                      headers={**jh, "If-None-Match": "*"}).status_code == 204
    assert client.put(url, query_string=params, data=b'{"v":2}', headers=jh).status_code == 409


def test_103_state_put_stays_exempt_from_preconditions(client, lrs_client):
    """1.0.3 Communication 3.1: the concurrency requirements name the profile resources; the
    State resource is exempt (tincan 1.0.0's ``save_state`` PUTs without a header)."""
    _k, _s, h = lrs_client("all")
    q = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
    for body in (b"1", b"2"):
        assert client.put("/xapi/activities/state", query_string=q, data=body, headers=h).status_code == 204
    assert client.get("/xapi/activities/state", query_string=q, headers=h).get_data() == b"2"


def test_200_state_put_without_precondition_over_an_existing_document_is_a_conflict(client, lrs_client):
    """IEEE 9274.1.1 (2.0.0) Communication "Concurrency": the requirements apply to every
    document resource; a PUT without ``If-Match``/``If-None-Match`` for a document that exists
    is answered 409 and the document is left unchanged. A new document may be created."""
    _k, _s, h = lrs_client("all", version="2.0.0")
    q = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
    assert client.put("/xapi/activities/state", query_string=q, data=b"1", headers=h).status_code == 204
    assert client.put("/xapi/activities/state", query_string=q, data=b"2", headers=h).status_code == 409
    got = client.get("/xapi/activities/state", query_string=q, headers=h)
    assert got.get_data() == b"1"
    assert client.put("/xapi/activities/state", query_string=q, data=b"3",
                      headers={**h, "If-Match": got.headers["ETag"]}).status_code == 204


# --- 7. Duration precision in comparisons ----------------------------------------------------------


def test_200_signed_statement_durations_compare_to_hundredths(client, lrs_client):
    """IEEE 9274.1.1 (2.0.0) Data "Durations" (1.0.3 Data 4.6 allows it): precision beyond
    0.01 s is not included when statements are compared, e.g. for a signature: JSON
    ``P1DT12H36M0.1237S`` against a signed payload ``...0.12S`` is accepted."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from lms.xapi.signature import sign_statement
    from tests.lms.xapi.test_signature import signature_attachment

    _k, _s, h = lrs_client("all", version="2.0.0")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed = make_statement(1, id=new_id(), result={"duration": "P1DT12H36M0.12S"})
    jws = sign_statement(signed, key)
    sent = copy.deepcopy(signed)
    sent["result"]["duration"] = "P1DT12H36M0.1237S"
    sent["attachments"] = [signature_attachment(jws)]
    boundary = "sig"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(sent)}\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sent['attachments'][0]['sha2']}\r\n\r\n{jws}\r\n--{boundary}--\r\n")
    resp = client.post("/xapi/statements", data=body.encode(),
                       headers={**h, "Content-Type": f'multipart/mixed; boundary="{boundary}"'})
    assert resp.status_code == 200, resp.get_data(as_text=True)


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_idempotent_repost_ignores_duration_digits_beyond_hundredths(client, lrs_client, version):
    """IEEE 9274.1.1 (2.0.0) Data "Durations" / 1.0.3 Data 4.6: precision beyond 0.01 s does not
    count when statements are compared; re-sending a statement whose duration differs only there
    is the same statement (Communication 2.1.1: 204/200, not 409). A hundredth is a difference."""
    _k, _s, h = lrs_client("all", version=version)
    sid = new_id()
    stmt = make_statement(1, id=sid, result={"duration": "PT4.1237S"})
    assert post(client, h, stmt).status_code == 200
    again = {**stmt, "result": {"duration": "PT4.12S"}}
    assert post(client, h, again).status_code == 200
    assert client.put("/xapi/statements", query_string={"statementId": sid}, data=json.dumps(again),
                      headers={**h, "Content-Type": "application/json"}).status_code == 204
    differs = {**stmt, "result": {"duration": "PT4.13S"}}
    assert post(client, h, differs).status_code == 409


# --- 8. Requests without a version header ----------------------------------------------------------


@pytest.mark.parametrize("resource,params", [
    ("statements", {}),
    ("activities/state", {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}),
    ("activities", {"activityId": ACTIVITY}),
])
def test_a_request_without_a_version_header_is_refused_and_told_what_to_send(client, lrs_client, resource, params):
    """1.0.3 Communication 3.3 "Versioning" and IEEE 9274.1.1 "Versioning": every request but
    one to the About resource carries ``X-Experience-API-Version``; the LRS rejects one without
    it with 400. Both versions agree, so the LRS does not guess a version and go on: it answers
    400, labelled 1.0.3 (every response carries the header), naming the versions it speaks."""
    _k, _s, h = lrs_client("all")
    headers = {k: v for k, v in h.items() if k != "X-Experience-API-Version"}
    resp = client.get(f"/xapi/{resource}", query_string=params, headers=headers)
    assert resp.status_code == 400
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"
    error = resp.get_json()["error"]
    assert error["property"] == "X-Experience-API-Version"
    assert "1.0.3" in error["message"] and "2.0.0" in error["message"]
    about = client.get("/xapi/about")
    assert about.status_code == 200 and about.headers["X-Experience-API-Version"] == "1.0.3"
