"""The "Done when" journey: a tincan ``RemoteLRS`` (xAPI 1.0.x) against a live server.

tincan 1.0.0 quirks met here and worked around in the helpers below (not in the LRS):

* ``RemoteLRS.about()`` parses the answer with ``tincan.About``, which raises on the version
  "2.0.0" that our About lists: :func:`about_versions` sends the request itself.
* ``save_state`` sends its PUT twice; harmless here because the state resource has no
  concurrency requirement (a second PUT replaces the document with the same content).
* ``retrieve_state`` (and the profile retrievals) report a 404 as success with empty content:
  :func:`retrieve_document` checks the real HTTP status.
* the retrievals never fill ``etag``: they look for it in ``getheaders()`` (a list of pairs) by
  key; :func:`retrieve_document` reads the ``ETag`` header itself.
* ``save_activity_profile`` / ``save_agent_profile`` send ``If-Match`` only when the document
  has an ETag, never ``If-None-Match``: 1.0.3 Communication 3.1 requires one of the two on a
  profile PUT, so creating a profile that way is refused (400, as by the ADL reference LRS).
  :func:`create_profile` sends the PUT with ``If-None-Match: *`` through tincan's transport.
"""
from __future__ import annotations

import json
import uuid

import pytest
import tincan
from tincan.documents import ActivityProfileDocument, AgentProfileDocument, StateDocument
from tincan.http_request import HTTPRequest


ACTOR = tincan.Agent(name="Learner", mbox="mailto:learner@example.com")
OTHER = tincan.Agent(name="Other", mbox="mailto:other@example.com")
COMPLETED = tincan.Verb(id="http://adlnet.gov/expapi/verbs/completed", display={"en-US": "completed"})
ATTEMPTED = tincan.Verb(id="http://adlnet.gov/expapi/verbs/attempted", display={"en-US": "attempted"})


def activity(n):
    return tincan.Activity(id=f"http://example.com/activities/{n}",
                           definition=tincan.ActivityDefinition(name={"en-US": f"Activity {n}"}))


@pytest.fixture
def lrs(live_server, lrs_client):
    key, secret, _h = lrs_client("all")
    return tincan.RemoteLRS(endpoint=live_server.url + "/xapi/", version="1.0.3", username=key, password=secret)


def about_versions(lrs) -> list[str]:
    """Work around ``About.from_json`` raising on "2.0.0": send the request, parse JSON ourselves."""
    response = lrs._send_request(HTTPRequest(method="GET", resource="about"))
    assert response.response.status == 200
    return json.loads(response.data)["version"]


def retrieve_document(lrs, kind: str, *args):
    """tincan's retrieve_* with the 404-as-success and missing-ETag quirks handled."""
    response = getattr(lrs, f"retrieve_{kind}")(*args)
    if response.response.status == 404:
        return None
    assert response.success, response.data
    doc = response.content
    doc.etag = response.response.getheader("ETag")
    return doc


def create_profile(lrs, resource: str, params: dict, content: str):
    """PUT a new profile document with ``If-None-Match: *`` (what tincan 1.0.0 cannot send)."""
    request = HTTPRequest(method="PUT", resource=resource, query_params=params,
                          headers={"Content-Type": "application/json", "If-None-Match": "*"})
    request.content = content
    response = lrs._send_request(request)
    assert response.response.status == 204, response.data


def query_all(lrs, query: dict) -> list[str]:
    """Query, follow ``more`` to the end, return the ids in order."""
    response = lrs.query_statements(query)
    assert response.success, response.data
    ids = [str(s.id) for s in response.content.statements]
    while response.content.more:
        response = lrs.more_statements(response.content)
        assert response.success, response.data
        ids += [str(s.id) for s in response.content.statements]
    return ids


