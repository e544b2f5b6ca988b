"""Garbage into every form and JSON endpoint of the core and the courses plugin: never a 500.

Table-driven: each POST/PUT/DELETE route (and each GET route with query parameters) is called by
a learner, a teacher, an administrator and a supervisor with wrong types, huge values, missing
fields, odd Unicode and NUL bytes. The answer must be a clear 2xx/3xx/4xx, never a 500.
"""
from __future__ import annotations

import io

import pytest
from werkzeug.routing import IntegerConverter

from tests.courses.delivery_support import build_world
from tests.security.helpers import fill, login_client, methods, page_csrf, world_values

SKIP_PREFIXES = ("competency", "xapi", "static")  # other helpers' areas; the LRS has its own tests
FIELDS = ("login", "password", "confirm", "old_password", "real_name", "id_card_number", "locale", "name",
          "expires_days", "title_zh", "title_en", "code", "description_zh_source", "description_en_source",
          "description_format", "body_source", "body_format", "kind", "points", "prompt", "prompt_en", "choices_text",
          "accepted_answers", "truefalse_answer", "score", "passed", "comment", "class_id", "teacher_login",
          "organisation_id", "role", "action", "one-login", "one-class_id", "position", "watched", "duration",
          "event", "text", "next", "active", "is_system_admin", "study_hours", "levels", "occupation_code",
          "pass_mark", "max_attempts", "time_limit_seconds", "video_url", "launch_url", "credit_code", "region",
          "subsidised", "self_enrolment", "required", "duration_seconds", "task_max_score", "storage_key",
          "name_en", "q1", "logins", "email", "mobile", "cover_image", "file", "category")

GARBAGE = {
    "empty": {},
    "nul": "a\x00b",
    "huge_int": str(10 ** 40),
    "float_inf": "1e309",
    "unicode_digits": "²３٣",
    "long": "长" * 20000,
    "json_like": '{"a": [1, {"b": null}]}',
}

JSON_BODIES = [[], "text", 12, None, {"logins": "x"}, {"logins": [None, 1, {"a": 1}]}, {"login": ["a"]},
               {"position": "x", "watched": [], "duration": {"a": 1}, "event": None},
               {"position": 1e308, "watched": -1e308, "duration": 10 ** 30},
               {"responses": {"q1": [None]}, "answers": "x"}, {"class_id": "x", "user_id": 10 ** 30},
               {"login": "\x00", "class_id": 10 ** 30}]

QUERY_GARBAGE = [{"page": str(10 ** 30)}, {"page": "-5"}, {"page": "x"}, {"level": "²"}, {"level": str(10 ** 30)},
                 {"limit": "10" * 20}, {"offset": str(10 ** 30)}, {"limit": "-1"}, {"q": "%_\x00'\""},
                 {"occupation": "\x00" * 3}, {"course_id": str(10 ** 30)}, {"course_id": "²"}, {"subsidised": "maybe"}, {"status": "\x00"}, {"fmt": "../../x"}]


@pytest.fixture
def fuzz_world(app, create_user, create_org):
    w = build_world(create_user, create_org, kinds=("text", "video", "quiz", "practical", "document", "external"),
                    learners=2)
    authority = create_org("人社局", "authority")
    w.supervisor = create_user("supervisor", authority)
    w.admin = create_user(admin=True)
    return w


def _post_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith(SKIP_PREFIXES) or rule.endpoint in ("auth.logout",):
            continue
        for method in methods(rule):
            if method != "GET":
                yield rule, method


def _get_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(SKIP_PREFIXES) and "GET" in rule.methods and rule.endpoint != "auth.logout":
            yield rule


def _check(resp, what, failures):
    if resp.status_code >= 500:
        failures.append(f"{what} -> {resp.status_code}")


