"""The recorder: statements stored in the caller's transaction, announced after commit only."""
from __future__ import annotations

import uuid

import pytest
import tincan

from lms.core.db import db
from lms.core.extension_points import statement_stored
from lms.xapi import recorder, store, vocab
from lms.xapi.errors import XAPIValidationError
from tests.lms.xapi.conftest import make_statement


@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kw):
        calls.append(kw)

    statement_stored.connect(receiver)
    yield calls
    statement_stored.disconnect(receiver)


def test_record_fills_id_timestamp_and_is_announced_after_commit(app, received):
    sid = recorder.record(make_statement(1))
    uuid.UUID(sid)
    assert received == []  # not before the commit
    db.session.commit()
    assert received == [{"statement_ids": [sid], "voided_ids": []}]
    [stored] = store.load_statements([sid])
    assert stored.full["timestamp"] == stored.full["stored"]
    assert stored.full["authority"]["account"]["name"] == "lms"
    assert stored.full["version"] == "1.0.0"
    assert stored.verb_id == "http://adlnet.gov/expapi/verbs/completed"
    assert stored.object_id == "http://example.com/activities/1"


def test_rolled_back_statement_is_neither_stored_nor_announced(app, received):
    sid = recorder.record(make_statement(2))
    db.session.rollback()
    db.session.commit()
    assert received == []
    assert store.load_statements([sid]) == []


def test_record_takes_a_tincan_statement(app, create_user, received):
    user = create_user()
    stmt = tincan.Statement(actor=tincan.Agent(**recorder.actor_for(user)),
                            verb=tincan.Verb(**vocab.VERBS[vocab.VERB_EXPERIENCED]),
                            object=tincan.Activity(id="http://example.com/lesson/1"))
    sid = recorder.record(stmt)
    db.session.commit()
    assert received[0]["statement_ids"] == [sid]
    assert recorder.user_for_actor(store.load_statements([sid])[0].actor).id == user.id
    assert [s.id for s in store.iter_statements_for_agent(recorder.actor_for(user))] == [sid]


def test_invalid_statement_raises_and_stores_nothing(app, received):
    bad = make_statement(3)
    bad["actor"] = {"mbox": "not-an-email"}
    with pytest.raises(XAPIValidationError) as info:
        recorder.record_many([make_statement(4), bad])
    assert info.value.path == "actor.mbox" and info.value.statement_index == 1
    db.session.commit()
    assert received == []
    assert list(store.iter_all_statement_ids()) == []


def test_voiding_marks_target_voided_and_reports_it(app, received):
    target = recorder.record(make_statement(5))
    voiding = recorder.record({"actor": make_statement()["actor"], "verb": vocab.VERBS[vocab.VERB_VOIDED],
                               "object": {"objectType": "StatementRef", "id": target}})
    db.session.commit()
    assert received[-1] == {"statement_ids": [target, voiding], "voided_ids": [target]}
    assert store.load_statements([target])[0].voided is True
    assert list(store.iter_all_statement_ids()) == [[voiding]]


def test_user_for_actor_by_mbox_and_sha1(app, create_user):
    import hashlib

    user = create_user(login="someone@example.com")
    assert recorder.user_for_actor({"mbox": "mailto:someone@example.com"}).id == user.id
    sha = hashlib.sha1(b"mailto:someone@example.com").hexdigest()
    assert recorder.user_for_actor({"mbox_sha1sum": sha}).id == user.id
    assert recorder.user_for_actor({"mbox": "mailto:nobody@example.com"}) is None
    assert recorder.user_for_actor({"account": {"homePage": "http://elsewhere", "name": str(user.uuid)}}) is None


def test_activities_are_known_and_searchable(app):
    recorder.record(make_statement(7))
    db.session.commit()
    assert store.get_activity("http://example.com/activities/7")["definition"]["name"] == {"en-US": "Activity 7"}
    assert [a["id"] for a in store.search_activities("activity 7")] == ["http://example.com/activities/7"]
    assert store.search_activities("x", activity_type="http://nope") == []
    assert store.get_activity("http://example.com/unknown") is None


def test_platform_iri_and_verbs(app):
    assert vocab.platform_iri("courses", "12") == app.config["LMS_BASE_IRI"].rstrip("/") + "/courses/12"
    assert vocab.VERBS[vocab.VERB_PROGRESSED]["display"]["zh-CN"]
    assert vocab.VERB_PROGRESSED == "http://adlnet.gov/expapi/verbs/progressed"


def test_voiding_before_the_target_arrives_voids_it_on_arrival(app, received):
    target_id = str(uuid.uuid4())
    voiding = recorder.record({"actor": make_statement()["actor"], "verb": vocab.VERBS[vocab.VERB_VOIDED],
                               "object": {"objectType": "StatementRef", "id": target_id}})
    db.session.commit()
    assert received[-1]["voided_ids"] == [target_id]
    recorder.record(make_statement(8, id=target_id))
    db.session.commit()
    assert received[-1] == {"statement_ids": [target_id], "voided_ids": [target_id]}
    assert store.load_statements([target_id])[0].voided is True
    assert list(store.iter_all_statement_ids()) == [[voiding]]


def test_voiding_and_target_in_one_batch(app, received):
    target_id = str(uuid.uuid4())
    ids = recorder.record_many([make_statement(9, id=target_id),
                                {"actor": make_statement()["actor"], "verb": vocab.VERBS[vocab.VERB_VOIDED],
                                 "object": {"objectType": "StatementRef", "id": target_id}}])
    db.session.commit()
    assert store.load_statements([target_id])[0].voided is True
    assert received[-1] == {"statement_ids": ids, "voided_ids": [target_id]}
