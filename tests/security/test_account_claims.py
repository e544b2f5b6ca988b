"""Claiming evidence by registering someone's address: verification happens once, by the owner.

Parallel identical confirmations (a double-click, a replayed request) must verify once and
announce ``account_verified`` once, or the learning-record layer would link twice.
"""
import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request

from lms.accounts import operations as ops
from lms.core.db import db
from lms.core.extension_points import account_verified
from lms.testing import PASSWORD, csrf_token_from, only_on_postgresql


def _opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def _post(opener, url, data):
    try:
        with opener.open(urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), method="POST"),
                         timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_parallel_confirmations_verify_once(app, live_server, create_user):
    only_on_postgresql(app.config["SQLALCHEMY_DATABASE_URI"])
    user = create_user(login="w@factory.example", verified=False)
    token = ops.make_email_token(user)
    seen, lock = [], threading.Lock()

    def receiver(sender, **kw):
        with lock:
            seen.append((sender.id, kw["channel"], kw["address"]))

    account_verified.connect(receiver)
    try:
        opener = _opener()
        page = opener.open(live_server.url + "/login", timeout=30).read().decode()
        _post(opener, live_server.url + "/login",
              {"login": user.login, "password": PASSWORD, "csrf_token": csrf_token_from(page)})
        link = f"{live_server.url}/account/verify-email/{token}"
        page = opener.open(link, timeout=30).read().decode()
        assert "w@factory.example" in page
        csrf = csrf_token_from(page)
        statuses, barrier = [], threading.Barrier(20)

        def confirm():
            barrier.wait()
            status = _post(opener, link, {"csrf_token": csrf})
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=confirm) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        account_verified.disconnect(receiver)
    assert len(statuses) == 20 and all(s in (200, 302) for s in statuses), statuses
    assert seen == [(user.id, "email", "w@factory.example")]
    db.session.refresh(user)
    assert user.email_verified_at is not None

