"""Data portability and erasure: export per provider; erasure walks the whole schema afterwards."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from lms.testing import csrf_token_from, only_on_postgresql
from tests.courses.delivery_support import build_world
from tests.creditbank.support import PDF, catalogue, completed_enrolment

NAME = "测试工人甲"


def _statement(actor, n):
    return {"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"https://content.example.com/activity/{n}"}}


@pytest.fixture
def worker_world(app, create_user, create_org):
    from courses.operations.enrolment import enrol
    from creditbank.operations.applications import submit_application
    from creditbank.receivers import on_course_completed
    from lms.core.db import db
    from lms.xapi.recorder import actor_for, record

    world = build_world(create_user, create_org, kinds=("text",), learners=0)
    worker = create_user("learner", world.school, real_name=NAME, login="erase.me@example.com")
    enrol(worker, world.course, by=worker, course_class=world.cls)
    db.session.commit()
    record(_statement(actor_for(worker), 1))
    record(_statement({"mbox": "mailto:Erase.Me@example.com", "name": NAME}, 2))
    db.session.commit()
    cat = catalogue(create_user("institution_admin", world.school))
    on_course_completed(completed_enrolment(worker))
    submit_application(worker, organisation_id=world.school.id, target_outcome_id=cat.outside.id, title="证书",
                       file_name="x.pdf", data=PDF)
    db.session.commit()
    return world, worker


def _identifying(worker):
    from lms.records.identity import key_hash, keys_of_user

    keys = keys_of_user(worker)
    values = {worker.email, worker.mobile, NAME, str(worker.uuid), "erase.me@example.com"}
    values |= set(keys) | {key_hash(k) for k in keys}
    return {v.lower() for v in values if v}


def _walk(uid, identifying, allowed_tables):
    """Every table, every row: no column refers to the worker's id, no text holds their identifiers,
    except in ``allowed_tables`` (kept by a named retention rule)."""
    from lms.core.db import db

    found = []
    metadata = sa.MetaData()
    metadata.reflect(bind=db.engine)
    for table in metadata.sorted_tables:
        if table.name == "alembic_version" or table.name.endswith("alembic_version") or table.name in allowed_tables:
            continue
        user_cols = {c.name for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)}
        for row in db.session.execute(sa.select(table)).mappings():
            for col, value in row.items():
                if value is None:
                    continue
                if col in user_cols and value == uid:
                    found.append((table.name, col, value))
                text = json.dumps(value, default=str, ensure_ascii=False).lower() if not isinstance(value, (bytes, memoryview)) \
                    else bytes(value).decode("utf-8", "ignore").lower()
                for ident in identifying:
                    if ident in text:
                        found.append((table.name, col, ident))
    return found


def test_worker_exports_every_provider(worker_world, client, auth):
    _world, worker = worker_world
    auth.login(worker)
    page = client.get("/account/privacy")
    assert page.status_code == 200
    assert client.post("/account/privacy").status_code == 400  # CSRF
    resp = client.post("/account/privacy", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_json()
    assert set(body["providers"]) >= {"accounts", "organisations", "records", "xapi", "courses", "competency",
                                      "creditbank"}
    assert body["providers"]["accounts"]["profile"]["real_name"] == NAME
    assert "password_hash" not in json.dumps(body)
    assert len(body["providers"]["xapi"]["statements"]) >= 2
    assert body["providers"]["courses"]["courses_enrolments"][0]["user_id"] == worker.id
    assert body["providers"]["creditbank"]["creditbank_applications"][0]["title"] == "证书"


def test_erasure_leaves_nothing_identifying_the_worker(worker_world, client, auth, create_user):
    from lms.accounts.models import User
    from lms.core.db import db
    from lms.privacy.models import ErasureRequest

    _world, worker = worker_world
    uid = worker.id
    identifying = _identifying(worker)
    assert _walk(uid, identifying, set())  # the walk does see the worker before
    admin = create_user(admin=True)
    auth.login(admin)
    url = f"/admin/privacy/erase/{uid}"
    page = client.get(url).get_data(as_text=True)
    assert NAME in page
    token = csrf_token_from(page)
    assert client.post(url, data={"csrf_token": token, "reason": "本人书面申请", "confirm_login": "wrong"}) \
        .status_code == 400
    resp = client.post(url, data={"csrf_token": token, "reason": "本人书面申请", "confirm_login": str(uid)})
    assert resp.status_code == 302
    db.session.rollback()
    log = db.session.scalars(sa.select(ErasureRequest)).one()
    assert log.requested_by_id == admin.id and {r["provider"] for r in log.reports} >= {"xapi", "creditbank"}
    # Allowed: the erasure log (rule erasure_log) and the anonymised users row itself.
    leftovers = _walk(uid, identifying, {"privacy_erasure_requests"})
    leftovers = [f for f in leftovers if not (f[0] == "users" and f[1] == "id")]
    assert leftovers == []
    user = db.session.get(User, uid)
    assert user.email is None and user.real_name == "" and not user.is_active_account


def test_subsidised_enrolment_is_kept_under_its_named_rule(worker_world, create_user):
    from lms.core.db import db
    from lms.privacy.operations import erase_user

    world, worker = worker_world
    world.course.subsidised = True
    db.session.commit()
    identifying = _identifying(worker)
    admin = create_user(admin=True)
    row = erase_user(admin, worker, "申请")
    db.session.commit()
    kept = [k for r in row.reports for k in r["retained"]]
    assert [(k["what"], k["rule"]) for k in kept] == [("courses_enrolments", "subsidy_evidence")]
    assert kept[0]["until"]
    leftovers = _walk(worker.id, identifying, {"privacy_erasure_requests", "courses_enrolments",
                                                        "courses_lesson_progress"})
    assert [f for f in leftovers if not (f[0] == "users" and f[1] == "id")] == []


def test_only_system_admins_erase(worker_world, client, auth):
    world, worker = worker_world
    auth.login(world.teacher)
    assert client.get(f"/admin/privacy/erase/{worker.id}").status_code == 403
    assert client.post(f"/admin/privacy/erase/{worker.id}", data={"reason": "x", "confirm_login": str(worker.id)}) \
        .status_code in (400, 403)


@pytest.mark.postgres
def test_twenty_parallel_erasure_confirmations_erase_once(worker_world, create_user, live_server, test_database_url):
    from lms.testing import PASSWORD
    from tests.creditbank.support import LiveSession, in_parallel

    only_on_postgresql(test_database_url)
    from lms.core.db import db
    from lms.privacy.models import ErasureRequest

    _world, worker = worker_world
    admin = create_user(admin=True)
    s = LiveSession(live_server.url).login(admin, PASSWORD)
    path = f"/admin/privacy/erase/{worker.id}"
    token = s.token(path)
    codes = in_parallel(20, lambda: s.call(path, {"csrf_token": token, "reason": "本人申请",
                                                  "confirm_login": str(worker.id)})[0])
    assert codes.count(302) == 1, codes
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ErasureRequest)) == 1


def test_erased_account_cannot_log_in_and_export_is_empty_of_identity(worker_world, create_user, client, auth):
    from lms.core.db import db
    from lms.privacy.operations import PrivacyError, erase_user, export_user

    _world, worker = worker_world
    admin = create_user(admin=True)
    erase_user(admin, worker, "申请")
    db.session.commit()
    auth.login("erase.me@example.com")
    assert client.get("/account/privacy").status_code == 302  # not logged in: sent to the login page
    data = export_user(worker)
    assert data["providers"]["accounts"]["profile"]["email"] is None
    assert data["providers"]["xapi"]["statements"] == []
    with pytest.raises(PrivacyError):
        erase_user(admin, worker, "again")
    with pytest.raises(PrivacyError):
        erase_user(admin, admin, "self")


def test_admin_finds_the_account_to_erase(worker_world, create_user, client, auth):
    _world, worker = worker_world
    auth.login(create_user(admin=True))
    resp = client.get("/admin/privacy/find?q=ERASE.ME@example.com")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/privacy/erase/{worker.id}")
    assert client.get("/admin/privacy/find?q=nobody%27%20OR%201=1").status_code == 302
    assert client.get("/admin/privacy").status_code == 200


def test_apprenticeship_record_is_kept_under_subsidy_evidence_and_the_rest_erased(app, create_org, create_user):
    import datetime as dt

    from competency.apprenticeship import operations as ops
    from lms.core.db import db
    from lms.privacy.operations import erase_user

    ent = create_org("华东电气", "enterprise")
    school = create_org("江南技师学院", "institution")
    boss = create_user("enterprise_admin", ent)
    mentor = create_user("mentor", ent)
    teacher = create_user("teacher", school)
    apprentice = create_user("learner", ent, real_name=NAME, login="erase.me@example.com")
    programme, _w = ops.create_programme(boss, title="电工学徒班", enterprise=ent, school=school,
                                         occupation_code="6-31-01-03", target_rung=2, duration_months=12,
                                         hours_per_year=600, online_hours_per_year=150)
    start = dt.date.today() - dt.timedelta(days=30)
    cohort = ops.create_cohort(boss, programme, name="春季班", start_date=start)
    ops.add_apprentice(boss, cohort, user=apprentice, enterprise_mentor=mentor, school_mentor=teacher,
                       contract_start=start, contract_end=start + dt.timedelta(days=365), today=start)
    db.session.commit()
    identifying = _identifying(apprentice)
    row = erase_user(create_user(admin=True), apprentice, "申请")
    db.session.commit()
    kept = [k for r in row.reports for k in r["retained"]]
    assert [(k["what"], k["rule"]) for k in kept] == [("competency_apprentices", "subsidy_evidence")]
    assert kept[0]["until"] > dt.date.today().isoformat()
    leftovers = _walk(apprentice.id, identifying, {"privacy_erasure_requests", "competency_apprentices"})
    assert [f for f in leftovers if not (f[0] == "users" and f[1] == "id")] == []
