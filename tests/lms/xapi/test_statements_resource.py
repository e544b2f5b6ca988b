"""/xapi/statements over HTTP (Flask test client): writing, idempotency, voiding, queries, paging."""
from __future__ import annotations

import json

from tests.lms.xapi.conftest import make_statement, new_id

V = "1.0.3"


def post(client, headers, body, **kw):
    return client.post("/xapi/statements", data=json.dumps(body), headers={**headers, "Content-Type": "application/json"}, **kw)


def get(client, headers, **params):
    return client.get("/xapi/statements", query_string=params, headers=headers)


def test_post_one_and_get_it_back(client, lrs_client):
    _k, _s, h = lrs_client("all")
    resp = post(client, h, make_statement(1))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"
    [sid] = resp.get_json()
    got = get(client, h, statementId=sid)
    assert got.status_code == 200
    body = got.get_json()
    assert body["id"] == sid and body["version"] == "1.0.0"
    assert body["authority"]["name"] == "test client"
    assert "Last-Modified" in got.headers


def test_version_header_is_required_and_echoed(client, lrs_client):
    _k, _s, h = lrs_client("all")
    headers = {k: v for k, v in h.items() if k != "X-Experience-API-Version"}
    resp = get(client, headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["property"] == "X-Experience-API-Version"
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"
    resp = get(client, {**headers, "X-Experience-API-Version": "2.0.0"})
    assert resp.status_code == 200 and resp.headers["X-Experience-API-Version"] == "2.0.0"
    assert client.get("/xapi/about").status_code == 200


def test_credentials_are_required_and_checked(client, lrs_client):
    _k, _s, h = lrs_client("statements/read")
    assert get(client, {"X-Experience-API-Version": V}).status_code == 401
    bad = {"Authorization": "Basic " + "Zm9vOmJhcg==", "X-Experience-API-Version": V}
    resp = get(client, bad)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic")
    assert get(client, h).status_code == 200
    assert post(client, h, make_statement()).status_code == 403


def test_batch_with_one_invalid_statement_stores_nothing(client, lrs_client):
    _k, _s, h = lrs_client("all")
    bad = make_statement(2)
    bad["verb"] = {"id": "not an iri"}
    resp = post(client, h, [make_statement(1), bad])
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["statement"] == 1 and error["property"] == "verb.id"
    assert get(client, h).get_json()["statements"] == []


def test_same_id_same_content_accepted_different_content_conflict(client, lrs_client):
    _k, _s, h = lrs_client("all")
    sid = new_id()
    stmt = make_statement(3, id=sid)
    put = lambda body: client.put("/xapi/statements", query_string={"statementId": sid}, data=json.dumps(body),
                                  headers={**h, "Content-Type": "application/json"})
    assert put(stmt).status_code == 204
    assert put(stmt).status_code == 204
    assert post(client, h, stmt).status_code == 200
    changed = make_statement(4, id=sid)
    resp = put(changed)
    assert resp.status_code == 409
    assert len(get(client, h).get_json()["statements"]) == 1


def test_put_id_mismatch_and_missing_id(client, lrs_client):
    _k, _s, h = lrs_client("all")
    hh = {**h, "Content-Type": "application/json"}
    assert client.put("/xapi/statements", data=json.dumps(make_statement()), headers=hh).status_code == 400
    resp = client.put("/xapi/statements", query_string={"statementId": new_id()},
                      data=json.dumps(make_statement(id=new_id())), headers=hh)
    assert resp.status_code == 400


def test_voiding(client, lrs_client):
    _k, _s, h = lrs_client("all")
    [target] = post(client, h, make_statement(5)).get_json()
    voiding = {"actor": make_statement()["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": target}}
    [vid] = post(client, h, voiding).get_json()
    assert get(client, h, statementId=target).status_code == 404
    assert get(client, h, voidedStatementId=target).get_json()["id"] == target
    ids = [s["id"] for s in get(client, h).get_json()["statements"]]
    assert ids == [vid]
    # a voiding statement cannot be voided
    revoid = {**voiding, "object": {"objectType": "StatementRef", "id": vid}}
    resp = post(client, h, revoid)
    assert resp.status_code == 400
    assert get(client, h, voidedStatementId=vid).status_code == 404


def test_filters(client, lrs_client):
    _k, _s, h = lrs_client("all")
    reg = new_id()
    a = make_statement(1, actor="mailto:a@example.com", verb="completed",
                       context={"registration": reg, "contextActivities": {"parent": {"id": "http://example.com/course"}},
                                "instructor": {"mbox": "mailto:teacher@example.com"}})
    b = make_statement(2, actor="mailto:b@example.com", verb="attempted")
    c = make_statement(1, actor="mailto:b@example.com", verb="completed")
    ida, idb, idc = post(client, h, [a, b, c]).get_json()

    def ids(**params):
        resp = get(client, h, **params)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert "X-Experience-API-Consistent-Through" in resp.headers
        return [s["id"] for s in resp.get_json()["statements"]]

    agent_b = json.dumps({"mbox": "mailto:b@example.com"})
    assert ids(agent=agent_b) == [idc, idb]
    assert ids(agent=agent_b, ascending="true") == [idb, idc]
    assert ids(verb="http://adlnet.gov/expapi/verbs/completed") == [idc, ida]
    assert ids(activity="http://example.com/activities/1") == [idc, ida]
    assert ids(activity="http://example.com/course") == []
    assert ids(activity="http://example.com/course", related_activities="true") == [ida]
    teacher = json.dumps({"mbox": "mailto:teacher@example.com"})
    assert ids(agent=teacher) == []
    assert ids(agent=teacher, related_agents="true") == [ida]
    assert ids(registration=reg) == [ida]
    assert ids(agent=agent_b, verb="http://adlnet.gov/expapi/verbs/completed") == [idc]
    assert ids(agent=agent_b, activity="http://example.com/activities/1") == [idc]
    assert ids(verb="http://example.com/unknown") == []
    stored = get(client, h, statementId=idb).get_json()["stored"]
    assert set(ids(since=stored)) == set()  # one batch: everything has the same stored time
    assert set(ids(until=stored)) == {ida, idb, idc}
    assert get(client, h, agent="{bad json").status_code == 400
    assert get(client, h, unknown="1").status_code == 400
    assert get(client, h, limit="-1").status_code == 400


def test_more_paging_is_stable_while_statements_arrive(client, lrs_client):
    _k, _s, h = lrs_client("all")
    first = post(client, h, [make_statement(i) for i in range(7)]).get_json()
    page = get(client, h, limit=3).get_json()
    seen = [s["id"] for s in page["statements"]]
    post(client, h, [make_statement(100 + i) for i in range(5)])  # arrive while paging
    while page["more"]:
        resp = client.get(page["more"], headers=h)
        assert resp.status_code == 200
        page = resp.get_json()
        seen += [s["id"] for s in page["statements"]]
    assert sorted(seen) == sorted(first) and len(seen) == len(set(seen))
    assert client.get("/xapi/statements?more=garbage", headers=h).status_code == 400


def test_formats_and_language(client, lrs_client):
    _k, _s, h = lrs_client("all")
    stmt = make_statement(9)
    stmt["object"]["definition"]["name"] = {"en-US": "Welding", "zh-CN": "焊接"}
    stmt["verb"]["display"] = {"en-US": "completed", "zh-CN": "完成"}
    [sid] = post(client, h, stmt).get_json()
    ids = get(client, h, statementId=sid, format="ids").get_json()
    assert ids["object"] == {"id": "http://example.com/activities/9"}  # Communication 2.1.3: ids = minimum
    assert ids["verb"] == {"id": "http://adlnet.gov/expapi/verbs/completed"}
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
    resp = client.get("/xapi/statements", query_string={"statementId": sid, "format": "canonical"},
                      headers={**h, "Accept-Language": "zh-CN"})
    canon = resp.get_json()
    assert canon["object"]["definition"]["name"] == {"zh-CN": "焊接"}
    assert canon["verb"]["display"] == {"zh-CN": "完成"}
    exact = get(client, h, statementId=sid).get_json()
    assert exact["object"]["definition"]["name"] == {"en-US": "Welding", "zh-CN": "焊接"}
    assert get(client, h, format="fancy").status_code == 400


def test_read_mine_scope_sees_only_own_statements(client, lrs_client):
    _k, _s, writer = lrs_client("all", name="writer")
    _k2, _s2, mine = lrs_client("statements/write", "statements/read/mine", name="mine")
    post(client, writer, make_statement(1))
    [own] = post(client, mine, make_statement(2)).get_json()
    assert [s["id"] for s in get(client, mine).get_json()["statements"]] == [own]
    assert len(get(client, writer).get_json()["statements"]) == 2


def test_head_and_cors(client, lrs_client):
    _k, _s, h = lrs_client("all")
    resp = client.head("/xapi/statements", headers=h)
    assert resp.status_code == 200 and resp.get_data() == b""
    resp = client.options("/xapi/statements", headers={"Origin": "http://content.example.com",
                                                       "Access-Control-Request-Method": "PUT"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Experience-API-Version" in resp.headers["Access-Control-Allow-Headers"]


def test_cors_origins_are_configurable(app, client, lrs_client):
    _k, _s, h = lrs_client("all")
    app.config["LMS_XAPI_CORS_ORIGINS"] = "http://ok.example.com"
    try:
        ok = client.get("/xapi/about", headers={"Origin": "http://ok.example.com"})
        assert ok.headers["Access-Control-Allow-Origin"] == "http://ok.example.com"
        other = client.get("/xapi/about", headers={"Origin": "http://evil.example.com"})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        app.config["LMS_XAPI_CORS_ORIGINS"] = "*"


def test_alternate_request_syntax_10x_only(client, lrs_client):
    from urllib.parse import urlencode

    _k, _s, h = lrs_client("all")
    sid = new_id()
    form = urlencode({"Authorization": h["Authorization"], "X-Experience-API-Version": "1.0.3",
                      "Content-Type": "application/json", "statementId": sid,
                      "content": json.dumps(make_statement(1))})
    resp = client.post("/xapi/statements?method=PUT", data=form, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 204, resp.get_data(as_text=True)
    form = urlencode({"Authorization": h["Authorization"], "X-Experience-API-Version": "1.0.3", "statementId": sid})
    resp = client.post("/xapi/statements?method=GET", data=form, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200 and resp.get_json()["id"] == sid
    form = urlencode({"Authorization": h["Authorization"], "X-Experience-API-Version": "2.0.0", "statementId": sid})
    resp = client.post("/xapi/statements?method=GET", data=form, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400
    resp = client.post(f"/xapi/statements?method=GET&statementId={sid}", data=form,
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400


def test_external_posts_fire_the_signal_after_commit(app, client, lrs_client):
    from lms.core.extension_points import statement_stored

    calls = []

    def receiver(sender, **kw):
        calls.append(kw)

    _k, _s, h = lrs_client("all")
    statement_stored.connect(receiver)
    try:
        ids = post(client, h, [make_statement(1), make_statement(2)]).get_json()
        post(client, h, [make_statement(1, id=ids[0])])  # already stored: not announced again
    finally:
        statement_stored.disconnect(receiver)
    assert calls == [{"statement_ids": ids, "voided_ids": []}]


def test_attachments_multipart(client, lrs_client):
    import hashlib

    _k, _s, h = lrs_client("all")
    content = "a certificate".encode()
    sha = hashlib.sha256(content).hexdigest()
    stmt = make_statement(1, attachments=[{"usageType": "http://example.com/attachment/certificate",
                                           "display": {"en-US": "certificate"}, "contentType": "text/plain",
                                           "length": len(content), "sha2": sha}])
    boundary = "abc123xyz"

    def body(parts_content):
        parts = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(stmt)}\r\n".encode()]
        for data, digest in parts_content:
            parts.append(f"--{boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
                         f"X-Experience-API-Hash: {digest}\r\n\r\n".encode() + data + b"\r\n")
        return b"".join(parts) + f"--{boundary}--\r\n".encode()

    ct = f"multipart/mixed; boundary={boundary}"
    assert client.post("/xapi/statements", data=body([]), headers={**h, "Content-Type": ct}).status_code == 400
    assert client.post("/xapi/statements", data=body([(b"tampered", sha)]),
                       headers={**h, "Content-Type": ct}).status_code == 400
    resp = client.post("/xapi/statements", data=body([(content, sha)]), headers={**h, "Content-Type": ct})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [sid] = resp.get_json()
    again = client.post("/xapi/statements", data=body([(content, sha)]).replace(b'"actor"', b'"id": "%s", "actor"' % new_id().encode()),
                        headers={**h, "Content-Type": ct})
    assert again.status_code == 200
    from lms.core.db import db
    from lms.xapi.models import Attachment
    import sqlalchemy as sa
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1
    resp = get(client, h, statementId=sid, attachments="true")
    assert resp.headers["Content-Type"].startswith("multipart/mixed")
    assert content in resp.get_data() and sha.encode() in resp.get_data()


def test_resent_statement_equivalent_but_not_identical_is_accepted(client, lrs_client):
    _k, _s, h = lrs_client("all")
    sid = new_id()
    stmt = make_statement(1, id=sid, context={"contextActivities": {"parent": {"id": "http://example.com/c"}}})
    assert post(client, h, stmt).status_code == 200
    # same statement, the single context activity now as an array and the id in upper case
    again = {**stmt, "id": sid.upper(),
             "context": {"contextActivities": {"parent": [{"id": "http://example.com/c"}]}}}
    resp = client.put("/xapi/statements", query_string={"statementId": sid}, data=json.dumps(again),
                      headers={**h, "Content-Type": "application/json"})
    assert resp.status_code == 204
    # the LRS filled the timestamp: sending the stored statement back is the same statement
    stored = get(client, h, statementId=sid).get_json()
    assert post(client, h, stored).status_code == 200


def _multipart(boundary, stmt, parts):
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(stmt)}\r\n".encode()]
    for data, digest, ctype in parts:
        out.append(f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {digest}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(out) + f"--{boundary}--\r\n".encode()


def test_signed_statements_are_verified(client, lrs_client):
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import rsa

    from lms.xapi.signature import sign_statement

    _k, _s, h = lrs_client("all")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stmt = make_statement(1, id=new_id())

    def signed(payload):
        jws = sign_statement(payload, key).encode()
        sha = hashlib.sha256(jws).hexdigest()
        att = {"usageType": "http://adlnet.gov/expapi/attachments/signature", "display": {"en-US": "signature"},
               "contentType": "application/octet-stream", "length": len(jws), "sha2": sha}
        return jws, sha, att

    ct = "multipart/mixed; boundary=sig"
    jws, sha, att = signed(stmt)
    body = _multipart("sig", {**stmt, "attachments": [att]}, [(jws, sha, "application/octet-stream")])
    resp = client.post("/xapi/statements", data=body, headers={**h, "Content-Type": ct})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    # a signature over another statement is refused, naming the attachment
    other = make_statement(2, id=new_id())
    jws, sha, att = signed({**other, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}})
    body = _multipart("sig", {**other, "attachments": [att]}, [(jws, sha, "application/octet-stream")])
    resp = client.post("/xapi/statements", data=body, headers={**h, "Content-Type": ct})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["property"].startswith("attachments")


def test_unknown_xapi_paths_and_methods_answer_json_with_version(client, lrs_client):
    _k, _s, h = lrs_client("all")
    resp = client.get("/xapi/nothing", headers=h)
    assert resp.status_code == 404 and resp.is_json and resp.headers["X-Experience-API-Version"] == "1.0.3"
    resp = client.delete("/xapi/statements", headers=h)
    assert resp.status_code == 405 and resp.get_json()["error"]["code"] == "method_not_allowed"


def test_since_until_limit_zero_and_ascending(client, lrs_client):
    _k, _s, h = lrs_client("all")
    ids = [post(client, h, make_statement(i)).get_json()[0] for i in range(3)]
    stored = [get(client, h, statementId=i).get_json()["stored"] for i in ids]
    listed = lambda **q: [s["id"] for s in get(client, h, **q).get_json()["statements"]]
    if len(set(stored)) == 3:  # three requests, normally three distinct milliseconds
        assert listed(since=stored[0], ascending="true") == ids[1:]
        assert listed(until=stored[1], ascending="true") == ids[:2]
        assert listed(since=stored[0], until=stored[1]) == [ids[1]]
    assert listed(limit=0) == ids[::-1]
    assert listed(limit=1, ascending="true") == ids[:1]
    assert get(client, h, since="yesterday").status_code == 400


def test_statements_referring_to_matching_statements_match_the_filters(client, lrs_client):
    _k, _s, h = lrs_client("all")
    [target] = post(client, h, make_statement(1, actor="mailto:a@example.com")).get_json()
    comment = {"actor": {"mbox": "mailto:b@example.com"}, "verb": {"id": "http://example.com/verbs/commented"},
               "object": {"objectType": "StatementRef", "id": target}}
    [ref] = post(client, h, comment).get_json()
    [third] = post(client, h, make_statement(2, actor="mailto:c@example.com")).get_json()
    listed = lambda **q: [s["id"] for s in get(client, h, **q).get_json()["statements"]]
    assert listed(agent=json.dumps({"mbox": "mailto:a@example.com"})) == [ref, target]
    assert listed(activity="http://example.com/activities/1", ascending="true") == [target, ref]
    assert listed(verb="http://adlnet.gov/expapi/verbs/completed", limit=1, ascending="true") == [target]
    # paging over the merged results neither skips nor repeats
    page = get(client, h, verb="http://adlnet.gov/expapi/verbs/completed", limit=1).get_json()
    seen = [s["id"] for s in page["statements"]]
    while page["more"]:
        page = client.get(page["more"], headers=h).get_json()
        seen += [s["id"] for s in page["statements"]]
    assert seen == [third, ref, target]
    # Communication 2.1.4: the voided statement is gone, but the voiding statement targets it
    # (and through it the target) and is returned: "This includes the voiding Statement".
    voiding = {"actor": {"mbox": "mailto:b@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": ref}}
    [voiding_id] = post(client, h, voiding).get_json()
    assert listed(agent=json.dumps({"mbox": "mailto:a@example.com"})) == [voiding_id, target]


def test_unstorable_text_inside_extensions_is_refused_not_a_500(client, lrs_client):
    _k, _s, h = lrs_client("all")
    for value in ('"\\ud800"', '"a\\u0000b"', '{"k\\udfff": 1}'):
        body = json.dumps(make_statement(1)).replace(
            '"object"', '"result": {"extensions": {"http://example.com/ext": %s}}, "object"' % value)
        resp = client.post("/xapi/statements", data=body, headers={**h, "Content-Type": "application/json"})
        assert resp.status_code in (200, 400), (value, resp.get_data(as_text=True))
        if resp.status_code == 200:
            [sid] = resp.get_json()
            assert get(client, h, statementId=sid).status_code == 200
