"""Property-based fuzzing of every route of the URL map, as anonymous and as each role.

Hypothesis draws a rule and a method from the app's URL map, fills its path arguments (ids of the
world's rows, out-of-range ids up to 2^63-1, odd strings), a query string and a body (JSON of
any shape, deeply nested or with lone surrogates, broken JSON, form fields) and sends it. The
answer is never a 5xx; and a refused write (4xx to POST/PUT/PATCH/DELETE) changes no row count
in any table.

Bounded for ``make test`` (``LMS_FUZZ_EXAMPLES`` examples per role, default 80); raise it to fuzz
longer, e.g. ``LMS_FUZZ_EXAMPLES=2000 pytest tests/security/test_fuzz_routes.py``.
"""
from __future__ import annotations

import json
import os
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, PathConverter

from lms.core.db import db
from tests.courses.delivery_support import build_world
from tests.security.helpers import login_client, methods, page_csrf

EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "80"))
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ("anonymous", "learner", "teacher", "enterprise_admin", "institution_admin", "supervisor", "admin")
#: Routes not fuzzed as a logged-in role: they end the client's session (the fuzzer would go on
#: as anonymous, which has its own run).
SESSION_ENDERS = {"auth.logout", "auth.change_password"}
#: Tables a refused request may still write, with the reason.
REFUSAL_WRITES = {
    "login_failures": "a wrong password counts towards the lockout",
    "xapi_clients": "an LRS request updates its client's last request time",
}

HUGE_IDS = st.integers(min_value=2**31, max_value=2**63 - 1)
ODD_TEXT = st.sampled_from(["", "\x00", "%", "%%%", "_", "../../etc/passwd", "\ud800", "长" * 300, "-1", "1e309",
                            "²", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"x\")", "\t/evil.example"])
TEXT = st.one_of(ODD_TEXT, st.text(max_size=40))
#: Text a client can put into a URL or a form (a lone surrogate cannot be encoded; its bytes can).
URL_TEXT = st.one_of(ODD_TEXT.filter(lambda t: "\ud800" not in t), st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), st.just("%ED%A0%80"))
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                      st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(TEXT, inner, max_size=4)),
                          max_leaves=12)
FIELD_NAMES = st.sampled_from(["login", "password", "real_name", "name", "title_zh", "code", "class_id", "user_id",
                               "organisation_id", "role", "score", "passed", "position", "watched", "duration",
                               "event", "text", "next", "q", "csv", "answers", "level", "kind", "comment",
                               "statementId", "activityId", "agent", "stateId", "limit", "offset", "page"])
RAW_BODIES = st.sampled_from([
    ("application/json", "[" * 100_000),
    ("application/json", '{"a":' * 5_000),
    ("application/json", '{"login": "\\ud800"}'),
    ("application/json", '{"login":"learner2@other.lms","class_id":'),
    ("application/json", ""),
    ("text/plain", '{"login": "x"}'),
    ("application/x-www-form-urlencoded", "a=%00&b=%ff%fe"),
    ("multipart/mixed; boundary=x", "--x\r\nContent-Type: application/json\r\n\r\n" + "[" * 10_000 + "\r\n--x--"),
])


def _path_value(conv, world_ids):
    if isinstance(conv, IntegerConverter):
        return st.one_of(st.sampled_from(world_ids), HUGE_IDS, st.just(0), st.integers(1, 50))
    if isinstance(conv, PathConverter):
        return st.sampled_from(["courses/x/y.png", "../../etc/passwd", "a/b", "%00"])
    return st.one_of(st.sampled_from(["x", "csv", "xlsx", "up", "down", "subsidy", "progress", "zh", "en"]),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#%"),
                             min_size=1, max_size=20))


@st.composite
def requests(draw, routes, world_ids):
    rule, method = draw(st.sampled_from(routes))
    url = rule.rule
    for arg in rule._converters:  # URL variables (a rule's defaults are arguments too)
        value = draw(_path_value(rule._converters[arg], world_ids))
        url = re.sub(r"<(?:[^<>:]+:)?%s>" % re.escape(arg), str(value), url)
    query = draw(st.dictionaries(FIELD_NAMES, URL_TEXT, max_size=3))
    body_kind = draw(st.sampled_from(["none", "json", "form", "raw"])) if method != "GET" else "none"
    kw = {}
    if body_kind == "json":
        kw = {"data": json.dumps(draw(JSON_VALUE)), "content_type": "application/json"}
    elif body_kind == "form":
        kw = {"data": draw(st.dictionaries(FIELD_NAMES, URL_TEXT, max_size=6))}
    elif body_kind == "raw":
        ctype, raw = draw(RAW_BODIES)
        kw = {"data": raw.encode("utf-8", "surrogatepass"), "content_type": ctype}
    return rule.endpoint, method, url, query, kw


def _row_counts() -> dict[str, int]:
    tables = sorted(db.metadata.tables)
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    return dict(zip(tables, db.session.execute(sa.text(sql)).one()))


@pytest.fixture
def fuzz_world(app, create_user, create_org):
    w = build_world(create_user, create_org, kinds=("text", "video", "quiz", "practical", "document"), learners=2)
    enterprise = create_org("华东电气", "enterprise")
    authority = create_org("人社局", "authority")
    w.people = {"learner": w.learner, "teacher": w.teacher,
                "enterprise_admin": create_user("enterprise_admin", enterprise),
                "institution_admin": create_user("institution_admin", w.school),
                "supervisor": create_user("supervisor", authority), "admin": create_user(admin=True)}
    w.ids = sorted({w.course.id, w.module.id, w.cls.id, w.enrolment.id, w.school.id, enterprise.id,
                    *(lesson.id for lesson in w.lessons.values()), *(q.id for q in w.questions),
                    *(u.id for u in w.people.values())})
    db.session.commit()
    return w


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_or_changes_state_when_it_refuses(app, fuzz_world, role):
    w = fuzz_world
    if role == "anonymous":
        client, token = app.test_client(), None
    else:
        client = login_client(app, w.people[role])
        token = page_csrf(client)
    routes = [(rule, m) for rule in app.url_map.iter_rules() for m in methods(rule)
              if rule.endpoint != "static" and not (role != "anonymous" and rule.endpoint in SESSION_ENDERS)]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(requests(routes, w.ids))
    def run(req):
        endpoint, method, url, query, kw = req
        headers = {"X-CSRFToken": token} if token else {}
        before = _row_counts() if method in UNSAFE else None
        resp = client.open(url, method=method, query_string=query, headers=headers, **kw)
        db.session.rollback()
        assert resp.status_code < 500, (role, method, url, query, str(kw)[:300], resp.get_data(as_text=True)[:500])
        if before is not None and resp.status_code >= 400:
            after = _row_counts()
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t] and t not in REFUSAL_WRITES}
            assert not changed, (role, method, url, resp.status_code, changed)

    run()
