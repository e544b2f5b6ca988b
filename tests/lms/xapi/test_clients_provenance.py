"""LRS clients declare who they are (kind, trust level, learners' home pages) and every batch they
store gets its provenance :class:`~lms.records.provenance.Source` (DESIGN 8)."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.records import provenance
from lms.testing import csrf_token_from
from lms.xapi import credentials
from lms.xapi.errors import XAPIValidationError
from lms.xapi.models import Client

REGISTRATION = "a0b1c2d3-0000-4000-8000-0000000000d1"
ACTIVITY = "http://127.0.0.1:5000/courses/1/lessons/1"


def _row(key) -> Client:
    db.session.rollback()
    return db.session.scalars(sa.select(Client).where(Client.key == key)).one()


def _launch(user, ttl_seconds=3600):
    key, secret = credentials.create_launch_credential(user, registration=REGISTRATION, activity_iri=ACTIVITY,
                                                       ttl_seconds=ttl_seconds)
    db.session.commit()
    return key, secret


# --- operations -----------------------------------------------------------------------------------


def test_registered_systems_declare_trust_level_and_home_pages(app):
    """Rule: a registered system has kind ``system``, a trust level (standard by default) and its
    learners' home pages, normalised without a trailing slash; the authenticated client shows them."""
    client, key, secret = credentials.create_client(
        "Moodle", ["statements/write"], trust_level=provenance.TRUST_ASSESSMENT,
        home_pages=["https://moodle.example.com/", " https://moodle.example.com", "http://ilias.example.com/x/"])
    db.session.commit()
    assert client.kind == provenance.SYSTEM
    assert client.home_pages == ["https://moodle.example.com", "http://ilias.example.com/x"]
    info = credentials.authenticate(key, secret)
    assert (info.kind, info.trust_level, info.home_pages) == (
        provenance.SYSTEM, provenance.TRUST_ASSESSMENT, ("https://moodle.example.com", "http://ilias.example.com/x"))
    assert info.created_at is not None
    other, _k, _s = credentials.create_client("Plain", ["statements/write"])
    assert (other.trust_level, other.home_pages) == (provenance.TRUST_STANDARD, [])


@pytest.mark.parametrize("kwargs, path", [
    ({"trust_level": "trusted"}, "trust_level"),
    ({"trust_level": ""}, "trust_level"),
    ({"home_pages": ["moodle.example.com"]}, "home_page"),
    ({"home_pages": ["javascript:alert(1)"]}, "home_page"),
    ({"home_pages": ["https://moodle.example.com/?a=1"]}, "home_page"),
    ({"home_pages": ["https://moodle example.com"]}, "home_page"),
])
def test_malformed_declarations_are_refused_with_a_clear_message(app, kwargs, path):
    """Rule: trust level one of untrusted/standard/assessment; home page one absolute http(s) URL."""
    with pytest.raises(XAPIValidationError) as info:
        credentials.create_client("Bad", ["statements/write"], **kwargs)
    assert info.value.path == path
    assert ("untrusted, standard, assessment" in info.value.message if path == "trust_level"
            else "absolute http(s) URL" in info.value.message or "without spaces" in info.value.message)


def test_update_changes_the_declaration_and_the_cached_client(app):
    """Rule: an administrator's change applies at once in this process (the cache forgets it)."""
    client, key, secret = credentials.create_client("Moodle", ["statements/write"])
    db.session.commit()
    assert credentials.authenticate(key, secret).trust_level == provenance.TRUST_STANDARD
    credentials.update_client(client, trust_level=provenance.TRUST_UNTRUSTED, home_pages=["https://m.example.com/"])
    db.session.commit()
    info = credentials.authenticate(key, secret)
    assert (info.trust_level, info.home_pages) == (provenance.TRUST_UNTRUSTED, ("https://m.example.com",))


def test_source_of_a_launch_credential_and_of_a_registered_system(app, create_user):
    """Rule: launched content -> Source(launch, session ``launch:<id>``, neutral label, at most the
    observed time since the launch plus 60 s); a system -> Source(system, its name and trust level)."""
    user = create_user()
    key, secret = _launch(user)
    info = credentials.authenticate(key, secret)
    now = info.created_at + dt.timedelta(minutes=10)
    src = credentials.source_of(info, now)
    assert src == provenance.Source(kind=provenance.LAUNCH, client_id=info.id, label="launched content",
                                    session=f"launch:{info.id}", max_session_seconds=660.0)
    assert ACTIVITY not in src.label and user.display_name not in src.label
    _c, k2, s2 = credentials.create_client("Moodle", ["statements/write"], trust_level=provenance.TRUST_ASSESSMENT)
    db.session.commit()
    system = credentials.authenticate(k2, s2)
    assert credentials.source_of(system, utcnow()) == provenance.Source(
        kind=provenance.SYSTEM, client_id=system.id, label="Moodle", trust_level=provenance.TRUST_ASSESSMENT)
    assert credentials.source_of(system, utcnow()).policy_kind == "system:assessment"


