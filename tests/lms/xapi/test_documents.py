"""State, activity profile and agent profile resources: ETags, preconditions, merge, ids."""
from __future__ import annotations

import json

AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:learner@example.com"})
ACTIVITY = "http://example.com/activities/1"


def test_state_put_get_merge_ids_delete(client, lrs_client):
    _k, _s, h = lrs_client("all")
    q = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}
    jh = {**h, "Content-Type": "application/json"}
    assert client.put("/xapi/activities/state", query_string=q, data=json.dumps({"a": 1}), headers=jh).status_code == 204
    # the state resource has no concurrency requirement: a second PUT replaces (tincan sends PUT twice)
    assert client.put("/xapi/activities/state", query_string=q, data=json.dumps({"a": 1}), headers=jh).status_code == 204
    resp = client.post("/xapi/activities/state", query_string=q, data=json.dumps({"b": 2}), headers=jh)
    assert resp.status_code == 204
    got = client.get("/xapi/activities/state", query_string=q, headers=h)
    assert got.status_code == 200 and got.get_json() == {"a": 1, "b": 2}
    import hashlib
    assert got.headers["ETag"] == '"%s"' % hashlib.sha1(got.get_data()).hexdigest()
    ids = client.get("/xapi/activities/state", query_string={"activityId": ACTIVITY, "agent": AGENT}, headers=h)
    assert ids.get_json() == ["bookmark"]
    # merge into a non-JSON document is refused
    q2 = {**q, "stateId": "blob"}
    client.put("/xapi/activities/state", query_string=q2, data=b"raw", headers={**h, "Content-Type": "text/plain"})
    assert client.post("/xapi/activities/state", query_string=q2, data=json.dumps({"x": 1}), headers=jh).status_code == 400
    assert client.get("/xapi/activities/state", query_string=q2, headers=h).get_data() == b"raw"
    # delete one, then all
    assert client.delete("/xapi/activities/state", query_string=q, headers=h).status_code == 204
    assert client.get("/xapi/activities/state", query_string=q, headers=h).status_code == 404
    assert client.delete("/xapi/activities/state", query_string={"activityId": ACTIVITY, "agent": AGENT},
                         headers=h).status_code == 204
    assert client.get("/xapi/activities/state", query_string=q2, headers=h).status_code == 404


def test_state_registration_separates_documents(client, lrs_client):
    _k, _s, h = lrs_client("state")
    reg = "a0b1c2d3-0000-4000-8000-000000000001"
    base = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
    client.put("/xapi/activities/state", query_string={**base, "registration": reg}, data=b"1", headers=h)
    client.put("/xapi/activities/state", query_string=base, data=b"2", headers=h)
    assert client.get("/xapi/activities/state", query_string={**base, "registration": reg}, headers=h).get_data() == b"1"
    assert client.get("/xapi/activities/state", query_string=base, headers=h).get_data() == b"2"
    assert client.get("/xapi/activities/state", query_string={**base, "registration": "nope"}, headers=h).status_code == 400


def test_profiles_need_preconditions_and_honour_them(client, lrs_client):
    _k, _s, h = lrs_client("profile")
    for url, q in (("/xapi/activities/profile", {"activityId": ACTIVITY, "profileId": "p"}),
                   ("/xapi/agents/profile", {"agent": AGENT, "profileId": "p"})):
        jh = {**h, "Content-Type": "application/json"}
        assert client.put(url, query_string=q, data=b'{"v":1}', headers={**jh, "If-None-Match": "*"}).status_code == 204
        assert client.put(url, query_string=q, data=b'{"v":2}', headers={**jh, "If-None-Match": "*"}).status_code == 412
        assert client.put(url, query_string=q, data=b'{"v":2}', headers=jh).status_code == 409
        etag = client.get(url, query_string=q, headers=h).headers["ETag"]
        assert client.put(url, query_string=q, data=b'{"v":2}', headers={**jh, "If-Match": '"wrong"'}).status_code == 412
        resp = client.put(url, query_string=q, data=b'{"v":2}', headers={**jh, "If-Match": etag})
        assert resp.status_code == 204 and resp.headers["ETag"] != etag
        assert client.post(url, query_string=q, data=b'{"w":3}', headers=jh).status_code == 204
        assert client.get(url, query_string=q, headers=h).get_json() == {"v": 2, "w": 3}
        ids_q = {k: v for k, v in q.items() if k != "profileId"}
        assert client.get(url, query_string=ids_q, headers=h).get_json() == ["p"]
        assert client.delete(url, query_string=q, headers={**h, "If-Match": '"wrong"'}).status_code == 412
        assert client.delete(url, query_string=q, headers=h).status_code == 204
        assert client.get(url, query_string=q, headers=h).status_code == 404
        assert client.delete(url, query_string=ids_q, headers=h).status_code == 400


