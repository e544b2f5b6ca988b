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