def test_statements_resource_passes_the_source_to_storage(app, client, create_user, monkeypatch):
    """Rule: ``POST /xapi/statements`` stores with ``source=source_of(client, now)``."""
    from lms.xapi import storage
    from lms.xapi.recorder import actor_for
    from lms.xapi.resources import statements as resource

    seen = []
    real = storage.store_statements

    def spy(*args, **kwargs):
        seen.append(kwargs.get("source"))
        return real(*args, **kwargs)

    monkeypatch.setattr(resource, "store_statements", spy)
    user = create_user()
    key, secret = _launch(user)
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
               "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    body = {"actor": actor_for(user), "verb": {"id": "http://adlnet.gov/expapi/verbs/terminated"},
            "object": {"id": ACTIVITY}, "result": {"duration": "PT12H"}, "context": {"registration": REGISTRATION}}
    assert client.post("/xapi/statements", data=json.dumps(body), headers=headers).status_code == 200
    [src] = seen
    assert src.kind == provenance.LAUNCH and src.session == f"launch:{_row(key).id}"
    assert 60 <= src.max_session_seconds < 120  # launched a moment ago: not twelve hours


def test_last_request_is_recorded_at_most_every_ten_seconds(app, client, create_user):
    """Rule: ``last_request_at`` follows authenticated requests (throttled to ~10 s per process), so
    the session the server observed runs from the launch to the last request."""
    key, secret = _launch(create_user())
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
               "X-Experience-API-Version": "1.0.3"}
    assert _row(key).last_request_at is None
    assert client.get("/xapi/statements", headers=headers).status_code == 200
    first = _row(key).last_request_at
    assert first is not None
    assert client.get("/xapi/statements", headers=headers).status_code == 200
    assert _row(key).last_request_at == first  # within ten seconds: not written again
    app.extensions["xapi_client_seen"][key] -= credentials.SEEN_SECONDS
    assert client.get("/xapi/statements", headers=headers).status_code == 200
    assert _row(key).last_request_at > first
    # a wrong secret is not a request of this client
    app.extensions["xapi_client_seen"][key] -= credentials.SEEN_SECONDS
    bad = {**headers, "Authorization": "Basic " + base64.b64encode(f"{key}:wrong".encode()).decode()}
    later = _row(key).last_request_at
    assert client.get("/xapi/statements", headers=bad).status_code == 401
    assert _row(key).last_request_at == later


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_creates_and_updates_a_system_with_trust_level_and_home_page(app, runner):
    """Rule: ``lrs client create NAME --trust-level --home-page`` and ``lrs client update KEY``."""
    result = runner.invoke(args=["lrs", "client", "create", "Moodle X", "--scope", "statements/write",
                                 "--trust-level", "assessment", "--home-page", "https://moodle.x/"])
    assert result.exit_code == 0, result.output
    key = re.search(r"key:\s+(\w+)", result.output).group(1)
    row = _row(key)
    assert (row.kind, row.trust_level, row.home_pages) == ("system", "assessment", ["https://moodle.x"])
    result = runner.invoke(args=["lrs", "client", "update", key, "--trust-level", "untrusted",
                                 "--home-page", "https://a.example.com", "--home-page", "https://b.example.com/"])
    assert result.exit_code == 0, result.output
    row = _row(key)
    assert (row.trust_level, row.home_pages) == ("untrusted", ["https://a.example.com", "https://b.example.com"])
    result = runner.invoke(args=["lrs", "client", "update", key, "--no-home-pages"])
    assert result.exit_code == 0 and _row(key).home_pages == [] and _row(key).trust_level == "untrusted"
    listing = runner.invoke(args=["lrs", "client", "list"]).output
    assert "Moodle X" in listing and "trust=untrusted" in listing


