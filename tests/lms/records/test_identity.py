"""Learner identity (lms.records.identity): one key per agent, users only through verified or
linked identities."""
from __future__ import annotations

import hashlib

import pytest

from lms.records.identity import email_keys, learner_key, normalise_home_page


@pytest.mark.parametrize("actor, key", [
    ({"mbox": "mailto:W@Factory.Example"}, "mbox:mailto:w@factory.example"),
    ({"mbox_sha1sum": "ABCDEF"}, "sha1:abcdef"),
    ({"account": {"homePage": "https://Moodle.X.edu/", "name": "42"}}, "account:https://moodle.x.edu|42"),
    ({"account": {"homePage": "https://moodle.x.edu", "name": "42"}}, "account:https://moodle.x.edu|42"),
    ({"openid": "https://id.example/me"}, "openid:https://id.example/me"),
    ({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}, None),
    ("not an agent", None),
])
def test_every_form_of_an_agent_has_one_learner_key(actor, key):
    assert learner_key(actor) == key


def test_an_email_stands_for_its_mbox_and_both_sha1_forms():
    keys = email_keys("Worker@Factory.example")
    assert keys[0] == "mbox:mailto:worker@factory.example"
    assert "sha1:" + hashlib.sha1(b"mailto:worker@factory.example").hexdigest() in keys
    assert "sha1:" + hashlib.sha1(b"worker@factory.example").hexdigest() in keys  # Open edX sha1 mode


def test_home_pages_compare_without_case_of_host_or_trailing_slash():
    assert normalise_home_page("HTTPS://Moodle.X.edu/") == normalise_home_page("https://moodle.x.edu")


def test_registering_someones_email_claims_none_of_their_evidence(app, client, create_user):
    """Statements for an address posted by a system stay unclaimed by an unverified registration."""
    from lms.core.db import db
    from lms.records.identity import user_for_actor
    from lms.records.study_time import seconds_of_user
    from lms.xapi.storage import store_statements

    actor = {"mbox": "mailto:w@factory.example"}
    store_statements([{"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/terminated"},
                       "object": {"id": "https://x.example/a"}, "result": {"duration": "PT1H"}}],
                     version="1.0.3", authority={"account": {"homePage": "https://x.example", "name": "sys"}})
    db.session.commit()
    squatter = create_user(login="w@factory.example", verified=False)
    assert user_for_actor(actor) is None
    assert seconds_of_user(squatter) == 0


def test_a_verified_address_is_linked_once_and_cannot_be_taken_by_another_account(app, create_user):
    from lms.core.db import db
    from lms.records.identity import IdentityError, keys_of_user, link, user_for_actor
    from lms.records.models import IdentityLinkLog, LearnerIdentity

    owner = create_user(login="owner@example.com")
    other = create_user(login="other@example.com")
    assert user_for_actor({"mbox": "mailto:OWNER@example.com"}).id == owner.id
    assert link(owner, email_keys("owner@example.com"), source="verified_email") == []  # already linked
    before = db.session.query(LearnerIdentity).count(), db.session.query(IdentityLinkLog).count()
    with pytest.raises(IdentityError):
        link(other, email_keys("owner@example.com") + ["account:https://m.example|9"], source="admin")
    db.session.rollback()
    assert (db.session.query(LearnerIdentity).count(), db.session.query(IdentityLinkLog).count()) == before
    assert "account:https://m.example|9" not in keys_of_user(other)


def test_another_users_platform_account_cannot_be_linked(app, create_user):
    from lms.records.identity import IdentityError, link, platform_key

    a, b = create_user(), create_user()
    with pytest.raises(IdentityError):
        link(a, [platform_key(b)], source="admin")


def test_a_linked_foreign_account_sends_identity_linked_after_commit_only(app, create_user):
    from lms.core.db import db
    from lms.core.extension_points import identity_linked
    from lms.records.identity import link

    user = create_user()
    seen = []

    def receiver(sender, **kw):
        seen.append((sender.id, kw["keys"]))

    identity_linked.connect(receiver)
    try:
        link(user, ["account:https://lms.openedx.example|anon-1"], source="admin")
        db.session.rollback()
        assert seen == []
        link(user, ["account:https://lms.openedx.example|anon-1"], source="admin")
        db.session.commit()
        assert seen == [(user.id, ["account:https://lms.openedx.example|anon-1"])]
    finally:
        identity_linked.disconnect(receiver)
