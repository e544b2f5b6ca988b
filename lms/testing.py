"""Pytest fixtures for the core and every plugin (load with ``pytest_plugins = ["lms.testing"]``).

* ``app``: one app per test session, on SQLite (a temporary file) or on the database named by
  ``LMS_TEST_DATABASE_URL``; the schema is built by running the real migrations.
* every test's database changes are undone afterwards (all tables emptied);
* factories: ``create_user``, ``create_org``; helpers ``login`` and ``api_token``;
* ``live_server`` (the app served on a free loopback port, in a thread) and ``browser_page``
  (headless Debian Chromium through Playwright).

Tests that need PostgreSQL, Redis or Chromium call :func:`need` which skips with a reason, or
fails when ``LMS_TEST_STRICT=1`` (set by ``.ci/run``) so CI never silently skips them.
"""
from __future__ import annotations

import contextvars
import itertools
import os
import shutil
import socket
import tempfile
import threading

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

STRICT = os.environ.get("LMS_TEST_STRICT") == "1"
CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
PASSWORD = "Passw0rd!"


def need(condition: bool, reason: str) -> None:
    """Skip (or, under LMS_TEST_STRICT=1, fail) when a real service is missing."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required for CI but unavailable: {reason}")
    pytest.skip(reason)


def only_on_postgresql(database_url: str) -> None:
    """Skip a test that needs the suite's database to be PostgreSQL (row locks, real parallel
    writers). Not a missing service: CI runs the whole suite a second time on PostgreSQL, where
    these run, so LMS_TEST_STRICT does not turn this skip into a failure."""
    if not str(database_url).startswith("postgres"):
        pytest.skip("runs in the PostgreSQL pass of the suite (LMS_TEST_DATABASE_URL=postgresql://...)")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def test_database_url(tmp_path_factory):
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def _reset_schema(url: str) -> None:
    """Start from an empty database (PostgreSQL test databases are reused between runs)."""
    if not url.startswith("postgres"):
        return
    from lms.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose requests run outside the test's app context, as real requests do.

    Each request gets its own app context (its own ``g``, login and database session). Afterwards
    the test's own session is refreshed, so the test sees what the request committed.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        from flask import has_app_context

        if has_app_context():
            from lms.core.db import db

            session = db.session
            if not (session.new or session.dirty or session.deleted):
                session.rollback()  # end the read snapshot and expire objects: reload on access
        return response


@pytest.fixture(scope="session")
def app(test_database_url, tmp_path_factory):
    from lms import create_app
    from lms.accounts.passwords import use_fast_hashing_for_tests
    from lms.core.migrations import upgrade_all

    use_fast_hashing_for_tests()
    _reset_schema(test_database_url)
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "LMS_DATABASE_URL": test_database_url,
        "LMS_SECRET_KEY": "test-secret-key-test-secret-key-0123456789",
        "LMS_LOG_LEVEL": "WARNING",
        "LMS_PUBLIC_URL": "http://127.0.0.1:5000",
        "MAIL_BACKEND": "console",
        "CELERY_BROKER_URL": "",
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade_all()
    yield app
    with app.app_context():
        from lms.core.db import db

        db.session.remove()
        db.engine.dispose()


def _empty_all_tables(db) -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            if names:
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())


@pytest.fixture(autouse=True)
def _app_context_and_cleanup(request):
    """Every test runs in an app context, and its database changes are undone afterwards."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    from lms.accounts import sms
    from lms.core import mail
    from lms.core.db import db

    mail.outbox.clear()
    sms.outbox.clear()
    # Celery's "a join would block" flag is one process-wide global that eager tasks run in
    # parallel threads (live-server tests) can leave set; a test starts without it.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    with app.app_context():
        yield
        db.session.remove()
        _empty_all_tables(db)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@pytest.fixture
def create_org(app):
    from lms.core.db import db
    from lms.organisations.operations import create_organisation

    def factory(name: str | None = None, kind: str = "enterprise", **kw):
        org = create_organisation(name or f"Org {next(_counter)}", kind, **kw)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def create_user(app):
    """``create_user(role=None, org=None, login=None, admin=False, verified=True, **kw)`` -> committed
    User who accepted the current user agreement. ``verified`` marks the login (e-mail or mobile)
    verified directly, without a link or code and without sending ``account_verified``, and links
    the e-mail's xAPI identities to the user (as the verification would), so statements sent for
    that address are theirs."""
    from flask import current_app

    from lms.accounts.operations import register_user
    from lms.core.db import db, utcnow
    from lms.organisations.operations import add_membership

    def factory(role: str | None = None, org=None, login: str | None = None, *, admin: bool = False,
                password: str = PASSWORD, real_name: str | None = None, verified: bool = True, **kw):
        from lms.records.identity import email_keys, link

        n = next(_counter)
        kw.setdefault("consent_version", current_app.config["LMS_POLICY_VERSION"])
        user = register_user(login or f"user{n}@example.com", password, real_name or f"User {n}",
                             is_system_admin=admin, **kw)
        if verified:
            if user.email:
                user.email_verified_at = utcnow()
                link(user, email_keys(user.email), source="verified_email")
            if user.mobile:
                user.mobile_verified_at = utcnow()
        if role:
            add_membership(user, org, role)
        db.session.commit()
        return user

    return factory