def test_cli_refuses_malformed_trust_level_and_home_page(app, runner):
    """Rule: a malformed trust level or home page is a clear error, and nothing is created or changed."""
    result = runner.invoke(args=["lrs", "client", "create", "Bad", "--scope", "statements/write",
                                 "--trust-level", "trusted"])
    assert result.exit_code != 0
    assert "unknown trust level 'trusted'; use untrusted, standard, assessment" in result.output
    result = runner.invoke(args=["lrs", "client", "create", "Bad", "--scope", "statements/write",
                                 "--home-page", "moodle.x"])
    assert result.exit_code != 0 and "absolute http(s) URL" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    ok = runner.invoke(args=["lrs", "client", "create", "Good", "--scope", "statements/write"])
    key = re.search(r"key:\s+(\w+)", ok.output).group(1)
    result = runner.invoke(args=["lrs", "client", "update", key, "--trust-level", "high"])
    assert result.exit_code != 0 and "unknown trust level" in result.output
    result = runner.invoke(args=["lrs", "client", "update", key, "--home-page", "ftp://x.example.com"])
    assert result.exit_code != 0 and "absolute http(s) URL" in result.output
    assert (_row(key).trust_level, _row(key).home_pages) == ("standard", [])
    assert runner.invoke(args=["lrs", "client", "update", "nope", "--trust-level", "standard"]).exit_code != 0


# --- admin page ----------------------------------------------------------------------------------


@pytest.fixture
def admin(create_user, auth):
    user = create_user(admin=True, real_name="Admin")
    auth.login(user)
    return user


def test_admin_creates_and_edits_a_systems_declaration(client, admin):
    """Rule: the clients page shows and edits trust level and home pages (CSRF form)."""
    page = client.get("/admin/xapi/clients")
    html = page.get_data(as_text=True)
    assert "信任级别" in html  # labels in Chinese (the default language)
    resp = client.post("/admin/xapi/clients", data={
        "name": "Moodle", "scopes": ["statements/write"], "trust_level": "assessment",
        "home_pages": "https://moodle.example.com/\nhttps://m2.example.com", "csrf_token": csrf_token_from(html)})
    assert resp.status_code == 200
    key = re.search(r'data-testid="client-key">([^<]+)<', resp.get_data(as_text=True)).group(1)
    row = _row(key)
    assert (row.trust_level, row.home_pages) == ("assessment", ["https://moodle.example.com", "https://m2.example.com"])
    url = f"/admin/xapi/clients/{row.id}/declaration"
    token = csrf_token_from(client.get("/admin/xapi/clients").get_data(as_text=True))
    fields = {f"c{row.id}-trust_level": "untrusted", f"c{row.id}-home_pages": "https://moodle.example.com"}
    assert client.post(url, data=fields).status_code == 400  # no CSRF token
    resp = client.post(url, data={**fields, f"c{row.id}-csrf_token": token})
    assert resp.status_code == 302
    row = _row(key)
    assert (row.trust_level, row.home_pages) == ("untrusted", ["https://moodle.example.com"])
    page = client.get("/admin/xapi/clients").get_data(as_text=True)
    assert "https://moodle.example.com" in page and "不受信任" in page


def test_admin_form_refuses_malformed_trust_level_and_home_page(client, admin):
    """Rule: a malformed trust level or home page gives a clear error on the form; nothing changes."""
    token = csrf_token_from(client.get("/admin/xapi/clients").get_data(as_text=True))
    resp = client.post("/admin/xapi/clients", data={"name": "Bad", "scopes": ["statements/write"],
                                                    "trust_level": "trusted", "csrf_token": token})
    assert resp.status_code == 400
    resp = client.post("/admin/xapi/clients", data={"name": "Bad", "scopes": ["statements/write"],
                                                    "trust_level": "standard", "home_pages": "moodle.example.com",
                                                    "csrf_token": token})
    assert resp.status_code == 400 and "https://moodle.example.com" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
    row, _k, _s = credentials.create_client("Good", ["statements/write"])
    db.session.commit()
    resp = client.post(f"/admin/xapi/clients/{row.id}/declaration", data={
        f"c{row.id}-trust_level": "standard", f"c{row.id}-home_pages": "https://ok.example.com\nnot a url",
        f"c{row.id}-csrf_token": token})
    assert resp.status_code == 400 and 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert _row(_k).home_pages == []


def test_admin_lists_and_revokes_launch_credentials(client, admin, create_user):
    """Rule: launch credentials in use are listed apart, with learner and expiry, and may be revoked."""
    learner = create_user(real_name="张三")
    key, secret = _launch(learner)
    expired_key, _ = _launch(create_user(real_name="李四"), ttl_seconds=-10)
    page = client.get("/admin/xapi/clients").get_data(as_text=True)
    row = _row(key)
    launches = page[page.index('data-testid="launch-credentials"'):]
    assert f'data-testid="launch-{row.id}"' in launches and "张三" in launches and ACTIVITY in launches
    assert "李四" not in launches  # expired: nothing to revoke
    assert f'data-testid="client-{row.id}"' not in page  # not among the registered systems
    assert credentials.authenticate(key, secret) is not None
    resp = client.post(f"/admin/xapi/clients/{row.id}/revoke", data={"csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302
    assert _row(key).active is False and credentials.authenticate(key, secret) is None
    del expired_key
