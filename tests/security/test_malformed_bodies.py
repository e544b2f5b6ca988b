"""Malformed bodies and out-of-range ids, sent by anyone: a clear 4xx, never a 500, never another action."""
from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from lms.core.db import db
from lms.testing import csrf_token_from
from tests.courses.delivery_support import build_world

DEEP = "[" * 100_000
DEEP_OBJECT = '{"a":' * 100_000
SURROGATE = '{"login": "\\ud800", "csv": "\\ud800", "answers": {"1": ["\\ud800"]}}'


@pytest.fixture
def lrs_headers(app):
    from lms.xapi.credentials import create_client

    _c, key, secret = create_client("malformed", ["all"])
    db.session.commit()
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


@pytest.fixture
def world(app, create_user, create_org):
    return build_world(create_user, create_org, kinds=("text", "video", "quiz"), learners=1)


def _json_routes(app):
    """Every unsafe route under /api/ with its URL filled in with id 1."""
    from tests.security.helpers import methods, sample_url

    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            for m in methods(rule):
                if m in ("POST", "PUT", "PATCH", "DELETE"):
                    yield m, sample_url(rule)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, SURROGATE, '{"login": "a", "class_id":'])
def test_malformed_json_on_login_is_a_400(client, body):
    resp = client.post("/login", data=body, content_type="application/json")
    assert resp.status_code == 400


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, SURROGATE, "[" * 200 + "]" * 200])
def test_malformed_json_on_every_api_route_is_a_400_with_a_message(app, client, api_token, world, body):
    headers = api_token(world.teacher)
    for method, url in _json_routes(app):
        resp = client.open(url, method=method, data=body, content_type="application/json", headers=headers)
        assert resp.status_code == 400, (method, url, resp.status_code, resp.get_data(as_text=True)[:300])
        assert resp.get_json()["error"]["message"]


def test_truncated_enrol_body_is_refused_and_enrols_no_one(client, api_token, world, create_user):
    from courses.models import Enrolment

    newcomer = create_user("learner", world.school)
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment))
    for ctype in ("application/json", "text/plain", "text/csv", "multipart/form-data", None):
        resp = client.post(f"/api/v1/courses/{world.course.id}/enrolments", headers=api_token(newcomer),
                           data='{"login":"learner2@other.lms","class_id":', content_type=ctype)
        assert resp.status_code == 400, (ctype, resp.status_code)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == before


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, SURROGATE.replace("login", "actor"),
                                  "[" * 100 + "]" * 100])
def test_malformed_json_on_xapi_resources_is_a_400(client, lrs_headers, body):
    agent = json.dumps({"mbox": "mailto:a@example.com"})
    q = {"activityId": "http://example.com/a", "agent": agent, "stateId": "s"}
    assert client.post("/xapi/statements", data=body, headers=lrs_headers).status_code == 400
    assert client.put("/xapi/statements", query_string={"statementId": "2d5d1b1e-5b3a-4f1c-9a55-9d3c6b6f6a01"},
                      data=body, headers=lrs_headers).status_code == 400
    client.put("/xapi/activities/state", query_string=q, data=b'{"a": 1}', headers=lrs_headers)
    assert client.post("/xapi/activities/state", query_string=q, data=body, headers=lrs_headers).status_code == 400
    assert client.post("/xapi/activities/profile", query_string={"activityId": "http://example.com/a",
                       "profileId": "p"}, data=body, headers=lrs_headers).status_code == 400
    assert client.post("/xapi/agents/profile", query_string={"agent": agent, "profileId": "p"},
                       data=body, headers=lrs_headers).status_code == 400
    assert client.get("/xapi/statements", query_string={"agent": DEEP}, headers=lrs_headers).status_code == 400


def test_deep_json_in_multipart_statements_is_a_400(client, lrs_headers):
    boundary = "xyzBOUNDARY"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{DEEP}\r\n--{boundary}--\r\n").encode()
    headers = dict(lrs_headers, **{"Content-Type": f'multipart/mixed; boundary="{boundary}"'})
    assert client.post("/xapi/statements", data=body, headers=headers).status_code == 400


@pytest.mark.parametrize("big", [2 ** 31, 2 ** 40, 2 ** 63 - 1])
def test_ids_beyond_the_integer_columns_are_404_on_every_route(app, client, auth, create_user, big):
    from tests.security.helpers import methods

    from tests.security.helpers import page_csrf

    auth.login(create_user(admin=True))
    token = page_csrf(client)
    for rule in app.url_map.iter_rules():
        ints = [a for a in rule._converters if isinstance(rule._converters[a], IntegerConverter)]
        if not ints:
            continue
        url = rule.rule
        import re

        for arg in rule._converters:  # URL variables (a rule's defaults are arguments too)
            value = big if arg in ints else ("xlsx" if arg == "kind" else "x")
            url = re.sub(r"<(?:[^<>:]+:)?%s>" % re.escape(arg), str(value), url)
        for method in methods(rule):
            resp = client.open(url, method=method, headers={"X-CSRFToken": token})
            assert resp.status_code == 404, (method, url, resp.status_code)
