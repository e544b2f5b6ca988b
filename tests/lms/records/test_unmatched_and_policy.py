"""The unmatched-learners page and the trust-policy editor."""
from __future__ import annotations

import sqlalchemy as sa

from tests.lms.records.conftest import post_form
from tests.lms.records.shapes import moodle_statement

MOODLE = "https://moodle.example.edu"


def test_unmatched_lists_foreign_actors_only_and_links_with_confirmation(app, client, auth, create_user,
                                                                         foreign_system):
    from lms.core.db import db
    from lms.records.identity import key_hash, user_for_actor
    from lms.records.models import IdentityLinkLog

    admin = create_user(admin=True)
    learner = create_user(login="learner@example.com", real_name="李四")
    post = foreign_system("Moodle of the school")
    post([moodle_statement(MOODLE, 42, cmid=i) for i in range(3)] +
         [moodle_statement(MOODLE, 43), moodle_statement(MOODLE, 0, mbox="learner@example.com")])
    auth.login(admin)
    html = client.get("/admin/records/unmatched?lang=en").get_data(as_text=True)
    assert "42 @ moodle.example.edu" in html and "43 @ moodle.example.edu" in html
    assert "learner@example.com" not in html.split('id="log-title"')[0]  # verified: matched
    digest = key_hash(f"account:{MOODLE}|42")
    url = f"/admin/records/unmatched/{digest}/link"
    resp = post_form(client, url, {"login": "learner@example.com"})
    assert resp.status_code == 200
    confirm = resp.get_data(as_text=True)
    assert 'data-testid="link-confirm"' in confirm and "3 statements will count for 李四" in confirm
    assert user_for_actor({"account": {"homePage": MOODLE, "name": "42"}}) is None  # not before confirming
    resp = post_form(client, url, {"login": "learner@example.com", "confirmed": "1"})
    assert resp.status_code == 302
    assert user_for_actor({"account": {"homePage": MOODLE, "name": "42"}}).id == learner.id
    log = db.session.scalars(sa.select(IdentityLinkLog).where(IdentityLinkLog.source == "admin")).one()
    assert (log.user_id, log.statements, log.actor_id) == (learner.id, 3, admin.id)
    html = client.get("/admin/records/unmatched?lang=en").get_data(as_text=True)
    listed, logged = html.split('id="log-title"')
    assert "42 @ moodle.example.edu" not in listed and "43 @ moodle.example.edu" in listed
    assert "42 @ moodle.example.edu" in logged and "李四" in logged
    # Linked now: the old page for that key is gone from the list, and linking again is refused.
    resp = post_form(client, url, {"login": "learner@example.com", "confirmed": "1"})
    assert resp.status_code == 400


def test_unmatched_search_escapes_wildcards_and_pages(app, client, auth, create_user, foreign_system):
    admin = create_user(admin=True)
    foreign_system()([moodle_statement(MOODLE, 100), moodle_statement("https://m_x.example.edu", 7)])
    auth.login(admin)
    assert "100 @ moodle" in client.get("/admin/records/unmatched?q=100").get_data(as_text=True)
    html = client.get("/admin/records/unmatched?q=_").get_data(as_text=True)
    assert "7 @ m_x.example.edu" in html and "100 @ moodle" not in html
    html = client.get("/admin/records/unmatched?q=%25").get_data(as_text=True)
    assert "No unmatched learners" in html or "没有未匹配的学员" in html
    assert client.get("/admin/records/unmatched?page=99999999999999999999").status_code == 200


def test_supervisor_reads_unmatched_and_policy_but_changes_nothing(app, client, auth, create_user, create_org,
                                                                  foreign_system):
    from lms.records.identity import key_hash
    from lms.records.models import IdentityLinkCode, PolicySetting
    from lms.core.db import db

    authority = create_org("人社局", "authority")
    supervisor = create_user("supervisor", authority)
    create_user(login="learner@example.com")
    foreign_system()([moodle_statement(MOODLE, 42)])
    digest = key_hash(f"account:{MOODLE}|42")
    auth.login(supervisor)
    html = client.get("/admin/records/unmatched").get_data(as_text=True)
    assert "42 @ moodle.example.edu" in html and f"/unmatched/{digest}/link" not in html
    html = client.get("/admin/records/policy").get_data(as_text=True)
    assert "disabled" in html and 'type="submit" class="button"' not in html
    assert post_form(client, f"/admin/records/unmatched/{digest}/link",
                     {"login": "learner@example.com", "confirmed": "1"}, page="/account").status_code == 403
    assert post_form(client, f"/admin/records/unmatched/{digest}/code", {}, page="/account").status_code == 403
    assert post_form(client, "/admin/records/policy", {"max_statement_hours": "1", "max_daily_hours": "1"},
                     page="/account").status_code == 403
    assert db.session.scalars(sa.select(PolicySetting)).all() == []
    assert db.session.scalars(sa.select(IdentityLinkCode)).all() == []


def test_policy_editor_saves_changes_and_shows_who_and_when(app, client, auth, create_user):
    from lms.core.db import db
    from lms.records import trust
    from lms.records.forms import trust_field_name
    from lms.records.models import PolicySetting

    admin = create_user(admin=True, real_name="王管理")
    auth.login(admin)
    html = client.get("/admin/records/policy?lang=zh_CN").get_data(as_text=True)
    assert "平台启动的内容" in html and "考试成绩" in html and "学习时间上限" in html
    data = {trust_field_name(s, f): "y" for s, facts in trust.policy_table().items() for f, v in facts.items() if v}
    data.pop(trust_field_name("launch", "study_time"))
    data[trust_field_name("device", "completion")] = "y"
    data.update(max_statement_hours="2.5", max_daily_hours="8")
    resp = post_form(client, "/admin/records/policy", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert trust.allowed("launch", "study_time") is False
    assert trust.allowed("device", "completion") is True
    assert trust.limit("study_time.max_statement_seconds") == 2.5 * 3600
    assert trust.limit("study_time.max_daily_seconds") == 8 * 3600
    rows = db.session.scalars(sa.select(PolicySetting)).all()
    assert len(rows) == 4 and {r.updated_by_id for r in rows} == {admin.id}
    html = client.get("/admin/records/policy?lang=zh_CN").get_data(as_text=True)
    assert "王管理" in html and "2.5 小时" in html
    name = trust_field_name("launch", "study_time")
    assert f'name="{name}" value="y">' in html and f'name="{name}" value="y" checked' not in html
    # Invalid hours: refused, nothing changes.
    data.update(max_daily_hours="-1")
    assert post_form(client, "/admin/records/policy", data).status_code == 400
    data.update(max_daily_hours="abc")
    assert post_form(client, "/admin/records/policy", data).status_code == 400
    assert trust.limit("study_time.max_daily_seconds") == 8 * 3600

