"""Logins and sessions (issue 10): one lockout per account however its login is spelled, failures
counted atomically, logout ends the session, password change without a chosen language works,
reset tokens reveal nothing of the password hash."""
from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa

from lms.accounts.models import LoginFailure, User
from lms.core.db import db
from lms.testing import PASSWORD, WebSession, csrf_token_from, in_parallel, only_on_postgresql


def _try(client, login, password="wrong-password-1"):
    page = client.get("/login")
    return client.post("/login", data={"login": login, "password": password,
                                       "csrf_token": csrf_token_from(page.get_data(as_text=True))})


@pytest.mark.parametrize("spellings", [
    ["victim@demo.lms", "VICTIM@demo.lms", "victim@ｄemo.lms", " victim@demo.lms "],
    ["13800138000", "+8613800138000", "138-0013-8000", "１３８００１３８０００", "138 0013 8000"],
])
def test_every_spelling_of_a_login_shares_one_lockout(app, client, create_user, spellings):
    login = spellings[0]
    create_user(login=login)
    limit = app.config["LMS_LOGIN_MAX_FAILURES"]
    for i in range(limit):
        _try(client, spellings[i % len(spellings)])
    # locked now: the right password in any spelling is refused
    for spelling in spellings:
        resp = _try(client, spelling, PASSWORD)
        assert resp.status_code != 302
    keys = set(db.session.scalars(sa.select(LoginFailure.key).where(LoginFailure.key.like("acct:%"))))
    assert len(keys) == 1


def test_parallel_wrong_passwords_evaluate_at_most_the_limit_and_never_fail(app, live_server, create_user,
                                                                             monkeypatch):
    only_on_postgresql(app.config["LMS_DATABASE_URL"])
    from lms.accounts import operations

    user = create_user(login="target@example.com")
    checked = []
    real = operations.verify_password

    def counting(stored, given):
        checked.append(1)
        return real(stored, given)

    monkeypatch.setattr(operations, "verify_password", counting)
    sessions = [WebSession(live_server.url) for _ in range(30)]
    tokens = [s.csrf("/login") for s in sessions]
    results = in_parallel(30, lambda i: sessions[i].request(
        "POST", "/login", form={"login": user.email, "password": f"wrong-{i}", "csrf_token": tokens[i]}))
    statuses = [r[0] if isinstance(r, tuple) else r for r in results]
    assert all(isinstance(s, int) and s < 500 for s in statuses), statuses
    assert len(checked) <= app.config["LMS_LOGIN_MAX_FAILURES"]


def test_logout_ends_the_session_and_the_remember_token(app, client, create_user):
    user = create_user(login="leaver@example.com")
    page = client.get("/login")
    resp = client.post("/login", data={"login": user.email, "password": PASSWORD, "remember": "y",
                                       "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    cookies = [(c.key, c.value) for c in client._cookies.values()]
    assert client.get("/account").status_code == 200
    home = client.get("/account").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_from(home)})
    # an attacker replays the cookies captured before logout
    replay = app.test_client()
    for key, value in cookies:
        replay.set_cookie(key, value)
    assert replay.get("/account").status_code == 302
    remember_only = app.test_client()
    for key, value in cookies:
        if key == "remember_token":
            remember_only.set_cookie(key, value)
    assert remember_only.get("/account").status_code == 302


def test_password_change_without_a_chosen_language_succeeds(app, client, auth, create_user):
    user = create_user(login="changer@example.com")
    auth.login(user)
    with client.session_transaction() as sess:
        sess.pop("lang", None)
        sess.pop("locale", None)
    page = client.get("/account/password")
    resp = client.post("/account/password", data={
        "old_password": PASSWORD, "password": "N3w-passw0rd!", "confirm": "N3w-passw0rd!",
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert client.get("/account").status_code == 200  # still logged in, in this session


def test_a_reset_token_reveals_nothing_of_the_password_hash(app, create_user):
    from lms.accounts.operations import make_reset_token, user_from_reset_token

    user = create_user(login="reset@example.com")
    token = make_reset_token(user)
    payload = token.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert user.password_hash[-16:] not in json.dumps(data)
    assert user_from_reset_token(token).id == user.id
    user.password_hash = user.password_hash[:-1] + ("A" if user.password_hash[-1] != "A" else "B")
    db.session.commit()
    assert user_from_reset_token(token) is None
    assert db.session.get(User, user.id) is not None