def test_tincan_statement_journey(lrs):
    assert about_versions(lrs) == ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"]

    # save one, then many
    registration = str(uuid.uuid4())
    one = tincan.Statement(actor=ACTOR, verb=COMPLETED, object=activity(1),
                           context=tincan.Context(registration=registration, instructor=OTHER,
                                                  context_activities=tincan.ContextActivities(
                                                      parent=[tincan.Activity(id="http://example.com/course")])))
    response = lrs.save_statement(one)
    assert response.success, response.data
    first_id = str(one.id)
    many = [tincan.Statement(actor=ACTOR if i % 2 else OTHER, verb=ATTEMPTED if i % 3 else COMPLETED,
                             object=activity(10 + i)) for i in range(12)]
    response = lrs.save_statements(many)
    assert response.success, response.data
    many_ids = [str(s.id) for s in response.content]
    assert len(set(many_ids)) == 12

    # retrieve
    response = lrs.retrieve_statement(first_id)
    assert response.success and str(response.content.id) == first_id
    assert response.content.verb.id == COMPLETED.id
    stored_first = response.content.stored

    # query with each filter, following more
    everything = [first_id] + many_ids
    assert sorted(query_all(lrs, {"limit": 5})) == sorted(everything)
    assert query_all(lrs, {"limit": 5, "ascending": "true"}) == everything
    by_actor = [i for i, s in zip(many_ids, many) if s.actor.mbox == ACTOR.mbox]
    assert query_all(lrs, {"agent": ACTOR, "ascending": "true", "limit": 2}) == [first_id] + by_actor
    assert query_all(lrs, {"agent": OTHER, "related_agents": "true", "ascending": "true"})[0] == first_id
    completed = [first_id] + [i for i, s in zip(many_ids, many) if s.verb.id == COMPLETED.id]
    assert query_all(lrs, {"verb": COMPLETED, "ascending": "true", "limit": 3}) == completed
    assert query_all(lrs, {"activity": activity(1)}) == [first_id]
    assert query_all(lrs, {"activity": tincan.Activity(id="http://example.com/course")}) == []
    assert query_all(lrs, {"activity": tincan.Activity(id="http://example.com/course"),
                           "related_activities": "true"}) == [first_id]
    assert query_all(lrs, {"registration": registration}) == [first_id]
    stored_text = stored_first.isoformat() if hasattr(stored_first, "isoformat") else str(stored_first)
    assert sorted(query_all(lrs, {"since": stored_text})) == sorted(many_ids)
    assert query_all(lrs, {"until": stored_text}) == [first_id]
    response = lrs.query_statements({"format": "ids", "limit": 1})
    assert response.success and response.content.statements[0].verb.display is None

    # void one
    voiding = tincan.Statement(actor=ACTOR, verb=tincan.Verb(id="http://adlnet.gov/expapi/verbs/voided"),
                               object=tincan.StatementRef(id=first_id))
    assert lrs.save_statement(voiding).success
    assert lrs.retrieve_statement(first_id).response.status == 404
    response = lrs.retrieve_voided_statement(first_id)
    assert response.success and str(response.content.id) == first_id
    assert first_id not in query_all(lrs, {"limit": 100})


def test_tincan_documents_journey(lrs):
    act = activity(1)
    # state: save (tincan PUTs twice), retrieve, ids, delete
    state = StateDocument(id="bookmark", activity=act, agent=ACTOR, content='{"page": 3}',
                          content_type="application/json")
    assert lrs.save_state(state).success
    doc = retrieve_document(lrs, "state", act, ACTOR, "bookmark")
    assert json.loads(bytes(doc.content)) == {"page": 3} and doc.etag
    assert lrs.retrieve_state_ids(act, ACTOR).content == ["bookmark"]
    assert lrs.delete_state(state).success
    assert retrieve_document(lrs, "state", act, ACTOR, "bookmark") is None

    # activity profile with ETags
    profile = ActivityProfileDocument(id="settings", activity=act, content='{"a": 1}',
                                      content_type="application/json")
    assert lrs.save_activity_profile(profile).response.status == 400  # no If-None-Match (Communication 3.1)
    create_profile(lrs, "activities/profile", {"activityId": act.id, "profileId": "settings"}, '{"a": 1}')
    doc = retrieve_document(lrs, "activity_profile", act, "settings")
    assert doc.etag
    doc.content = '{"a": 2}'
    doc.content_type = "application/json"
    stale = doc.etag
    assert lrs.save_activity_profile(doc).success  # sends If-Match with the current ETag
    doc.etag = stale
    assert lrs.save_activity_profile(doc).response.status == 412
    doc = retrieve_document(lrs, "activity_profile", act, "settings")
    assert json.loads(bytes(doc.content)) == {"a": 2}
    assert lrs.retrieve_activity_profile_ids(act).content == ["settings"]
    assert lrs.delete_activity_profile(doc).success
    assert retrieve_document(lrs, "activity_profile", act, "settings") is None

    # agent profile with ETags
    profile = AgentProfileDocument(id="prefs", agent=ACTOR, content='{"lang": "zh"}',
                                   content_type="application/json")
    assert lrs.save_agent_profile(profile).response.status == 400  # no If-None-Match (Communication 3.1)
    create_profile(lrs, "agents/profile", {"agent": ACTOR.to_json(), "profileId": "prefs"}, '{"lang": "zh"}')
    doc = retrieve_document(lrs, "agent_profile", ACTOR, "prefs")
    assert doc.etag
    doc.content = '{"lang": "en"}'
    doc.content_type = "application/json"
    assert lrs.save_agent_profile(doc).success
    assert lrs.retrieve_agent_profile_ids(ACTOR).content == ["prefs"]
    doc = retrieve_document(lrs, "agent_profile", ACTOR, "prefs")
    assert json.loads(bytes(doc.content)) == {"lang": "en"}
    assert lrs.delete_agent_profile(doc).success
    assert retrieve_document(lrs, "agent_profile", ACTOR, "prefs") is None
