"""Attacks on the LRS from its own clients: forged evidence through a launch credential, and
voiding statements that another system (or the platform) stored.

Rules under test (DESIGN.md section 8): a launch credential is bound to one learner, one
registration and one activity tree; only the authority that stored a statement, or an
administrator, may void it.
"""
from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from, only_on_postgresql
from tests.lms.xapi.conftest import lrs_client, statement  # noqa: F401  (fixtures)

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
TERMINATED = "http://adlnet.gov/expapi/verbs/terminated"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
REGISTRATION = "a0b1c2d3-0000-4000-8000-0000000000c1"


def _basic(key, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


@pytest.fixture
def launched(app, create_user):
    """A learner's launch credential for one lesson's activity (as ``POST /learn/lesson/<id>/launch``
    hands it to the browser)."""
    from lms.xapi.credentials import create_launch_credential
    from lms.xapi.recorder import actor_for
    from lms.xapi.vocab import platform_iri

    learner = create_user()
    activity = platform_iri("courses", "7", "lessons", "3")
    key, secret = create_launch_credential(learner, registration=REGISTRATION, activity_iri=activity)
    db.session.commit()
    return {"learner": learner, "actor": actor_for(learner), "activity": activity, "headers": _basic(key, secret),
            "exam": platform_iri("competency", "levels", "4", "exam")}


def _about(p, activity, verb=COMPLETED, **extra):
    st = {"actor": p["actor"], "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
          "object": {"objectType": "Activity", "id": activity},
          "context": {"registration": REGISTRATION}}
    st.update(extra)
    return st


def _count_statements() -> int:
    from lms.xapi.models import Statement

    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Statement))


# --- launch credentials: the launched activity tree ------------------------------------------


def test_forged_exam_pass_outside_the_launched_tree_is_refused_and_the_batch_stores_nothing(client, launched):
    """Rule: every statement of a launch credential has the launched activity, or one under it,
    as object; anything else is 403 naming the statement, and the whole batch stores nothing."""
    p = launched
    batch = [_about(p, p["activity"]),
             _about(p, p["exam"], PASSED, result={"success": True, "score": {"scaled": 1.0}})]
    resp = client.post("/xapi/statements", data=json.dumps(batch), headers=p["headers"])
    assert resp.status_code == 403
    assert "statement 1" in resp.get_json()["error"]["message"]
    assert _count_statements() == 0
    # another course's activity, and a look-alike IRI that only shares the prefix, are refused too
    for outside in ("http://elsewhere.example.com/exam", p["activity"] + "0", p["activity"] + "-final"):
        resp = client.post("/xapi/statements", headers=p["headers"], data=json.dumps(
            _about(p, outside, PASSED, result={"success": True, "score": {"scaled": 1.0}})))
        assert resp.status_code == 403, outside
    assert _count_statements() == 0


def test_forged_study_hours_outside_the_launched_tree_are_refused(client, launched):
    """Rule: 20 ``terminated`` with ``PT12H`` on activities outside the launched tree are 403 and
    nothing is stored (the launched tree rule, statement 0 named)."""
    p = launched
    batch = [_about(p, f"{p['exam']}/{n}", TERMINATED, result={"duration": "PT12H"}) for n in range(20)]
    resp = client.post("/xapi/statements", data=json.dumps(batch), headers=p["headers"])
    assert resp.status_code == 403 and "statement 0" in resp.get_json()["error"]["message"]
    assert _count_statements() == 0


def test_statements_in_the_launched_tree_are_accepted(client, launched):
    """Rule: the launched activity and IRIs under it (``/``, ``#``, ``?``) are accepted."""
    p = launched
    act = p["activity"]
    batch = [_about(p, act), _about(p, act + "/page/2"), _about(p, act + "#q1"), _about(p, act + "?step=3")]
    resp = client.post("/xapi/statements", data=json.dumps(batch), headers=p["headers"])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _count_statements() == 4


def test_naming_the_launched_activity_as_parent_does_not_open_other_activities(client, launched):
    """Rule: context parent/grouping naming the launched activity is not enough -- otherwise the
    content could name a level exam or a rule's activity as object and have it counted."""
    p = launched
    ctx = lambda key: {"registration": REGISTRATION, "contextActivities": {key: [{"id": p["activity"]}]}}  # noqa: E731
    for key in ("parent", "grouping"):
        forged = _about(p, p["exam"], PASSED, context=ctx(key), result={"score": {"scaled": 1.0}})
        resp = client.post("/xapi/statements", data=json.dumps([forged]), headers=p["headers"])
        assert resp.status_code == 403, key
    assert _count_statements() == 0