class AuthActions:
    """Log a test client in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, user_or_login, password: str = PASSWORD):
        login = getattr(user_or_login, "login", user_or_login)
        resp = self.client.get("/login")
        assert resp.status_code == 200
        return self.client.post("/login", data={"login": login, "password": password,
                                                "csrf_token": csrf_token_from(resp.get_data(as_text=True))})

    def logout(self):
        resp = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_token_from(resp.get_data(as_text=True))})


def csrf_token_from(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def api_token(app):
    """``api_token(user) -> 'Bearer ...' header dict``."""
    from lms.accounts.operations import create_api_token
    from lms.core.db import db

    def factory(user):
        _row, token = create_api_token(user, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return factory


class LiveServer:
    def __init__(self, app, port):
        from werkzeug.serving import make_server

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The test app served on a free loopback port for the duration of one test."""
    old = app.config["LMS_PUBLIC_URL"]
    server = LiveServer(app, free_port())
    app.config["LMS_PUBLIC_URL"] = server.url
    server.start()
    yield server
    server.stop()
    app.config["LMS_PUBLIC_URL"] = old


class WebSession:
    """A browser-like HTTP client of the live server: its own cookies (so its own login session and
    CSRF token), no redirects followed. ``request`` answers ``(status, body text)``."""

    def __init__(self, base_url: str):
        import http.cookiejar
        import urllib.request

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.base_url = base_url.rstrip("/")
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, method: str, path: str, *, form: dict | None = None, json: object = None,
                headers: dict | None = None) -> tuple[int, str]:
        import json as _json
        import urllib.error
        import urllib.parse
        import urllib.request

        data, hdrs = None, dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            data = _json.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, headers=hdrs, method=method)
        try:
            with self._opener.open(req, timeout=120) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def csrf(self, path: str = "/") -> str:
        status, html = self.request("GET", path)
        assert status == 200, (path, status)
        return csrf_token_from(html)

    def login(self, user_or_login, password: str = PASSWORD) -> "WebSession":
        login = getattr(user_or_login, "login", user_or_login)
        status, _body = self.request("POST", "/login", form={"login": login, "password": password,
                                                            "csrf_token": self.csrf("/login")})
        assert status in (302, 303), f"login failed for {login}: {status}"
        return self


def in_parallel(n: int, fn) -> list:
    """Run ``fn(i)`` in ``n`` threads released together (a barrier), as ``n`` simultaneous
    requests would; returns the results in order (an exception is returned, not raised)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=60)
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


@pytest.fixture
def received_events():
    """``received_events(signal)`` -> a list that fills with ``(sender, kwargs)`` each time the
    signal is sent during the test (receivers are disconnected afterwards). A sender that is a
    database row is reloaded once the request's transaction has committed, so the test can still
    read it after the request's session is gone."""
    from lms.core.db import db
    from lms.core.events import call_after_commit

    connected = []

    def reload(row):
        if row in db.session:
            db.session.refresh(row)

    def watch(signal):
        got = []

        def receiver(sender, **kwargs):
            got.append((sender, kwargs))
            try:
                sa.inspect(sender).mapper
            except sa.exc.NoInspectionAvailable:
                return
            call_after_commit(reload, sender)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return got

    yield watch
    for signal, receiver in connected:
        signal.disconnect(receiver)


@pytest.fixture(scope="session")
def chromium():
    need(os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        need(False, "playwright is not installed")
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def browser_page(chromium):
    """A fresh browser context and page (desktop size); ``phone_page`` is the 375 x 667 one."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(chromium):
    context = chromium.new_context(viewport={"width": 375, "height": 667}, locale="zh-CN", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def artifacts_dir():
    path = os.environ.get("LMS_TEST_ARTIFACTS") or os.path.join(tempfile.gettempdir(), "lms-test-artifacts")
    os.makedirs(path, exist_ok=True)
    return path


def browser_login(page, base_url: str, login: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


__all__ = ["need", "only_on_postgresql", "port_open", "free_port", "csrf_token_from", "browser_login", "in_parallel", "WebSession",
           "PASSWORD", "STRICT", "shutil"]