def test_no_500_from_garbage_forms_and_json(app, fuzz_world):
    w = fuzz_world
    values = world_values(w)
    failures = []
    for who in (w.learner, w.teacher, w.admin, w.supervisor):
        c = login_client(app, who)
        token = page_csrf(c)
        for rule, method in _post_routes(app):
            url = fill(rule, values)
            if rule.endpoint == "auth.change_password":
                continue  # a successful change would end the session of this client
            for label, value in GARBAGE.items():
                data = {"csrf_token": token}
                if label != "empty":
                    data.update({f: value for f in FIELDS})
                    data["files"] = (io.BytesIO(b"\x00\xff" * 10), "../../evil\x00.html")
                    data["csv_file"] = (io.BytesIO("login\n\x00".encode()), "x.csv")
                    data["bulk-csv_file"] = (io.BytesIO(b"\xff\xfe\x00"), "x.csv")
                resp = c.open(url, method=method, data=data, headers={"X-CSRFToken": token},
                              content_type="multipart/form-data")
                _check(resp, f"{who.login} {method} {url} form:{label}", failures)
            for body in JSON_BODIES:
                resp = c.open(url, method=method, json=body, headers={"X-CSRFToken": token})
                _check(resp, f"{who.login} {method} {url} json:{body!r}"[:200], failures)
            resp = c.open(url, method=method, data=b"{not json", content_type="application/json",
                          headers={"X-CSRFToken": token})
            _check(resp, f"{who.login} {method} {url} broken json", failures)
    assert not failures, "server errors:\n" + "\n".join(sorted(set(failures))[:80])


def test_no_500_from_garbage_query_parameters(app, fuzz_world):
    w = fuzz_world
    values = world_values(w)
    failures = []
    for who in (None, w.learner, w.teacher, w.admin):
        c = app.test_client() if who is None else login_client(app, who)
        for rule in _get_routes(app):
            url = fill(rule, values)
            for q in QUERY_GARBAGE:
                resp = c.get(url, query_string=q)
                _check(resp, f"{getattr(who, 'login', 'anonymous')} GET {url} {q!r}"[:200], failures)
    assert not failures, "server errors:\n" + "\n".join(sorted(set(failures))[:80])


@pytest.mark.parametrize("value", [10 ** 30, -1, 0, 2 ** 63])
def test_no_500_from_out_of_range_ids_in_urls(app, fuzz_world, value):
    w = fuzz_world
    c = login_client(app, w.admin)
    token = page_csrf(c)
    failures = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith(SKIP_PREFIXES) or not any(
                isinstance(rule._converters[a], IntegerConverter) for a in rule._converters):
            continue
        url = fill(rule, {a: value for a in rule._converters})
        for method in methods(rule):
            resp = c.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            _check(resp, f"{method} {url}", failures)
    assert not failures, "server errors:\n" + "\n".join(failures)


@pytest.mark.parametrize("limit", ["²", "9" * 5000, "-1", "1.5"])
def test_lrs_limit_parameter_garbage_is_a_400(app, client, limit):
    import base64

    from lms.core.db import db
    from lms.xapi.credentials import create_client

    _c, key, secret = create_client("fuzz", ["all"])
    db.session.commit()
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
               "X-Experience-API-Version": "1.0.3"}
    assert client.get("/xapi/statements", query_string={"limit": limit}, headers=headers).status_code == 400


def test_nul_characters_are_refused_in_bodies_and_dropped_from_queries(app, create_user):
    from lms.core.db import db

    user = create_user(real_name="张三")
    c = login_client(app, user)
    token = page_csrf(c)
    resp = c.post("/account", data={"csrf_token": token, "real_name": "李\x00四", "locale": ""})
    assert resp.status_code == 400
    resp = c.post("/account/tokens", json={"name": "a\x00"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 400
    db.session.expire_all()
    assert user.real_name == "张三"
    assert c.get("/courses/", query_string={"q": "电\x00工"}).status_code == 200
    assert c.get("/api/v1/courses", query_string={"q": "\x00"}).status_code == 200