def test_launch_credentials_may_not_name_other_objects(client, launched):
    """Rule: a launch credential's statement object is an activity of its tree; an agent, a
    sub-statement or a statement reference is refused (and voiding stays refused)."""
    p = launched
    ok = client.post("/xapi/statements", data=json.dumps(_about(p, p["activity"])), headers=p["headers"])
    own_id = ok.get_json()[0]
    for obj in ({"objectType": "Agent", "mbox": "mailto:x@example.com"},
                {"objectType": "StatementRef", "id": own_id},
                {"objectType": "SubStatement", "actor": p["actor"], "verb": {"id": PASSED},
                 "object": {"id": p["exam"]}}):
        resp = client.post("/xapi/statements", data=json.dumps({**_about(p, p["activity"]), "object": obj}),
                           headers=p["headers"])
        assert resp.status_code == 403, obj
    voiding = {**_about(p, p["activity"], VOIDED), "object": {"objectType": "StatementRef", "id": own_id}}
    assert client.post("/xapi/statements", data=json.dumps(voiding), headers=p["headers"]).status_code == 403
    assert _count_statements() == 1


# --- voiding: only the authority that stored the target ----------------------------------------


def _voiding(target_id: str, statement_id: str | None = None) -> dict:
    st = {"actor": {"objectType": "Agent", "mbox": "mailto:ops@example.com"},
          "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
          "object": {"objectType": "StatementRef", "id": target_id}}
    if statement_id:
        st["id"] = statement_id
    return st


def _state(target_id: str) -> tuple[bool, int]:
    """(target voided?, number of voiding statements stored for it)."""
    from lms.xapi.models import Statement

    db.session.rollback()
    voided = db.session.scalar(sa.select(Statement.voided).where(Statement.id == uuid.UUID(target_id)))
    voiding = db.session.scalar(sa.select(sa.func.count()).select_from(Statement)
                                .where(Statement.voids_id == uuid.UUID(target_id)))
    return voided, voiding


def _post(client, body, headers):
    return client.post("/xapi/statements", data=json.dumps(body),
                       headers={**headers, "Content-Type": "application/json"})


def test_a_client_may_not_void_another_clients_statement(client, lrs_client, statement):
    """Rule: a voiding statement is accepted only from the authority that stored the target;
    otherwise 403 and nothing is stored (the whole batch)."""
    _ka, _sa, owner = lrs_client("statements/write", name="Moodle")
    _kb, _sb, other = lrs_client("statements/write", name="Writer")
    target = _post(client, statement(1), owner).get_json()[0]
    resp = _post(client, _voiding(target), other)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["message"].endswith(f"only the system that stored statement {target} may void it")
    assert _state(target) == (False, 0)
    resp = _post(client, [statement(2), _voiding(target)], other)
    assert resp.status_code == 403 and "statement 1" in resp.get_json()["error"]["message"]
    assert _state(target) == (False, 0) and _count_statements() == 1
    # the owner may
    assert _post(client, _voiding(target), owner).status_code == 200
    assert _state(target) == (True, 1)


def test_no_client_may_void_the_platforms_own_statements(client, lrs_client, create_user):
    """Rule: statements the platform recorded (a quiz ``passed``, a mentor's sign-off) are voided
    only by the platform's own code; a client with every scope gets 403 and nothing changes."""
    from lms.xapi import recorder
    from lms.xapi.vocab import platform_iri

    learner, mentor = create_user(), create_user()
    quiz_pass = recorder.record({
        "actor": recorder.actor_for(learner), "verb": {"id": PASSED, "display": {"en-US": "passed"}},
        "object": {"id": platform_iri("courses", "1", "quizzes", "2")},
        "result": {"success": True, "score": {"scaled": 0.9}}})
    sign_off = recorder.record({
        "actor": recorder.actor_for(mentor),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/approved", "display": {"en-US": "approved"}},
        "object": {"id": platform_iri("competency", "milestones", "5")},
        "context": {"instructor": recorder.actor_for(mentor)}})
    db.session.commit()
    _k, _s, everything = lrs_client("all", name="Admin tool")
    for target in (quiz_pass, sign_off):
        resp = _post(client, _voiding(target), everything)
        assert resp.status_code == 403, target
        assert _state(target) == (False, 0)
    # the platform's own code still may
    recorder.record(_voiding(sign_off))
    db.session.commit()
    assert _state(sign_off) == (True, 1)


