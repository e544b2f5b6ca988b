from lms.testing import csrf_token_from


def test_api_without_token_is_401_json(client):
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"


def test_api_with_bad_token_is_401_json(client):
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "invalid_token"


def test_api_token_works_and_revocation_ends_it(client, auth, create_user):
    user = create_user()
    auth.login(user)
    page = client.get("/account/tokens")
    resp = client.post("/account/tokens", data={"name": "phone", "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    html = resp.get_data(as_text=True)
    import re

    token = re.search(r'data-testid="new-token">([^<]+)<', html).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["id"] == user.id
    from lms.accounts.models import ApiToken
    from lms.core.db import db
    import sqlalchemy as sa

    row = db.session.scalars(sa.select(ApiToken)).one()
    client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token_from(html)})
    auth.logout()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_users_api_scoped(client, create_user, create_org, api_token):
    org_a, org_b = create_org(), create_org()
    learner_a = create_user("learner", org_a)
    learner_b = create_user("learner", org_b)
    admin_a = create_user("enterprise_admin", org_a)
    ids = {u["id"] for u in client.get("/api/v1/users", headers=api_token(admin_a)).get_json()["items"]}
    assert learner_a.id in ids and learner_b.id not in ids
    assert client.get(f"/api/v1/users/{learner_b.id}", headers=api_token(admin_a)).status_code == 404
    assert client.get(f"/api/v1/users/{learner_a.id}", headers=api_token(learner_b)).status_code == 404
    own = client.get("/api/v1/users", headers=api_token(learner_b)).get_json()["items"]
    assert [u["id"] for u in own] == [learner_b.id]


def test_supervisor_reads_all_organisations(client, create_user, create_org, api_token):
    create_org(), create_org()
    authority = create_org(kind="authority")
    sup = create_user("supervisor", authority)
    assert len(client.get("/api/v1/organisations", headers=api_token(sup)).get_json()["items"]) == 3


def test_admin_pages_forbidden_to_non_admins(client, auth, create_user, create_org):
    auth.login(create_user("learner", create_org()))
    assert client.get("/admin/users").status_code == 403
    auth.logout()
    assert client.get("/admin/users").status_code == 302  # to the login page


def test_org_admin_adds_member_but_cannot_grant_admin_roles(client, auth, create_user, create_org):
    org = create_org()
    boss = create_user("enterprise_admin", org)
    worker = create_user("learner", org, login="worker@example.com")
    auth.login(boss)
    page = client.get(f"/admin/organisations/{org.id}")
    token = csrf_token_from(page.get_data(as_text=True))
    resp = client.post(f"/admin/organisations/{org.id}", data={"login": "worker@example.com", "role": "mentor",
                                                               "csrf_token": token})
    assert resp.status_code == 302
    from lms.core.db import db

    db.session.refresh(worker)
    assert worker.roles(org.id) == {"learner", "mentor"}
    resp = client.post(f"/admin/organisations/{org.id}", data={"login": "worker@example.com",
                                                               "role": "enterprise_admin", "csrf_token": token})
    assert resp.status_code == 400
    other = create_org()
    assert client.get(f"/admin/organisations/{other.id}").status_code == 404


def test_org_admin_cannot_add_an_unaffiliated_account_or_the_system_administrator(client, auth, create_user,
                                                                                 create_org):
    from lms.core.db import db

    org = create_org()
    boss = create_user("enterprise_admin", org)
    stranger = create_user(login="stranger@example.com")
    root = create_user(login="root@example.com", admin=True)
    auth.login(boss)
    token = csrf_token_from(client.get(f"/admin/organisations/{org.id}").get_data(as_text=True))
    for login in ("stranger@example.com", "root@example.com"):
        resp = client.post(f"/admin/organisations/{org.id}", data={"login": login, "role": "learner",
                                                                   "csrf_token": token})
        assert resp.status_code == 400
    db.session.expire_all()
    assert stranger.organisation_ids() == set() and root.organisation_ids() == set()


def test_openapi_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    import re

    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule)
            assert path in doc["paths"], path
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in doc["paths"][path]


def test_api_unknown_route_is_json_404(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
