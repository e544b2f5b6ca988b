"""Identity links under attack: who may link whom, hostile input, and parallel requests."""
from __future__ import annotations

import http.cookiejar
import io
import os
import re
import threading
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa

from lms.testing import PASSWORD, csrf_token_from, only_on_postgresql
from tests.security.helpers import login_client, page_csrf

MOODLE = "https://moodle.example.edu"


def _store_foreign(actor_name="42", n=2):
    """Facts for a foreign Moodle account (stored as the LRS stores them)."""
    import uuid

    from lms.core.db import db
    from lms.records.identity import key_hash
    from lms.xapi.storage import store_statements

    statements = [{"id": str(uuid.uuid4()), "actor": {"account": {"homePage": MOODLE, "name": actor_name}},
                   "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
                   "object": {"id": f"{MOODLE}/mod/page/view.php?id={i}"},
                   "result": {"duration": "PT10M"}} for i in range(n)]
    store_statements(statements, version="1.0.3", authority={"mbox": "mailto:lrs@example.com"})
    db.session.commit()
    return key_hash(f"account:{MOODLE}|{actor_name}")


def _counts():
    from lms.core.db import db
    from lms.records.models import IdentityLinkCode, IdentityLinkLog, LearnerIdentity, PolicySetting

    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (LearnerIdentity, IdentityLinkLog, IdentityLinkCode, PolicySetting))


def test_non_admins_and_wrong_organisation_admins_get_403_and_nothing_changes(app, create_user, create_org):
    school, other = create_org("School", "institution"), create_org("Other", "enterprise")
    create_user(admin=True)
    target = create_user("learner", other, login="target@example.com")
    digest = _store_foreign()
    people = {
        "learner": create_user("learner", school),
        "teacher": create_user("teacher", school),
        "mentor": create_user("mentor", school),
        "school admin": create_user("institution_admin", school),
        "supervisor": create_user("supervisor", create_org("Authority", "authority")),
    }
    before = _counts()
    csv = f"homePage,account name,login\n{MOODLE},42,target@example.com\n".encode()
    for who, user in people.items():
        c = login_client(app, user)
        token = page_csrf(c)
        posts = {
            f"/admin/records/unmatched/{digest}/link": {"login": target.login, "confirmed": "1"},
            f"/admin/records/unmatched/{digest}/code": {},
            "/admin/records/policy": {"max_statement_hours": "1", "max_daily_hours": "1"},
        }
        for url, data in posts.items():
            assert c.post(url, data={"csrf_token": token, **data}).status_code == 403, (who, url)
        resp = c.post("/admin/records/identities/import", content_type="multipart/form-data",
                      data={"csrf_token": token, "file": (io.BytesIO(csv), "x.csv")})
        if who == "school admin":  # may import, but only for members of the school
            assert resp.status_code == 400 and "<td>2</td>" in resp.get_data(as_text=True), who
        else:
            assert resp.status_code == 403, who
        if who not in ("supervisor",):
            for url in ("/admin/records/unmatched", "/admin/records/policy"):
                assert c.get(url).status_code == 403, (who, url)
        assert c.get(f"/admin/records/unmatched/{digest}/link").status_code == 403, who
    assert _counts() == before


def test_forms_refuse_posts_without_csrf(app, create_user):
    admin = create_user(admin=True)
    digest = _store_foreign()
    c = login_client(app, admin)
    before = _counts()
    assert c.post(f"/admin/records/unmatched/{digest}/code").status_code == 400
    assert c.post(f"/admin/records/unmatched/{digest}/link", data={"login": admin.login, "confirmed": "1"}
                  ).status_code == 400
    assert c.post("/account/identities", data={"code": "AAAABBBBCCCC"}).status_code == 400
    assert _counts() == before


def test_unknown_or_malformed_keys_are_404(app, create_user):
    admin = create_user(admin=True)
    c = login_client(app, admin)
    for digest in ("0" * 40, "x", "%25" * 5, "a" * 41):
        assert c.get(f"/admin/records/unmatched/{digest}/link").status_code == 404, digest


def test_learner_code_field_takes_hostile_input_without_error(app, create_user):
    learner = create_user()
    c = login_client(app, learner)
    for value in ("' OR 1=1 --", "<script>alert(1)</script>", "A" * 64, "码" * 20, "%_%_"):
        resp = c.post("/account/identities", data={"csrf_token": page_csrf(c), "code": value})
        assert resp.status_code == 400, value
        assert "<script>alert(1)</script>" not in resp.get_data(as_text=True)


