import re

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.db import db
from lms.organisations.models import Organisation
from lms.testing import csrf_token_from


def _token(client, url):
    return csrf_token_from(client.get(url).get_data(as_text=True))


def test_admin_creates_user_and_duplicate_login_is_a_field_error(client, auth, create_user):
    auth.login(create_user(admin=True))
    token = _token(client, "/admin/users")
    data = {"login": "new@example.com", "real_name": "新用户", "password": "abc12345", "csrf_token": token}
    assert client.post("/admin/users", data=data).status_code == 302
    again = client.post("/admin/users?lang=en", data=data)
    assert again.status_code == 400
    assert "already exists" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "new@example.com")) == 1


def test_only_system_admin_creates_organisations(client, auth, create_user, create_org):
    org = create_org()
    auth.login(create_user("enterprise_admin", org))
    token = _token(client, "/admin/organisations")
    resp = client.post("/admin/organisations", data={"name": "X", "kind": "enterprise", "csrf_token": token})
    assert resp.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1


def test_admin_cannot_deactivate_self(client, auth, create_user):
    admin = create_user(admin=True)
    auth.login(admin)
    token = _token(client, f"/admin/users/{admin.id}")
    client.post(f"/admin/users/{admin.id}", data={"is_system_admin": "y", "csrf_token": token})
    db.session.refresh(admin)
    assert admin.is_active_account is True


def test_deactivated_user_session_ends(app, client, auth, create_user):
    admin = create_user(admin=True)
    victim = create_user()
    other = app.test_client()
    from lms.testing import AuthActions

    AuthActions(other).login(victim)
    assert other.get("/account").status_code == 200
    auth.login(admin)
    token = _token(client, f"/admin/users/{victim.id}")
    client.post(f"/admin/users/{victim.id}", data={"csrf_token": token})
    assert other.get("/account").status_code == 302


def test_org_admin_cannot_add_a_member_of_another_organisation(client, auth, create_user, create_org):
    mine, theirs = create_org(), create_org()
    boss = create_user("enterprise_admin", mine)
    outsider = create_user("learner", theirs, login="outsider@example.com")
    auth.login(boss)
    token = _token(client, f"/admin/organisations/{mine.id}")
    resp = client.post(f"/admin/organisations/{mine.id}?lang=en", data={"login": "outsider@example.com",
                                                                       "role": "learner", "csrf_token": token})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "belongs to another organisation" in html, re.findall(r"class=\"errors\".*?</ul>", html, re.S)
    db.session.refresh(outsider)
    assert outsider.organisation_ids() == {theirs.id}


def test_password_reset_mails_are_rate_limited(app, client):
    from lms.core import mail

    token = _token(client, "/reset")
    statuses = [client.post("/reset", data={"login": "nobody@example.com", "csrf_token": token}).status_code
                for _ in range(app.config["LMS_RESET_MAX_PER_HOUR"] + 1)]
    assert statuses[:-1] == [302] * app.config["LMS_RESET_MAX_PER_HOUR"]
    assert statuses[-1] == 429
    assert mail.outbox == []


def test_forged_request_id_is_replaced(client):
    forged = 'abc {"level": "FAKE"}'
    assert client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"] != forged
    assert client.get("/healthz", headers={"X-Request-ID": "req-42"}).headers["X-Request-ID"] == "req-42"


def test_trusted_proxy_setting_uses_forwarded_client_address(tmp_path):
    from lms import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "LMS_TRUSTED_PROXIES": 1, "LMS_PLUGINS": ""})

    @app.get("/_addr")
    def _addr():
        from flask import request

        return request.remote_addr

    assert app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"}).get_data(as_text=True) == "203.0.113.9"