def test_a_voiding_statement_before_its_target_voids_it_only_for_the_same_authority(client, lrs_client, statement):
    """Rule: a voiding statement whose target is not stored yet is stored; when the target
    arrives it is voided on arrival only if it comes from the same authority."""
    _ka, _sa, a = lrs_client("statements/write", name="A")
    _kb, _sb, b = lrs_client("statements/write", name="B")
    foreign, own = str(uuid.uuid4()), str(uuid.uuid4())
    assert _post(client, _voiding(foreign), b).status_code == 200
    assert _post(client, _voiding(own), a).status_code == 200
    assert _post(client, [statement(1, id=foreign), statement(2, id=own)], a).status_code == 200
    assert _state(foreign) == (False, 1)
    assert _state(own) == (True, 1)


# --- voiding by an administrator ---------------------------------------------------------------


def test_an_administrator_voids_any_statement_from_the_statement_browser(client, auth, create_user, lrs_client,
                                                                           statement):
    """Rule: a system administrator may void anything through the statement browser; it is
    recorded as a voiding statement with the platform's authority and the reason."""
    from lms.xapi.models import Statement
    from lms.xapi.recorder import platform_authority

    _k, _s, h = lrs_client("statements/write", name="Moodle")
    target = _post(client, statement(1), h).get_json()[0]
    auth.login(create_user(admin=True))
    page = client.get(f"/admin/xapi/statements/{target}")
    assert page.status_code == 200 and f"/admin/xapi/statements/{target}/void" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    url = f"/admin/xapi/statements/{target}/void"
    assert client.post(url, data={"reason": "x"}).status_code == 400  # no CSRF token
    assert client.post(url, data={"reason": "", "csrf_token": token}).status_code == 400  # a reason is required
    assert _state(target) == (False, 0)
    resp = client.post(url, data={"reason": "posted by mistake (ticket 42)", "csrf_token": token})
    assert resp.status_code == 302
    assert _state(target) == (True, 1)
    voiding = db.session.scalars(sa.select(Statement).where(Statement.voids_id == uuid.UUID(target))).one()
    assert voiding.full["authority"] == platform_authority()
    assert voiding.full["result"]["response"] == "posted by mistake (ticket 42)"
    # again: already voided, nothing new
    client.post(url, data={"reason": "again", "csrf_token": token})
    assert _state(target) == (True, 1)


def test_non_administrators_may_not_void_from_the_browser(client, auth, create_user, create_org, lrs_client, statement):
    """Rule: only system administrators void through the browser (a teacher who may browse gets 403)."""
    _k, _s, h = lrs_client("statements/write")
    target = _post(client, statement(1), h).get_json()[0]
    teacher = create_user("teacher", create_org())
    auth.login(teacher)
    token = csrf_token_from(client.get("/admin/xapi/statements").get_data(as_text=True))
    resp = client.post(f"/admin/xapi/statements/{target}/void", data={"reason": "x", "csrf_token": token})
    assert resp.status_code == 403
    assert _state(target) == (False, 0)


# --- concurrency -----------------------------------------------------------------------------------


def _send(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_twenty_parallel_identical_voids_store_one_voiding_statement(live_server, lrs_client, test_database_url,
                                                                     statement):
    """Rule: the same voiding statement sent 20 times at once (PostgreSQL, live server) is stored
    once and voids its target once; every sender gets a success."""
    only_on_postgresql(test_database_url)
    _k, _s, h = lrs_client("statements/write", name="Moodle")
    h = {**h, "Content-Type": "application/json"}
    target = _send(f"{live_server.url}/xapi/statements", statement(1, id=str(uuid.uuid4())), h)
    assert target == 200
    from lms.xapi.models import Statement

    db.session.rollback()
    target_id = str(db.session.scalar(sa.select(Statement.id)))
    body = _voiding(target_id, str(uuid.uuid4()))
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(_send(f"{live_server.url}/xapi/statements", body, h)))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert statuses == [200] * 20
    assert _state(target_id) == (True, 1)