def test_csv_cells_are_escaped_in_error_messages(app, create_user):
    admin = create_user(admin=True)
    c = login_client(app, admin)
    csv = b"homePage,account name,login\nhttps://m.example.edu,1,<img src=x onerror=alert(1)>@x.com\n"
    resp = c.post("/admin/records/identities/import", content_type="multipart/form-data",
                  data={"csrf_token": page_csrf(c), "file": (io.BytesIO(csv), "x.csv")})
    assert resp.status_code == 400
    assert "<img src=x" not in resp.get_data(as_text=True)


# --- Parallel requests on a live server (PostgreSQL) -----------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _Browser:
    """A cookie-keeping HTTP client for the live server (stdlib only)."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def get(self, path):
        with self.opener.open(self.base + path, timeout=60) as resp:
            return resp.read().decode()

    def post(self, path, data):
        body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, method="POST")
        try:
            with self.opener.open(req, timeout=90) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def login(self, login):
        token = csrf_token_from(self.get("/login"))
        assert self.post("/login", {"login": login, "password": PASSWORD, "csrf_token": token}) == 302
        return csrf_token_from(self.get("/account"))


def _parallel(n, fn):
    statuses = []
    barrier = threading.Barrier(n)

    def run():
        barrier.wait()
        try:
            statuses.append(fn())
        except Exception as exc:  # noqa: BLE001  (reported in the assertion)
            statuses.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return statuses


def _need_postgresql(app):
    only_on_postgresql(app.config["LMS_DATABASE_URL"])


def test_twenty_parallel_admin_links_link_once_and_log_once(app, live_server, create_user):
    from lms.core.db import db
    from lms.records.identity import user_id_for_key
    from lms.records.models import IdentityLinkLog, LearnerIdentity

    _need_postgresql(app)
    admin = create_user(admin=True)
    learner = create_user(login="learner@example.com")
    digest = _store_foreign()
    browser = _Browser(live_server.url)
    token = browser.login(admin.login)
    form = {"csrf_token": token, "login": learner.login, "confirmed": "1"}
    statuses = _parallel(20, lambda: browser.post(f"/admin/records/unmatched/{digest}/link", form))
    assert 500 not in statuses and statuses.count(302) >= 1, statuses
    db.session.rollback()
    assert user_id_for_key(f"account:{MOODLE}|42") == learner.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LearnerIdentity)
                             .where(LearnerIdentity.source == "admin")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityLinkLog)
                             .where(IdentityLinkLog.source == "admin")) == 1


def test_twenty_parallel_redeems_of_one_code_link_once_and_log_once(app, live_server, create_user):
    from lms.core.db import db
    from lms.records import links
    from lms.records.identity import user_id_for_key
    from lms.records.models import IdentityLinkCode, IdentityLinkLog

    _need_postgresql(app)
    admin = create_user(admin=True)
    learner = create_user(login="learner@example.com")
    key = links.key_for_hash(_store_foreign())
    _row, code = links.issue_code(key, by=admin)
    db.session.commit()
    browser = _Browser(live_server.url)
    token = browser.login(learner.login)
    statuses = _parallel(20, lambda: browser.post("/account/identities", {"csrf_token": token, "code": code}))
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    db.session.rollback()
    assert user_id_for_key(key) == learner.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityLinkLog)
                             .where(IdentityLinkLog.source == "learner_code")) == 1
    assert db.session.scalars(sa.select(IdentityLinkCode.used_by_id)).one() == learner.id


def test_twenty_parallel_redeems_by_different_learners_link_to_one(app, live_server, create_user):
    from lms.core.db import db
    from lms.records import links
    from lms.records.identity import user_id_for_key
    from lms.records.models import IdentityLinkLog

    _need_postgresql(app)
    admin = create_user(admin=True)
    key = links.key_for_hash(_store_foreign())
    _row, code = links.issue_code(key, by=admin)
    db.session.commit()
    learners = [create_user() for _ in range(20)]
    sessions = []
    for user in learners:
        b = _Browser(live_server.url)
        sessions.append((b, b.login(user.login)))
    it = iter(sessions)
    lock = threading.Lock()

    def redeem():
        with lock:
            b, token = next(it)
        return b.post("/account/identities", {"csrf_token": token, "code": code})

    statuses = _parallel(20, redeem)
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    db.session.rollback()
    assert user_id_for_key(key) in {u.id for u in learners}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityLinkLog)
                             .where(IdentityLinkLog.source == "learner_code")) == 1