def test_document_scopes_and_launch_credentials(app, client, lrs_client, create_user):
    import base64

    from lms.core.db import db
    from lms.xapi.credentials import create_launch_credential
    from lms.xapi.recorder import actor_for

    _k, _s, h = lrs_client("statements/read")
    q = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
    assert client.put("/xapi/activities/state", query_string=q, data=b"1", headers=h).status_code == 403
    user = create_user()
    key, secret = create_launch_credential(user, registration="a0b1c2d3-0000-4000-8000-000000000001",
                                           activity_iri=ACTIVITY)
    db.session.commit()
    lh = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
          "X-Experience-API-Version": "1.0.3"}
    own = json.dumps(actor_for(user))
    assert client.put("/xapi/activities/state", query_string={**q, "agent": own}, data=b"1", headers=lh).status_code == 204
    assert client.put("/xapi/activities/state", query_string=q, data=b"1", headers=lh).status_code == 403
    stmt = {"actor": actor_for(user), "verb": {"id": "http://adlnet.gov/expapi/verbs/launched"},
            "object": {"id": ACTIVITY}}
    # A launch credential's statements must carry its registration, and it may not void.
    resp = client.post("/xapi/statements", data=json.dumps(stmt), headers={**lh, "Content-Type": "application/json"})
    assert resp.status_code == 403
    stmt["context"] = {"registration": "a0b1c2d3-0000-4000-8000-000000000001"}
    resp = client.post("/xapi/statements", data=json.dumps(stmt), headers={**lh, "Content-Type": "application/json"})
    assert resp.status_code == 200
    own_ids = resp.get_json()
    other = {**stmt, "actor": {"mbox": "mailto:someone@example.com"}}
    resp = client.post("/xapi/statements", data=json.dumps(other), headers={**lh, "Content-Type": "application/json"})
    assert resp.status_code == 403
    voiding = {**stmt, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": own_ids[0]}}
    resp = client.post("/xapi/statements", data=json.dumps(voiding), headers={**lh, "Content-Type": "application/json"})
    assert resp.status_code == 403
    got = client.get("/xapi/statements", headers=lh).get_json()["statements"]
    assert [s["id"] for s in got] == own_ids
    assert got[0]["authority"]["account"]["name"] == str(user.uuid)


def test_activities_and_agents_resources(client, lrs_client):
    from tests.lms.xapi.conftest import make_statement

    _k, _s, h = lrs_client("all")
    client.post("/xapi/statements", data=json.dumps(make_statement(1)), headers={**h, "Content-Type": "application/json"})
    act = client.get("/xapi/activities", query_string={"activityId": "http://example.com/activities/1"}, headers=h)
    assert act.get_json()["definition"]["name"] == {"en-US": "Activity 1"}
    unknown = client.get("/xapi/activities", query_string={"activityId": "http://example.com/x"}, headers=h)
    assert unknown.get_json() == {"objectType": "Activity", "id": "http://example.com/x"}
    assert client.get("/xapi/activities", headers=h).status_code == 400
    person = client.get("/xapi/agents", query_string={"agent": AGENT}, headers=h).get_json()
    assert person == {"objectType": "Person", "name": ["Learner"], "mbox": ["mailto:learner@example.com"]}
    assert client.get("/xapi/agents", query_string={"agent": '{"mbox": "x"}'}, headers=h).status_code == 400


def test_expired_and_revoked_credentials_are_refused(app, client, lrs_client, create_user):
    import base64
    import datetime as dt

    import sqlalchemy as sa

    from lms.core.db import db
    from lms.xapi.credentials import create_launch_credential, revoke_client
    from lms.xapi.models import Client

    user = create_user()
    key, secret = create_launch_credential(user, registration="a0b1c2d3-0000-4000-8000-000000000001",
                                           activity_iri=ACTIVITY, ttl_seconds=60)
    db.session.commit()
    lh = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
          "X-Experience-API-Version": "1.0.3"}
    assert client.get("/xapi/statements", headers=lh).status_code == 200
    row = db.session.scalars(sa.select(Client).where(Client.key == key)).one()
    row.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    db.session.commit()
    app.extensions["xapi_client_cache"].clear()
    assert client.get("/xapi/statements", headers=lh).status_code == 401
    k2, _s2, h2 = lrs_client("all")
    assert client.get("/xapi/statements", headers=h2).status_code == 200
    revoke_client(db.session.scalars(sa.select(Client).where(Client.key == k2)).one())
    db.session.commit()
    assert client.get("/xapi/statements", headers=h2).status_code == 401
