"""Deactivating an account (admin page) sends ``user_deleting`` once, in the same transaction:
the account's API tokens and LRS launch credentials stop working."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from lms.core import extension_points as events
from lms.core.db import db
from lms.testing import csrf_token_from


def test_deactivating_an_account_revokes_its_tokens_and_launch_credentials(app, client, auth, create_user,
                                                                           api_token, received_events):
    from lms.accounts.models import ApiToken
    from lms.xapi.credentials import create_launch_credential
    from lms.xapi.models import Client

    deleting = received_events(events.user_deleting)
    admin = create_user(admin=True)
    learner = create_user()
    headers = api_token(learner)
    key, secret = create_launch_credential(learner, registration=str(uuid.uuid4()),
                                           activity_iri="https://content.example.com/au/1")
    db.session.commit()
    assert client.get("/api/v1/courses/my/enrolments", headers=headers).status_code == 200
    from lms.xapi.credentials import authenticate

    assert authenticate(key, secret) is not None

    auth.login(admin)
    page = client.get(f"/admin/users/{learner.id}")
    r = client.post(f"/admin/users/{learner.id}", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert r.status_code == 302
    assert [s.id for s, _kw in deleting] == [learner.id]
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == learner.id)).revoked_at is not None
    assert db.session.scalar(sa.select(Client).where(Client.key == key)).active is False
    assert authenticate(key, secret) is None
    assert client.get("/api/v1/courses/my/enrolments", headers=headers).status_code == 401
    # saving the page again (still inactive) sends nothing more
    page = client.get(f"/admin/users/{learner.id}")
    client.post(f"/admin/users/{learner.id}", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert len(deleting) == 1


def test_an_admin_cannot_deactivate_themselves(app, client, auth, create_user, received_events):
    deleting = received_events(events.user_deleting)
    admin = create_user(admin=True)
    auth.login(admin)
    page = client.get(f"/admin/users/{admin.id}")
    client.post(f"/admin/users/{admin.id}", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                                  "is_system_admin": "y"})
    db.session.expire_all()
    assert admin.is_active_account and deleting == []
