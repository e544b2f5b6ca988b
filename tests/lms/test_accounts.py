import re

import sqlalchemy as sa

from lms.accounts import idcard
from lms.accounts.models import User
from lms.core import mail
from lms.core.db import db
from lms.testing import PASSWORD, csrf_token_from


def _post_form(client, url, data, lang="zh_CN"):
    page = client.get(url + f"?lang={lang}")
    data = {**data, "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    return client.post(url, data=data)


def test_register_with_mobile_and_login(client, auth):
    resp = _post_form(client, "/register", {"login": "138 0013 8000", "real_name": "张三",
                                            "password": "abc12345", "confirm": "abc12345", "accept_terms": "y"})
    assert resp.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.mobile == "13800138000")).one()
    assert user.password_hash.startswith("$argon2id$")
    auth.logout()
    assert auth.login("13800138000", "abc12345").status_code == 302


def test_register_errors_in_chinese_and_english(client):
    resp = _post_form(client, "/register", {"login": "not-a-login", "real_name": "x",
                                            "password": "abc12345", "confirm": "different1"})
    assert resp.status_code == 400
    assert "两次输入的密码不一致" in resp.get_data(as_text=True)
    resp = _post_form(client, "/register", {"login": "not-a-login", "real_name": "x",
                                            "password": "abc12345", "confirm": "abc12345", "accept_terms": "y"},
                     lang="en")
    assert resp.status_code == 400
    assert "valid email address or an 11-digit mobile number" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_form_without_csrf_token_is_refused(client, create_user):
    user = create_user()
    resp = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert resp.status_code == 400


def test_login_throttled_after_repeated_failures(app, client, auth, create_user):
    user = create_user()
    for _ in range(app.config["LMS_LOGIN_MAX_FAILURES"]):
        assert auth.login(user.login, "wrong-password1").status_code == 400
    resp = auth.login(user.login, PASSWORD)
    assert resp.status_code == 400
    assert "尝试次数过多" in resp.get_data(as_text=True) or "Too many" in resp.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, client, auth, create_user):
    user = create_user()
    other = app.test_client()
    from lms.testing import AuthActions

    AuthActions(other).login(user)
    auth.login(user)
    resp = _post_form(client, "/account/password", {"old_password": PASSWORD, "password": "newpass123",
                                                    "confirm": "newpass123"})
    assert resp.status_code == 302
    assert other.get("/account").status_code == 302  # the other session was logged out
    assert client.get("/account").status_code == 200


def test_password_reset_by_emailed_token(client, create_user):
    user = create_user(login="reset@example.com")
    resp = _post_form(client, "/reset", {"login": "reset@example.com"})
    assert resp.status_code == 302
    body = mail.outbox[-1].get_content()
    link = re.search(r"http://\S+(/reset/\S+)", body).group(1)
    resp = _post_form(client, link, {"password": "brandnew99", "confirm": "brandnew99"})
    assert resp.status_code == 302
    db.session.refresh(user)
    from lms.accounts.passwords import verify_password

    assert verify_password(user.password_hash, "brandnew99")
    # The link works once only: the password changed, so the token no longer matches.
    assert client.get(link).status_code == 302


def test_id_card_checksum():
    assert idcard.is_valid("11010519491231002X")
    assert not idcard.is_valid("110105194912310021")
    assert not idcard.is_valid("11010519491331002X")  # month 13
    assert idcard.mask("11010519491231002X") == "110105********002X"


def test_id_card_masked_for_others_full_for_owner_and_admin(client, auth, create_user, create_org, api_token):
    org = create_org()
    owner = create_user("learner", org, id_card_number="11010519491231002X")
    boss = create_user("enterprise_admin", org)
    admin = create_user(admin=True)
    seen_by_boss = client.get(f"/api/v1/users/{owner.id}", headers=api_token(boss)).get_json()
    assert seen_by_boss["id_card_number"] == "110105********002X"
    assert client.get(f"/api/v1/users/{owner.id}", headers=api_token(admin)).get_json()["id_card_number"] == "11010519491231002X"
    assert client.get("/api/v1/me", headers=api_token(owner)).get_json()["id_card_number"] == "11010519491231002X"


def test_invalid_id_card_rejected_on_profile(client, auth, create_user):
    user = create_user()
    auth.login(user)
    resp = _post_form(client, "/account", {"real_name": "王五", "id_card_number": "110105194912310021", "locale": ""})
    assert resp.status_code == 400
    db.session.refresh(user)
    assert user.id_card_number is None


def test_id_card_never_logged(client, auth, create_user, caplog):
    user = create_user()
    auth.login(user)
    with caplog.at_level("DEBUG"):
        _post_form(client, "/account", {"real_name": "王五", "id_card_number": "11010519491231002X", "locale": ""})
    assert "11010519491231002X" not in caplog.text


def test_users_create_cli(runner, create_org):
    org = create_org("某某学校", "institution")
    result = runner.invoke(args=["users", "create", "--email", "t@example.com", "--password", "abc12345",
                                 "--role", "teacher", "--org", str(org.id)])
    assert result.exit_code == 0, result.output
    user = db.session.scalars(sa.select(User).where(User.email == "t@example.com")).one()
    assert user.roles(org.id) == {"teacher"}
    result = runner.invoke(args=["users", "create", "--email", "x@example.com", "--password", "abc12345",
                                 "--role", "wizard", "--org", str(org.id)])
    assert result.exit_code != 0 and "unknown role" in result.output


def test_demo_seed_gives_working_logins(runner, client, auth):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    for login in ("admin@demo.lms", "learner@demo.lms", "teacher@demo.lms", "mentor@demo.lms",
                  "enterprise@demo.lms", "institution@demo.lms", "supervisor@demo.lms"):
        assert login in result.output
        assert auth.login(login, "Demo-2026").status_code == 302
        auth.logout()
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert again.exit_code == 0 and "not seeded" in again.output
