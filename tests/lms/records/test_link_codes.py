"""One-time link codes: issued by an administrator, entered by the learner, work once."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.lms.records.conftest import post_form
from tests.lms.records.shapes import openedx_statement

PAGE = "/account/identities"
LMS = "https://lms.example.org"


def _unmatched_hash(foreign_system, anonymous_id="5d1e0c54-0000-4000-8000-000000000001"):
    from lms.records.identity import key_hash

    foreign_system("Open edX")([openedx_statement(LMS, anonymous_id=anonymous_id)])
    return key_hash(f"account:{LMS}|{anonymous_id}")


def _issue(client, digest) -> str:
    import re

    resp = post_form(client, f"/admin/records/unmatched/{digest}/code", {}, page="/admin/records/unmatched")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.headers["Cache-Control"] == "no-store"
    return re.search(r'data-testid="link-code"[^>]*>([A-Z0-9-]+)<', resp.get_data(as_text=True)).group(1)


def test_code_is_shown_once_stored_hashed_and_links_once(app, client, auth, create_user, foreign_system):
    from lms.core.db import db
    from lms.records.identity import user_for_actor
    from lms.records.models import IdentityLinkCode, IdentityLinkLog
    from lms.records.study_time import seconds_of_user

    admin = create_user(admin=True)
    learner = create_user(login="learner@example.com")
    digest = _unmatched_hash(foreign_system)
    auth.login(admin)
    code = _issue(client, digest)
    row = db.session.scalars(sa.select(IdentityLinkCode)).one()
    assert code.replace("-", "") not in row.code_hash and len(row.code_hash) == 64
    assert dt.timedelta(days=6, hours=23) < row.expires_at - row.created_at <= dt.timedelta(days=7)
    auth.logout()
    auth.login(learner)
    resp = post_form(client, PAGE, {"code": code.lower().replace("-", " ")})
    assert resp.status_code == 302
    actor = {"account": {"homePage": LMS + "/", "name": "5d1e0c54-0000-4000-8000-000000000001"}}
    assert user_for_actor(actor).id == learner.id
    assert seconds_of_user(learner) == 20 * 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityLinkLog)
                             .where(IdentityLinkLog.source == "learner_code")) == 1
    page = client.get(PAGE).get_data(as_text=True)
    assert "lms.example.org" in page and f"account:{LMS}" not in page
    # Used: refused, nothing changes.
    other = create_user(login="other@example.com")
    auth.logout()
    auth.login(other)
    resp = post_form(client, PAGE, {"code": code})
    assert resp.status_code == 400
    assert user_for_actor(actor).id == learner.id


def test_wrong_and_expired_codes_are_refused_and_attempts_limited(app, client, auth, create_user, foreign_system):
    from lms.core.db import db
    from lms.records import links
    from lms.records.models import IdentityLinkCode, LearnerIdentity

    admin = create_user(admin=True)
    learner = create_user(login="learner@example.com")
    digest = _unmatched_hash(foreign_system)
    key = links.key_for_hash(digest)
    _row, expired = links.issue_code(key, by=admin)
    db.session.execute(sa.update(IdentityLinkCode).values(expires_at=dt.datetime.now(dt.timezone.utc)
                                                          - dt.timedelta(seconds=1)))
    _row, good = links.issue_code(key, by=admin)
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(LearnerIdentity))
    auth.login(learner)
    client.get("/?lang=en")
    resp = post_form(client, PAGE, {"code": expired})
    assert resp.status_code == 400 and "wrong, expired or already used" in resp.get_data(as_text=True)
    for _ in range(4):
        assert post_form(client, PAGE, {"code": "AAAA-BBBB-CCCC"}).status_code == 400
    # Five failures: even the right code is refused now.
    resp = post_form(client, PAGE, {"code": good})
    assert resp.status_code == 400 and "Too many wrong codes" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LearnerIdentity)) == before
    assert db.session.scalars(sa.select(IdentityLinkCode).where(IdentityLinkCode.used_at.is_not(None))).all() == []


def test_code_for_a_key_linked_meanwhile_is_refused_and_stays_unused(app, client, auth, create_user, foreign_system):
    from lms.core.db import db
    from lms.records import links
    from lms.records.identity import link, user_id_for_key
    from lms.records.models import IdentityLinkCode

    admin = create_user(admin=True)
    learner, other = create_user(), create_user()
    key = links.key_for_hash(_unmatched_hash(foreign_system))
    _row, code = links.issue_code(key, by=admin)
    link(other, [key], source="admin", by=admin)
    db.session.commit()
    auth.login(learner)
    assert post_form(client, PAGE, {"code": code}).status_code == 400
    assert user_id_for_key(key) == other.id
    assert db.session.scalars(sa.select(IdentityLinkCode.used_at)).one() is None


def test_learner_page_describes_identities_without_raw_keys(app, client, auth, create_user):
    learner = create_user(login="learner@example.com")
    auth.login(learner)
    html = client.get(PAGE + "?lang=zh_CN").get_data(as_text=True)
    assert "learner@example.com" in html and "电子邮箱" in html
    assert "mbox:" not in html and "sha1:" not in html and "mailto:" not in html
    profile = client.get("/account").get_data(as_text=True)
    assert PAGE in profile
