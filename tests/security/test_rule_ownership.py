"""Ownership of evidence rules and frameworks: the attack (a teacher of an unrelated school deleting
another organisation's rules, then a recompute retracting its certified levels) is refused."""
from __future__ import annotations

import concurrent.futures
import json

import pytest
import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from
from tests.competency.helpers import PASSED, X
from tests.competency.ownership_world import build, snapshot
from tests.security.helpers import login_client, page_csrf

API = "/api/v1/competency"


@pytest.fixture
def world(app, create_user, create_org):
    return build(create_user, create_org)


def _all_rule_ids(fw_id):
    from competency.models import EvidenceRule

    return list(db.session.scalars(sa.select(EvidenceRule.id).where(EvidenceRule.framework_id == fw_id)
                                   .order_by(EvidenceRule.id)))


def _recompute(fw_id):
    from competency.operations.engine import recompute_framework

    recompute_framework(fw_id)
    db.session.commit()


def test_teacher_of_another_school_cannot_delete_or_change_rules_or_frameworks_through_the_api(
        world, client, api_token):
    w = world
    headers = api_token(w.teacher_b)
    before = snapshot()
    for rule_id in _all_rule_ids(w.fw.id):
        resp = client.delete(f"{API}/rules/{rule_id}", headers=headers)
        assert resp.status_code == 403, rule_id
        assert resp.get_json()["error"]["code"] == "forbidden"
        resp = client.patch(f"{API}/rules/{rule_id}", headers=headers, json={"active": False})
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
        assert client.delete(f"{API}/rules/{rule_id}?dry_run=1", headers=headers).status_code == 403
    assert client.patch(f"{API}/frameworks/{w.fw.id}", headers=headers, json={"title": "x"}).status_code == 403
    assert client.delete(f"{API}/frameworks/{w.fw.id}", headers=headers).status_code == 403
    assert client.post(f"{API}/frameworks/{w.fw.id}/recompute", headers=headers).status_code == 403
    # the institution admin of the other school cannot either
    other_admin = api_token(w.admin_b)
    assert client.delete(f"{API}/rules/{w.rule_a.id}", headers=other_admin).status_code == 403
    assert client.patch(f"{API}/frameworks/{w.fw.id}", headers=other_admin, json={"title": "x"}).status_code == 403
    assert snapshot() == before
    # and a recompute afterwards keeps school A's certified level and certificate
    _recompute(w.fw.id)
    after = snapshot()
    assert after["levels"] == before["levels"] and after["certificates"] == before["certificates"]


def test_teacher_of_another_school_is_refused_on_the_pages(app, world):
    w = world
    c = login_client(app, w.teacher_b)
    token = page_csrf(c)
    before = snapshot()
    rid = w.rule_a.id
    system_rule = next(r for r in _all_rule_ids(w.fw.id) if r != rid)
    for url in (f"/competency/rules/{rid}/delete", f"/competency/rules/{system_rule}/delete"):
        assert c.get(url).status_code == 403
        resp = c.post(url, data={"csrf_token": token})
        assert resp.status_code == 403
        assert "Only staff of the organisation that owns it" in resp.get_data(as_text=True) or \
            "只有" in resp.get_data(as_text=True)
    assert c.post(f"/competency/rules/{rid}/active", data={"csrf_token": token}).status_code == 403
    assert c.get(f"/competency/frameworks/{w.fw.id}/edit").status_code == 403
    assert c.post(f"/competency/frameworks/{w.fw.id}/edit", data={"csrf_token": token, "title": "hacked",
                                                                  "status": "retired"}).status_code == 403
    assert c.post(f"/competency/frameworks/{w.fw.id}/delete", data={"csrf_token": token}).status_code == 403
    assert c.post(f"/competency/frameworks/{w.fw.id}/recompute", data={"csrf_token": token}).status_code == 403
    assert snapshot() == before
    # the framework page offers them no edit controls on school A's rule
    html = c.get(f"/competency/frameworks/{w.fw.id}").get_data(as_text=True)
    assert f"/competency/rules/{rid}/delete" not in html and "School A" in html


