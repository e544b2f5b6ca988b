"""Admin pages of the LRS: clients, the statement browser (scoped), forwarding."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from
from lms.xapi import credentials, forwarding, recorder
from lms.xapi.forwarding import DEAD, ForwardingDelivery
from lms.xapi.models import Client
from tests.lms.xapi.test_forwarding import dest, forward_config, remote  # noqa: F401  (fixtures)

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"


@pytest.fixture
def admin(create_user, auth):
    user = create_user(admin=True, real_name="Admin")
    auth.login(user)
    return user


def statement_for(user, verb=COMPLETED, activity="http://lms.test/courses/1", **extra):
    st = {"actor": recorder.actor_for(user), "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
          "object": {"objectType": "Activity", "id": activity,
                     "definition": {"name": {"en-US": "Course"}}}}
    st.update(extra)
    return st


# --- Clients -------------------------------------------------------------------------------


def test_clients_page_is_for_system_admins_only(client, create_user, create_org, auth):
    assert client.get("/admin/xapi/clients").status_code == 302  # to the login page
    teacher = create_user("teacher", create_org())
    auth.login(teacher)
    assert client.get("/admin/xapi/clients").status_code == 403
    assert client.get("/admin/xapi/forwarding").status_code == 403


def test_created_client_secret_is_shown_once_and_works(client, admin):
    page = client.get("/admin/xapi/clients")
    assert page.status_code == 200
    resp = client.post("/admin/xapi/clients", data={
        "name": "Province LRS", "scopes": ["statements/write", "statements/read"],
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    key = re.search(r'data-testid="client-key">([^<]+)<', html).group(1)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', html).group(1)
    info = credentials.authenticate(key, secret)
    assert info is not None and info.name == "Province LRS"
    assert info.scopes == frozenset({"statements/write", "statements/read"})
    again = client.get("/admin/xapi/clients").get_data(as_text=True)
    assert key in again and secret not in again
    row = db.session.scalars(sa.select(Client).where(Client.key == key)).one()
    assert row.created_by_id == admin.id


def test_client_needs_a_name_and_a_scope(client, admin):
    token = csrf_token_from(client.get("/admin/xapi/clients").get_data(as_text=True))
    resp = client.post("/admin/xapi/clients", data={"name": "", "csrf_token": token})
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_post_without_csrf_token_is_refused(client, admin):
    resp = client.post("/admin/xapi/clients", data={"name": "x", "scopes": ["all"]})
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_revoked_client_no_longer_authenticates(client, admin):
    row, key, secret = credentials.create_client("Old tool", ["all"])
    db.session.commit()
    assert credentials.authenticate(key, secret) is not None
    token = csrf_token_from(client.get("/admin/xapi/clients").get_data(as_text=True))
    resp = client.post(f"/admin/xapi/clients/{row.id}/revoke", data={"csrf_token": token})
    assert resp.status_code == 302
    db.session.refresh(row)
    assert row.active is False
    assert credentials.authenticate(key, secret) is None
    assert client.post("/admin/xapi/clients/99999/revoke", data={"csrf_token": token}).status_code == 404


# --- Statement browser -------------------------------------------------------------------------


@pytest.fixture
def people(create_user, create_org):
    school, other = create_org("School", "institution"), create_org("Other", "enterprise")
    p = {
        "teacher": create_user("teacher", school, real_name="Teacher Tan"),
        "alice": create_user("learner", school, real_name="Alice Li"),
        "bob": create_user("learner", other, real_name="Bob Wang"),
        "supervisor": create_user("supervisor", create_org("Bureau", "authority"), real_name="Sup"),
    }
    return p


@pytest.fixture
def recorded(app, people):
    ids = {
        "alice_completed": recorder.record(statement_for(people["alice"])),
        "alice_passed": recorder.record(statement_for(people["alice"], PASSED, "http://lms.test/courses/2")),
        "bob_completed": recorder.record(statement_for(people["bob"])),
    }
    db.session.commit()
    return ids


def listed(html: str) -> set[str]:
    return set(re.findall(r'/admin/xapi/statements/([0-9a-f-]{36})', html))


def test_admin_filters_by_learner_verb_activity_and_time(client, admin, recorded):
    def get(**q):
        resp = client.get("/admin/xapi/statements", query_string=q)
        assert resp.status_code == 200
        return listed(resp.get_data(as_text=True))

    assert get() == set(recorded.values())
    assert get(learner="Alice") == {recorded["alice_completed"], recorded["alice_passed"]}
    assert get(verb=PASSED) == {recorded["alice_passed"]}
    assert get(activity="http://lms.test/courses/1") == {recorded["alice_completed"], recorded["bob_completed"]}
    assert get(learner="bob", verb=PASSED) == set()
    future = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    past = (dt.datetime.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert get(since=future) == set()
    assert get(since=past, until=future) == set(recorded.values())
    assert client.get("/admin/xapi/statements?since=yesterday").status_code == 400


def test_browser_pages_with_a_cursor(client, admin, recorded, monkeypatch):
    monkeypatch.setattr("lms.xapi.admin_views.PAGE_SIZE", 2)
    html = client.get("/admin/xapi/statements").get_data(as_text=True)
    first = listed(html)
    assert len(first) == 2
    older = re.search(r'href="([^"]*before=[^"]+)"', html).group(1).replace("&amp;", "&")
    second = listed(client.get(older).get_data(as_text=True))
    assert len(second) == 1 and not (first & second)
    assert first | second == set(recorded.values())
    # The same with an activity filter (ordered by the activity link's index).
    monkeypatch.setattr("lms.xapi.admin_views.PAGE_SIZE", 1)
    seen = set()
    url = "/admin/xapi/statements?activity=http://lms.test/courses/1"
    while url:
        html = client.get(url).get_data(as_text=True)
        page = listed(html)
        assert len(page) == 1 and not (page & seen)
        seen |= page
        more = re.search(r'href="([^"]*before=[^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == {recorded["alice_completed"], recorded["bob_completed"]}
    assert client.get("/admin/xapi/statements?before=garbage").status_code == 400


def test_teacher_sees_only_learners_of_their_organisations(client, auth, people, recorded):
    auth.login(people["teacher"])
    html = client.get("/admin/xapi/statements").get_data(as_text=True)
    assert listed(html) == {recorded["alice_completed"], recorded["alice_passed"]}
    assert client.get(f"/admin/xapi/statements/{recorded['alice_passed']}").status_code == 200
    assert client.get(f"/admin/xapi/statements/{recorded['bob_completed']}").status_code == 404
    # Searching for a learner elsewhere finds nothing either.
    assert listed(client.get("/admin/xapi/statements?learner=Bob").get_data(as_text=True)) == set()
    # An outside tool that names the learner by email: still the teacher's learner.
    by_mail = recorder.record(statement_for(people["alice"], actor={"mbox": f"mailto:{people['alice'].email}"}))
    db.session.commit()
    assert by_mail in listed(client.get("/admin/xapi/statements?learner=Alice").get_data(as_text=True))


def test_supervisor_sees_everything_and_learner_nothing(client, auth, people, recorded):
    auth.login(people["supervisor"])
    assert listed(client.get("/admin/xapi/statements").get_data(as_text=True)) == set(recorded.values())
    auth.logout()
    auth.login(people["alice"])
    assert client.get("/admin/xapi/statements").status_code == 403
    assert client.get(f"/admin/xapi/statements/{recorded['alice_passed']}").status_code == 403


def test_statement_json_is_shown_escaped(client, admin, people):
    sid = recorder.record(statement_for(people["alice"], result={"response": "<script>alert(1)</script>"}))
    db.session.commit()
    resp = client.get(f"/admin/xapi/statements/{sid}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and sid in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert client.get("/admin/xapi/statements/not-a-uuid").status_code == 404
    assert client.get("/admin/xapi/statements/00000000-0000-4000-8000-000000000000").status_code == 404


def test_navigation_links_to_the_lrs_pages(client, admin, people, auth):
    html = client.get("/admin/users").get_data(as_text=True)
    for path in ("/admin/xapi/statements", "/admin/xapi/clients", "/admin/xapi/forwarding"):
        assert f'href="{path}"' in html
    auth.logout()
    auth.login(people["teacher"])
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/xapi/statements"' in html and 'href="/admin/xapi/clients"' not in html


# --- Forwarding pages -------------------------------------------------------------------------


def test_forwarding_page_shows_health_backlog_and_dead_letters_and_resends(
        client, admin, people, remote, forward_config):  # noqa: F811
    forward_config([dest(remote), dest(remote, "later", filter={"verbs": [PASSED]})])
    sid = recorder.record(statement_for(people["alice"]))
    other = recorder.record(statement_for(people["alice"], activity="http://lms.test/courses/9"))
    remote.status_for[sid] = 400
    db.session.commit()
    forwarding.deliver(ignore_pause=True)
    html = client.get("/admin/xapi/forwarding").get_data(as_text=True)
    assert "remote" in html and "later" in html and remote.url in html
    detail = client.get("/admin/xapi/forwarding/remote")
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert sid in page and "HTTP 400" in page
    assert re.search(r'data-testid="dead-count">\s*1<', page)
    assert other in remote.statements
    [row] = db.session.scalars(sa.select(ForwardingDelivery)).all()
    assert row.state == DEAD
    # Resend without a CSRF token: refused; with one: queued and (eager) delivered.
    assert client.post("/admin/xapi/forwarding/remote/resend", data={"delivery_id": row.id}).status_code == 400
    del remote.status_for[sid]
    resp = client.post("/admin/xapi/forwarding/remote/resend",
                       data={"delivery_id": row.id, "csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302
    assert sid in remote.statements
    assert db.session.scalars(sa.select(ForwardingDelivery)).all() == []
    assert client.get("/admin/xapi/forwarding/nope").status_code == 404


def test_forwarding_page_reports_a_broken_setting(client, admin, app, forward_config):  # noqa: F811
    forward_config([])
    app.config["LMS_XAPI_FORWARD"] = "[{"
    resp = client.get("/admin/xapi/forwarding")
    assert resp.status_code == 200 and "LMS_XAPI_FORWARD" in resp.get_data(as_text=True)
    app.config["LMS_XAPI_FORWARD"] = json.dumps([])


def test_connection_check_button(client, admin, remote, forward_config):  # noqa: F811
    forward_config([dest(remote)])
    page = client.get("/admin/xapi/forwarding/remote").get_data(as_text=True)
    assert "/admin/xapi/forwarding/remote/check" in page
    resp = client.post("/admin/xapi/forwarding/remote/check", data={"csrf_token": csrf_token_from(page)},
                       follow_redirects=True)
    assert resp.status_code == 200 and "1.0.3, 2.0.0" in resp.get_data(as_text=True)
    assert client.post("/admin/xapi/forwarding/remote/check").status_code == 400


@pytest.mark.parametrize("query", [
    {"since": "0001-01-01T00:00"}, {"until": "9999-12-31T23:59"}, {"since": "2026-13-45T99:99"},
    {"before": "2026-11-27T08:00:00+00:00_99999999999999999999999"}, {"before": "x_1"},
    {"before": "2026-11-27T08:00:00_1"}, {"verb": "x" * 5000}, {"activity": "\x00é"}, "activity=%ff%fe&verb=%00",
    {"learner": "%_%' OR 1=1 --"}, {"learner": "a\x00b"},
])
def test_statement_browser_refuses_garbage_without_a_500(client, admin, query):
    resp = client.get("/admin/xapi/statements", query_string=query)
    assert resp.status_code in (200, 400), resp.status_code


def test_forwarding_forms_refuse_garbage_without_a_500(client, admin, remote, forward_config):  # noqa: F811
    forward_config([dest(remote)])
    token = csrf_token_from(client.get("/admin/xapi/forwarding/remote").get_data(as_text=True))
    for value in ("abc", "-1", "0", "99999999999999999999999999"):
        resp = client.post("/admin/xapi/forwarding/remote/resend", data={"delivery_id": value, "csrf_token": token})
        assert resp.status_code == 400, value
    resp = client.post("/admin/xapi/clients", data={"name": "x", "scopes": ["nope"], "csrf_token": token})
    assert resp.status_code == 400
    resp = client.post("/admin/xapi/clients", data={"name": "a\x00b", "scopes": ["all"], "csrf_token": token})
    assert resp.status_code == 400
    assert client.post("/admin/xapi/clients/abc/revoke", data={"csrf_token": token}).status_code == 404
