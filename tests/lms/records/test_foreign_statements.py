"""Statements from Moodle, Open edX and cmi5 content run elsewhere reach the right user after the
one administrator step each needs (see shapes.py for where the shapes come from)."""
from __future__ import annotations

from tests.lms.records.conftest import post_form, upload
from tests.lms.records.shapes import cmi5_session, moodle_statement, openedx_statement

MOODLE = "https://moodle.school.example.edu"
OPENEDX = "https://courses.example.org"
PLAYER = "https://lms.partner.example.com"


def test_moodle_account_statements_reach_the_user_after_a_csv_import(app, client, auth, create_user, foreign_system,
                                                                     system_source):
    from lms.records.identity import user_for_actor
    from lms.records.study_time import seconds_of_user

    admin = create_user(admin=True)
    zhang = create_user(login="13800138000")
    li = create_user(login="li@example.com")
    foreign_system("Moodle of the school")([moodle_statement(MOODLE, 17, verb="experienced", cmid=1)])
    # logstore_xapi sends "completed" with the attempt's duration: from an external system that
    # is a total (counted once per registration).
    post = system_source("Moodle of the school")
    post([moodle_statement(MOODLE + "/", 17, duration="PT45M"), moodle_statement(MOODLE, 18, duration="PT15M")])
    actor17 = {"account": {"homePage": MOODLE, "name": "17"}}
    assert user_for_actor(actor17) is None and seconds_of_user(zhang) == 0
    auth.login(admin)
    resp = upload(client, "/admin/records/identities/import",
                  f"homePage,account name,login\n{MOODLE}/,17,13800138000\n{MOODLE},18,li@example.com\n".encode())
    assert resp.status_code == 302
    assert user_for_actor(actor17).id == zhang.id
    assert seconds_of_user(zhang) == 45 * 60 and seconds_of_user(li) == 15 * 60
    # Later statements count at once (a larger total of the same registration-less attempt).
    post([moodle_statement(MOODLE, 17, cmid=9, duration="PT50M")])
    assert seconds_of_user(zhang) == 50 * 60
    html = client.get("/admin/records/unmatched").get_data(as_text=True).split('id="log-title"')[1]
    assert "17 @ moodle.school.example.edu" in html


def test_moodle_send_mbox_needs_only_a_verified_address(app, create_user, system_source):
    from lms.records.identity import user_for_actor
    from lms.records.study_time import seconds_of_user

    learner = create_user(login="wang@example.com")  # verified: its mbox and sha1 forms are linked
    system_source()([moodle_statement(MOODLE, 0, mbox="Wang@Example.com", duration="PT30M")])
    assert user_for_actor({"mbox": "mailto:wang@example.com"}).id == learner.id
    assert seconds_of_user(learner) == 30 * 60


def test_openedx_account_mode_reaches_the_user_after_a_csv_import(app, client, auth, create_user, foreign_system):
    from lms.records.identity import user_for_actor
    from lms.records.study_time import seconds_of_user

    admin = create_user(admin=True)
    learner = create_user(login="chen@example.com")
    anon = "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"
    foreign_system("Open edX")([openedx_statement(OPENEDX, anonymous_id=anon, duration="PT20M"),
                                openedx_statement(OPENEDX, anonymous_id=anon, duration="PT10M")])
    auth.login(admin)
    resp = upload(client, "/admin/records/identities/import",
                  f"homePage,account name,login\n{OPENEDX},{anon},chen@example.com\n".encode())
    assert resp.status_code == 302
    assert user_for_actor({"account": {"homePage": OPENEDX, "name": anon}}).id == learner.id
    assert seconds_of_user(learner) == 30 * 60


def test_openedx_sha1_mode_needs_only_a_verified_address(app, create_user, foreign_system):
    from lms.records.identity import user_for_actor
    from lms.records.study_time import seconds_of_user

    learner = create_user(login="zhao@example.com")
    unverified = create_user(login="qian@example.com", verified=False)
    post = foreign_system("Open edX")
    post([openedx_statement(OPENEDX, email="zhao@example.com", duration="PT25M"),
          openedx_statement(OPENEDX, email="qian@example.com", duration="PT25M")])
    stmt = openedx_statement(OPENEDX, email="zhao@example.com")
    assert user_for_actor(stmt["actor"]).id == learner.id
    assert seconds_of_user(learner) == 25 * 60
    # An unverified registration claims nothing.
    assert user_for_actor(openedx_statement(OPENEDX, email="qian@example.com")["actor"]) is None
    assert seconds_of_user(unverified) == 0


def test_cmi5_content_launched_elsewhere_reaches_the_learner_with_a_link_code(app, client, auth, create_user,
                                                                               foreign_system):
    import re

    from lms.records.identity import key_hash, user_for_actor
    from lms.records.study_time import seconds_of_user

    admin = create_user(admin=True)
    learner = create_user(login="sun@example.com")
    foreign_system("Partner LMS cmi5 player")(cmi5_session(PLAYER, "learner-7", minutes=30))
    digest = key_hash(f"account:{PLAYER}|learner-7")
    auth.login(admin)
    html = client.get("/admin/records/unmatched").get_data(as_text=True)
    assert "learner-7 @ lms.partner.example.com" in html
    resp = post_form(client, f"/admin/records/unmatched/{digest}/code", {}, page="/admin/records/unmatched")
    code = re.search(r'data-testid="link-code"[^>]*>([A-Z0-9-]+)<', resp.get_data(as_text=True)).group(1)
    auth.logout()
    auth.login(learner)
    assert post_form(client, "/account/identities", {"code": code}).status_code == 302
    assert user_for_actor({"account": {"homePage": PLAYER, "name": "learner-7"}}).id == learner.id
    # One cmi5 session counts its largest duration once (terminated: 30 minutes).
    assert seconds_of_user(learner) == 30 * 60