def test_the_owner_schools_teacher_changes_and_deletes_its_rule_but_not_the_systems(world, client, api_token):
    from competency.models import EvidenceRule, RuleChange

    w = world
    rid = w.rule_a.id
    headers = api_token(w.teacher_a)
    resp = client.patch(f"{API}/rules/{rid}", headers=headers, json={"weight": 0.5, "name": "renamed"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["weight"] == 0.5 and resp.get_json()["owner"]["name"] == "School A"
    system_rule = next(r for r in _all_rule_ids(w.fw.id) if r != rid)
    assert client.delete(f"{API}/rules/{system_rule}", headers=headers).status_code == 403
    assert client.patch(f"{API}/frameworks/{w.fw.id}", headers=headers, json={"title": "x"}).status_code == 403
    assert client.delete(f"{API}/rules/{rid}", headers=headers).status_code == 204
    assert db.session.get(EvidenceRule, rid) is None
    log = db.session.scalars(sa.select(RuleChange).where(RuleChange.rule_id == rid)
                             .order_by(RuleChange.id)).all()
    assert [(c.action, c.actor_id) for c in log] == [("create", w.teacher_a.id), ("update", w.teacher_a.id),
                                                     ("delete", w.teacher_a.id)]
    assert log[1].before["weight"] == 1.0 and log[1].after["weight"] == 0.5
    assert log[2].before["match_iri"].endswith("school-a/wiring-lab") and log[2].after == {}


def test_system_admin_edits_system_rules_and_frameworks(world, client, api_token):
    from competency.models import RuleChange

    w = world
    rid = w.rule_a.id
    headers = api_token(w.sysadmin)
    system_rule = next(r for r in _all_rule_ids(w.fw.id) if r != rid)
    assert client.patch(f"{API}/rules/{system_rule}", headers=headers, json={"active": False}).status_code == 200
    assert client.delete(f"{API}/rules/{rid}", headers=headers).status_code == 204
    resp = client.patch(f"{API}/frameworks/{w.fw.id}", headers=headers, json={"status": "retired"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "retired" and resp.get_json()["owner"] is None
    actions = {(c.subject, c.action) for c in db.session.scalars(sa.select(RuleChange).where(
        RuleChange.actor_id == w.sysadmin.id))}
    assert actions == {("rule", "update"), ("rule", "delete"), ("framework", "update")}
    # a framework with certified learners is not deleted (retire it instead)
    resp = client.delete(f"{API}/frameworks/{w.fw.id}", headers=headers)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "in_use"


def test_the_confirmation_page_lists_affected_learners_and_changes_nothing(app, world):
    w = world
    rid = w.rule_a.id
    c = login_client(app, w.teacher_a)
    before = snapshot()
    resp = c.get(f"/competency/rules/{rid}/delete")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "李四" in html  # a learner of the teacher's school: named
    assert "王五" not in html and "王*" in html  # a learner of another school: masked
    assert "certified" in html and "retracted" in html
    assert snapshot() == before
    # POST (with CSRF) deletes; without the token nothing happens
    assert c.post(f"/competency/rules/{rid}/delete", data={}).status_code == 400
    assert snapshot() == before
    token = csrf_token_from(html)
    resp = c.post(f"/competency/rules/{rid}/delete", data={"csrf_token": token})
    assert resp.status_code == 302
    after = snapshot()
    assert len(after["rules"]) == len(before["rules"]) - 1 and after["changes"] == before["changes"] + 1
    assert after["levels"] == before["levels"]  # state changes only at the next recompute
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "rule-changes" in page and "Teacher A" in page


def test_api_dry_run_reports_the_impact_without_deleting(world, client, api_token):
    w = world
    rid = w.rule_a.id
    before = snapshot()
    resp = client.delete(f"{API}/rules/{rid}?dry_run=1", headers=api_token(w.teacher_a))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["dry_run"] is True and body["learner_count"] == 2 and body["level_changes"] == 1
    assert body["certificates_revoked"] == 1
    by_name = {x["name"]: x for x in body["learners"]}
    assert by_name["李四"]["level"]["status_before"] == "certified"
    assert by_name["李四"]["level"]["status_after"] == "retracted"
    assert by_name["李四"]["coverage_before"] == 1.0 and by_name["李四"]["coverage_after"] == 0.0
    assert "王*" in by_name and by_name["王*"]["user_id"] is None
    assert snapshot() == before
    # the prediction holds: delete, recompute, and the level is retracted with its certificate
    assert client.delete(f"{API}/rules/{rid}", headers=api_token(w.teacher_a)).status_code == 204
    _recompute(w.fw.id)
    db.session.refresh(w.attainment)
    db.session.refresh(w.certificate)
    assert w.attainment.status == "retracted" and w.certificate.revoked_at is not None


def test_recompute_button_is_permission_checked_and_queues_the_task(app, world, create_user, monkeypatch):
    from competency import tasks

    w = world
    queued = []
    monkeypatch.setattr(tasks.recompute_framework, "delay", lambda *a: queued.append(a))
    c = login_client(app, w.teacher_a)  # school A does not own the national standard
    assert c.post(f"/competency/frameworks/{w.fw.id}/recompute", data={"csrf_token": page_csrf(c)}).status_code == 403
    assert "Recompute this framework" not in c.get(f"/competency/frameworks/{w.fw.id}").get_data(as_text=True)
    c = login_client(app, w.sysadmin)
    page = c.get(f"/competency/frameworks/{w.fw.id}").get_data(as_text=True)
    assert f"/competency/frameworks/{w.fw.id}/recompute" in page
    assert c.post(f"/competency/frameworks/{w.fw.id}/recompute", data={}).status_code == 400  # CSRF
    resp = c.post(f"/competency/frameworks/{w.fw.id}/recompute", data={"csrf_token": page_csrf(c)},
                  follow_redirects=True)
    assert resp.status_code == 200 and queued == [(w.fw.id, w.sysadmin.id)]
    assert "queued" in resp.get_data(as_text=True) or "已排队" in resp.get_data(as_text=True)


def test_the_recompute_task_rebuilds_the_framework(world):
    from competency.tasks import recompute_framework

    out = recompute_framework.run(world.fw.id, world.sysadmin.id)
    assert out["framework_id"] == world.fw.id and out["learners"] >= 2


def test_malformed_ids_and_bodies_give_400_or_404(app, world, client, api_token):
    w = world
    h = api_token(w.teacher_a)
    assert client.delete(f"{API}/rules/abc", headers=h).status_code == 404
    assert client.delete(f"{API}/rules/999999", headers=h).status_code == 404
    assert client.delete(f"{API}/rules/{10 ** 12}", headers=h).status_code == 404
    assert client.patch(f"{API}/frameworks/{10 ** 12}", headers=h, json={}).status_code == 404
    assert client.patch(f"{API}/rules/999999", headers=h, json={}).status_code == 404
    assert client.patch(f"{API}/frameworks/999999", headers=h, json={}).status_code == 404
    rid = w.rule_a.id
    for body in ([], "x", {"weight": "heavy"}, {"weight": True}, {"verbs": "completed"}, {"active": "no"},
                 {"owner_org_id": w.school_b.id}, {"unit_id": 1}, {"weight": 5}, {"match_iri": "not an iri"},
                 {"match_kind": ["activity"]}, {"actor": 1}, {"rule": 1}, {"min_scaled": "0.5"}):
        resp = client.patch(f"{API}/rules/{rid}", headers=h, data=json.dumps(body), content_type="application/json")
        assert resp.status_code == 400, (body, resp.get_json())
        assert "error" in resp.get_json()
    resp = client.patch(f"{API}/rules/{rid}", headers=h, data="{not json", content_type="application/json")
    assert resp.status_code == 400
    ha = api_token(w.sysadmin)
    for body in ({"status": 5}, {"status": "gone"}, {"title": ""}, {"identifier": "x"}, [], {"actor": 1},
                 {"fw": 1}, {"owner_org_id": None}, {"title": "x" * 301}):
        resp = client.patch(f"{API}/frameworks/{w.fw.id}", headers=ha, data=json.dumps(body),
                            content_type="application/json")
        assert resp.status_code == 400, (body, resp.get_json())
    for body in ({"unit_id": "1", "verbs": [], "match_kind": "activity", "match_iri": "x"},
                 {"unit_id": True}, {"unit_id": 10 ** 12},
                 {"unit_id": w.rule_a.unit_id, "verbs": [PASSED], "match_kind": "activity", "match_iri": X + "y",
                  "organisation_id": 10 ** 12}):
        resp = client.post(f"{API}/frameworks/{w.fw.id}/rules", headers=h, json=body)
        assert resp.status_code == 400, body
    c = login_client(app, w.teacher_a)
    assert c.get("/competency/rules/999999/delete").status_code == 404
    assert c.get(f"/competency/rules/{10 ** 12}/delete").status_code == 404
    assert c.get(f"/competency/frameworks/{10 ** 12}").status_code == 404
    assert c.post("/competency/rules/999999/active", data={"csrf_token": page_csrf(c)}).status_code == 404
    assert c.get("/competency/frameworks/999999/edit").status_code == 404


def test_parallel_identical_deletes_delete_once_and_log_once(app, world, live_server, api_token, test_database_url):
    if not test_database_url.startswith("postgres"):
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    import urllib.error
    import urllib.request

    from competency.models import EvidenceRule, RuleChange

    rid = world.rule_a.id
    headers = api_token(world.teacher_a)
    url = f"{live_server.url}{API}/rules/{rid}"

    def delete(_n):
        req = urllib.request.Request(url, method="DELETE", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(delete, range(20)))
    assert sorted(statuses) == [204] + [404] * 19, statuses
    db.session.rollback()
    assert db.session.get(EvidenceRule, rid) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RuleChange).where(
        RuleChange.rule_id == rid, RuleChange.action == "delete")) == 1
