"""Statement validation, rule by rule (xAPI 1.0.3 Data sections, IEEE 9274.1.1 for 2.0.0).

Each table row changes one property of a valid statement and states the path the error must
name; the valid rows must pass. Pure functions: no app needed.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timezone

import pytest

from lms.xapi.errors import XAPIValidationError
from lms.xapi.validation import (
    SUPPORTED_VERSIONS,
    parse_timestamp,
    parse_version_header,
    validate_activity_id,
    validate_actor,
    validate_agent,
    validate_attachment,
    validate_duration,
    validate_extensions,
    validate_group,
    validate_iri,
    validate_language_map,
    validate_language_tag,
    validate_statement,
    validate_statements,
    validate_timestamp,
    validate_uuid,
)

V1, V2 = "1.0.3", "2.0.0"
DELETE = object()
SHA256 = "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"
UUID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
MBOX = "mailto:learner@example.com"


def base() -> dict:
    return {
        "id": UUID,
        "actor": {"objectType": "Agent", "name": "Learner", "mbox": MBOX},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "zh-CN": "完成"}},
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/activities/1",
            "definition": {
                "name": {"en-US": "Lesson 1"},
                "description": {"en-US": "The first lesson"},
                "type": "http://adlnet.gov/expapi/activities/lesson",
                "moreInfo": "https://example.com/lesson-1",
                "extensions": {"http://example.com/ext/level": {"any": ["json", 1, None]}},
            },
        },
        "result": {
            "score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10},
            "success": True,
            "completion": True,
            "response": "done",
            "duration": "PT1H2M3.45S",
            "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 100},
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"mbox": "mailto:teacher@example.com"},
            "team": {"objectType": "Group", "name": "Team", "member": [{"mbox": "mailto:a@example.com"}]},
            "contextActivities": {
                "parent": [{"id": "http://example.com/courses/1", "objectType": "Activity"}],
                "grouping": {"id": "http://example.com/programmes/1"},
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
                "other": [],
            },
            "revision": "r2",
            "platform": "LMS",
            "language": "zh-CN",
            "statement": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
            "extensions": {"http://example.com/ext/session": "abc"},
        },
        "timestamp": "2026-01-02T03:04:05.678Z",
        "stored": "2026-01-02T03:04:06.000+00:00",
        "authority": {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "client-1"}},
        "attachments": [{
            "usageType": "http://example.com/attachment-usage/certificate",
            "display": {"en-US": "Certificate"},
            "description": {"en-US": "The certificate"},
            "contentType": "application/pdf",
            "length": 12345,
            "sha2": SHA256,
            "fileUrl": "https://example.com/cert.pdf",
        }],
    }


def set_path(stmt: dict, path: str, value) -> dict:
    """Set (or with DELETE remove) ``a.b[0].c`` in a copy of ``stmt``."""
    stmt = copy.deepcopy(stmt)
    tokens = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    target = stmt
    for token in tokens[:-1]:
        target = target[int(token[1:-1])] if token.startswith("[") else target[token]
    last = tokens[-1]
    key = int(last[1:-1]) if last.startswith("[") else last
    if value is DELETE:
        del target[key]
    else:
        target[key] = value
    return stmt


def error_of(stmt, version=V1) -> XAPIValidationError:
    with pytest.raises(XAPIValidationError) as info:
        validate_statement(stmt, version, index=7)
    assert info.value.statement_index == 7
    assert info.value.status == 400
    return info.value


# ---------------------------------------------------------------------------------------------
# Valid statements pass
# ---------------------------------------------------------------------------------------------
VALID_CHANGES = [
    # (description, path, value, versions)
    ("the full example", "id", UUID, (V1, V2)),
    ("minimal: no optional properties", None, None, (V1, V2)),
    ("agent by mbox_sha1sum", "actor", {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}, (V1, V2)),
    ("agent by openid", "actor", {"openid": "http://toby.openid.example.org/"}, (V1, V2)),
    ("agent by account", "actor", {"account": {"homePage": "http://www.example.com", "name": "1625378"}}, (V1, V2)),
    ("identified group without members", "actor", {"objectType": "Group", "mbox": "mailto:team@example.com"}, (V1, V2)),
    ("identified group with members", "actor", {"objectType": "Group", "openid": "http://example.com/team",
                                                "member": [{"mbox": MBOX}]}, (V1, V2)),
    ("anonymous group", "actor", {"objectType": "Group", "member": [{"mbox": MBOX}, {"openid": "http://x.org/"}]}, (V1, V2)),
    ("uppercase UUID", "id", UUID.upper(), (V1, V2)),
    ("object without objectType is an Activity", "object", {"id": "urn:example:activity:1"}, (V1, V2)),
    ("IRI with non-ASCII characters", "verb.id", "http://example.com/فعل/خواندن", (V1, V2)),
    ("agent as object", "object", {"objectType": "Agent", "mbox": "mailto:other@example.com"}, (V1, V2)),
    ("group as object", "object", {"objectType": "Group", "member": [{"mbox": MBOX}]}, (V1, V2)),
    ("statement ref as object", "object", {"objectType": "StatementRef", "id": UUID}, (V1, V2)),
    ("score without bounds", "result.score", {"raw": -1000.5}, (V1, V2)),
    ("score at its bounds", "result.score", {"scaled": -1, "raw": 10, "min": 0, "max": 10}, (V1, V2)),
    ("empty score", "result.score", {}, (V1, V2)),
    ("duration in weeks", "result.duration", "P4W", (V1, V2)),
    ("duration in seconds with fraction", "result.duration", "PT1234.5S", (V1, V2)),
    ("duration with years", "result.duration", "P3Y1M29DT4H35M59.14S", (V1, V2)),
    ("timestamp with offset", "timestamp", "2015-11-18T12:17:00+08:00", (V1, V2)),
    ("timestamp without zone under 1.0.3", "timestamp", "2015-11-18T12:17:00.123", (V1,)),
    ("basic-format timestamp under 1.0.3", "timestamp", "20151118T121700Z", (V1,)),
    ("timestamp without seconds under 1.0.3", "timestamp", "2015-11-18T12:17Z", (V1,)),
    ("leap day", "timestamp", "2024-02-29T00:00:00Z", (V1, V2)),
    ("statement version 1.0.0", "version", "1.0.0", (V1, V2)),
    ("statement version 1.0 (conformance XAPI-00101)", "version", "1.0", (V1, V2)),
    ("statement version 1.0.9", "version", "1.0.9", (V1, V2)),
    ("RFC 3339 timestamp with a space under 2.0.0", "timestamp", "2008-09-15 15:53:00.601+00:00", (V2,)),
    ("RFC 3339 lowercase t and z under 2.0.0", "timestamp", "2008-09-15t15:53:00z", (V2,)),
    ("statement version 2.0.0 under 2.0.0", "version", "2.0.0", (V2,)),
    ("language tag with script", "verb.display", {"zh-Hans-CN": "完成", "sr-Latn": "x", "i-klingon": "y"}, (V1, V2)),
    ("private-use language tag", "verb.display", {"x-private": "p", "en-US-x-twain": "t"}, (V1, V2)),
    ("authority as an OAuth group of two", "authority", {"objectType": "Group", "member": [
        {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}},
        {"mbox": "mailto:bob@example.com"}]}, (V1, V2)),
    ("choice interaction", "object.definition", {
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction", "interactionType": "choice",
        "correctResponsesPattern": ["golf[,]tetris"],
        "choices": [{"id": "golf", "description": {"en-US": "Golf"}}, {"id": "tetris"}]}, (V1, V2)),
    ("matching interaction", "object.definition", {
        "interactionType": "matching", "correctResponsesPattern": ["ben[.]3"],
        "source": [{"id": "ben"}], "target": [{"id": "3"}]}, (V1, V2)),
    ("likert interaction", "object.definition", {"interactionType": "likert", "scale": [{"id": "likert_0"}]}, (V1, V2)),
    ("performance interaction", "object.definition", {"interactionType": "performance", "steps": [{"id": "pong"}]}, (V1, V2)),
    ("numeric interaction", "object.definition", {"interactionType": "numeric", "correctResponsesPattern": ["4[:]"]}, (V1, V2)),
    ("empty correctResponsesPattern", "object.definition", {"interactionType": "other", "correctResponsesPattern": []}, (V1, V2)),
    # Data 2.4.4.1: every definition property is optional, so an empty definition is valid.
    ("empty definition", "object.definition", {}, (V1, V2)),
    ("voiding statement", None, "void", (V1, V2)),
    ("sub-statement", "object", {
        "objectType": "SubStatement", "actor": {"mbox": MBOX}, "verb": {"id": "http://example.com/visited"},
        "object": {"id": "http://example.com/website"}, "timestamp": "2099-01-01T00:00:00Z",
        "context": {"platform": "web"}}, (V1, V2)),
    ("contextAgents and contextGroups in 2.0.0", "context.contextAgents", [
        {"objectType": "contextAgent", "agent": {"mbox": "mailto:mentor@example.com"},
         "relevantTypes": ["https://example.com/roles/mentor"]},
        {"objectType": "contextAgent", "agent": {"account": {"homePage": "https://x.org", "name": "7"}}}], (V2,)),
    ("signature attachment", "attachments[0]", {
        "usageType": "http://adlnet.gov/expapi/attachments/signature", "display": {"en-US": "Signature"},
        "contentType": "application/octet-stream", "length": 4235, "sha2": SHA256}, (V1, V2)),
    ("content type with parameters", "attachments[0].contentType", "text/plain; charset=utf-8", (V1, V2)),
    ("SHA-512 attachment hash", "attachments[0].sha2", "a" * 128, (V1, V2)),
]


def _valid_statement(path, value):
    if path is None and value == "void":
        return {"actor": {"mbox": MBOX}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": UUID}}
    if path is None:
        return {"actor": {"mbox": MBOX}, "verb": {"id": "http://example.com/verbs/x"},
                "object": {"id": "http://example.com/a"}}
    stmt = set_path(base(), path, value)
    if path == "context.contextAgents":
        stmt["context"]["contextGroups"] = [
            {"objectType": "contextGroup", "group": {"objectType": "Group", "member": [{"mbox": MBOX}]},
             "relevantTypes": ["https://example.com/roles/class"]}]
    if path.startswith("object") and path != "object.definition" and value.get("objectType") != "Activity":
        stmt["context"].pop("revision")
        stmt["context"].pop("platform")
    return stmt


@pytest.mark.parametrize("description,path,value,versions", VALID_CHANGES, ids=[c[0] for c in VALID_CHANGES])
def test_valid_statements_pass(description, path, value, versions):
    stmt = _valid_statement(path, value)
    for version in versions:
        before = copy.deepcopy(stmt)
        validate_statement(stmt, version)
        assert stmt == before, "validation must not change the statement"


# ---------------------------------------------------------------------------------------------
# Invalid statements are refused, naming the property
# ---------------------------------------------------------------------------------------------
INVALID_CHANGES = [
    # (description, path, value, version, expected error path)
    # Data 2.2 Formatting requirements
    ("unknown top-level property", "foo", 1, V1, "foo"),
    ("key in the wrong case", "Actor", {"mbox": MBOX}, V1, "Actor"),
    ("null value", "result.response", None, V1, "result.response"),
    ("string where a number is required", "result.score.raw", "8", V1, "result.score.raw"),
    ("string where a boolean is required", "result.success", "true", V1, "result.success"),
    ("boolean where a number is required", "result.score.min", False, V1, "result.score.min"),
    ("NaN score", "result.score.raw", float("nan"), V1, "result.score.raw"),
    # 2.4.1 id
    ("id not a UUID", "id", "not-a-uuid", V1, "id"),
    ("id with braces", "id", "{" + UUID + "}", V1, "id"),
    ("id as a number", "id", 12, V1, "id"),
    # required properties
    ("no actor", "actor", DELETE, V1, "actor"),
    ("no verb", "verb", DELETE, V1, "verb"),
    ("no object", "object", DELETE, V1, "object"),
    # 2.4.2 Actor
    ("agent with no identifier", "actor", {"name": "x"}, V1, "actor"),
    ("agent with two identifiers", "actor", {"mbox": MBOX, "openid": "http://x.org/"}, V1, "actor"),
    ("mbox without mailto", "actor.mbox", "learner@example.com", V1, "actor.mbox"),
    ("mbox without address", "actor.mbox", "mailto:learner", V1, "actor.mbox"),
    ("empty mbox", "actor.mbox", "", V1, "actor.mbox"),
    ("mbox_sha1sum too short", "actor", {"mbox_sha1sum": "ebd31e95"}, V1, "actor.mbox_sha1sum"),
    ("mbox_sha1sum not hex", "actor", {"mbox_sha1sum": "z" * 40}, V1, "actor.mbox_sha1sum"),
    ("openid not an IRI", "actor", {"openid": "toby"}, V1, "actor.openid"),
    ("account without homePage", "actor", {"account": {"name": "x"}}, V1, "actor.account.homePage"),
    ("account without name", "actor", {"account": {"homePage": "http://x.org"}}, V1, "actor.account.name"),
    ("account homePage not an IRL", "actor", {"account": {"homePage": "example.com", "name": "x"}}, V1,
     "actor.account.homePage"),
    ("account with an unknown property", "actor", {"account": {"homePage": "http://x.org", "name": "x", "id": 1}},
     V1, "actor.account.id"),
    ("agent objectType in the wrong case", "actor.objectType", "agent", V1, "actor.objectType"),
    ("agent with member", "actor.member", [], V1, "actor.member"),
    ("anonymous group without members", "actor", {"objectType": "Group", "name": "x"}, V1, "actor.member"),
    ("anonymous group with empty members", "actor", {"objectType": "Group", "member": []}, V1, "actor.member"),
    ("group with a group as member", "actor", {"objectType": "Group", "member": [
        {"objectType": "Group", "mbox": "mailto:t@example.com"}]}, V1, "actor.member[0].objectType"),
    ("group member without identifier", "actor", {"objectType": "Group", "member": [{"name": "x"}]}, V1,
     "actor.member[0]"),
    ("group with two identifiers", "actor", {"objectType": "Group", "mbox": MBOX, "openid": "http://x.org/"}, V1,
     "actor"),
    ("actor not an object", "actor", "learner", V1, "actor"),
    # 2.4.3 Verb
    ("verb without id", "verb", {"display": {"en-US": "x"}}, V1, "verb.id"),
    ("verb id without scheme", "verb.id", "completed", V1, "verb.id"),
    ("verb id with a space", "verb.id", "http://example.com/my verb", V1, "verb.id"),
    ("verb id with a bad escape", "verb.id", "http://example.com/%zz", V1, "verb.id"),
    ("verb id empty", "verb.id", "", V1, "verb.id"),
    ("verb display not a map", "verb.display", "completed", V1, "verb.display"),
    ("verb display empty", "verb.display", {}, V1, "verb.display"),
    ("definition name empty", "object.definition.name", {}, V2, "object.definition.name"),
    ("attachment display empty", "attachments[0].display", {}, V1, "attachments[0].display"),
    ("verb display with invalid tag", "verb.display", {"en_GB": "completed"}, V1, "verb.display.en_GB"),
    ("verb display with non-string value", "verb.display", {"en-US": 1}, V1, "verb.display.en-US"),
    ("verb with unknown property", "verb.name", "x", V1, "verb.name"),
    # 2.4.4 Object
    ("unknown objectType", "object.objectType", "Thing", V1, "object.objectType"),
    ("activity without id", "object.id", DELETE, V1, "object.id"),
    ("activity id not an IRI", "object.id", "lesson-1", V1, "object.id"),
    ("activity with unknown property", "object.name", "x", V1, "object.name"),
    ("definition type not an IRI", "object.definition.type", "lesson", V1, "object.definition.type"),
    ("definition moreInfo not an IRL", "object.definition.moreInfo", "urn:x:y", V1, "object.definition.moreInfo"),
    ("definition name not a language map", "object.definition.name", ["x"], V1, "object.definition.name"),
    ("definition extension key not an IRI", "object.definition.extensions", {"level": 1}, V1,
     "object.definition.extensions.level"),
    ("definition with unknown property", "object.definition.title", "x", V1, "object.definition.title"),
    ("definition not an object", "object.definition", "lesson", V1, "object.definition"),
    ("unknown interactionType", "object.definition.interactionType", "essay", V1, "object.definition.interactionType"),
    ("component list without interactionType", "object.definition.choices", [{"id": "a"}], V1,
     "object.definition.interactionType"),
    ("component list not for this interactionType", "object.definition", {
        "interactionType": "true-false", "choices": [{"id": "a"}]}, V1, "object.definition.choices"),
    ("duplicate component ids", "object.definition", {
        "interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}, V1, "object.definition.choices[1].id"),
    ("component without id", "object.definition", {
        "interactionType": "likert", "scale": [{"description": {"en": "x"}}]}, V1, "object.definition.scale[0].id"),
    ("component with unknown property", "object.definition", {
        "interactionType": "performance", "steps": [{"id": "a", "name": "x"}]}, V1, "object.definition.steps[0].name"),
    ("correctResponsesPattern not strings", "object.definition", {
        "interactionType": "numeric", "correctResponsesPattern": [4]}, V1,
     "object.definition.correctResponsesPattern[0]"),
    ("agent object without objectType is an activity without id", "object", {"mbox": MBOX}, V1, "object.mbox"),
    ("statement ref without UUID", "object", {"objectType": "StatementRef", "id": "abc"}, V1, "object.id"),
    ("statement ref with extra property", "object", {"objectType": "StatementRef", "id": UUID, "x": 1}, V1, "object.x"),
    ("voiding without a statement ref", "verb.id", "http://adlnet.gov/expapi/verbs/voided", V1, "object.objectType"),
    # 2.4.4.3 SubStatement
    ("sub-statement with id", "object", {
        "objectType": "SubStatement", "id": UUID, "actor": {"mbox": MBOX}, "verb": {"id": "http://x.org/v"},
        "object": {"id": "http://x.org/a"}}, V1, "object.id"),
    ("sub-statement with version", "object", {
        "objectType": "SubStatement", "version": "1.0.0", "actor": {"mbox": MBOX}, "verb": {"id": "http://x.org/v"},
        "object": {"id": "http://x.org/a"}}, V1, "object.version"),
    ("sub-statement with stored", "object", {
        "objectType": "SubStatement", "stored": "2020-01-01T00:00:00Z", "actor": {"mbox": MBOX},
        "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}}, V1, "object.stored"),
    ("sub-statement with authority", "object", {
        "objectType": "SubStatement", "authority": {"mbox": MBOX}, "actor": {"mbox": MBOX},
        "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}}, V1, "object.authority"),
    ("nested sub-statement", "object", {
        "objectType": "SubStatement", "actor": {"mbox": MBOX}, "verb": {"id": "http://x.org/v"},
        "object": {"objectType": "SubStatement", "actor": {"mbox": MBOX}, "verb": {"id": "http://x.org/v"},
                   "object": {"id": "http://x.org/a"}}}, V1, "object.object.objectType"),
    ("sub-statement with bad inner actor", "object", {
        "objectType": "SubStatement", "actor": {"mbox": "x"}, "verb": {"id": "http://x.org/v"},
        "object": {"id": "http://x.org/a"}}, V1, "object.actor.mbox"),
    ("sub-statement context revision with agent object", "object", {
        "objectType": "SubStatement", "actor": {"mbox": MBOX}, "verb": {"id": "http://x.org/v"},
        "object": {"objectType": "Agent", "mbox": MBOX}, "context": {"revision": "1"}}, V1, "object.context.revision"),
    # 2.4.5 Result
    ("scaled above 1", "result.score.scaled", 1.01, V1, "result.score.scaled"),
    ("scaled below -1", "result.score.scaled", -1.5, V1, "result.score.scaled"),
    ("raw above max", "result.score.raw", 11, V1, "result.score.raw"),
    ("raw below min", "result.score.raw", -1, V1, "result.score.raw"),
    ("min equal to max", "result.score", {"min": 5, "max": 5}, V1, "result.score.max"),
    ("min above max", "result.score", {"min": 6, "max": 5}, V1, "result.score.max"),
    ("score with unknown property", "result.score.percent", 50, V1, "result.score.percent"),
    ("response not a string", "result.response", 42, V1, "result.response"),
    ("duration without P", "result.duration", "T1H", V1, "result.duration"),
    ("duration empty P", "result.duration", "P", V1, "result.duration"),
    ("duration with empty T", "result.duration", "P1DT", V1, "result.duration"),
    ("duration weeks combined", "result.duration", "P4W1D", V1, "result.duration"),
    ("duration alternative format", "result.duration", "P0003-01-29T04:35:59", V1, "result.duration"),
    ("duration fraction not last", "result.duration", "PT1.5H30M", V1, "result.duration"),
    ("seconds outside the time part", "result.duration", "P16559.14S", V1, "result.duration"),
    ("result extension key not an IRI", "result.extensions", {"progress": 1}, V1, "result.extensions.progress"),
    ("result with unknown property", "result.grade", "A", V1, "result.grade"),
    # 2.4.6 Context
    ("registration not a UUID", "context.registration", "reg-1", V1, "context.registration"),
    ("instructor without identifier", "context.instructor", {"name": "x"}, V1, "context.instructor"),
    ("team not a group", "context.team", {"mbox": MBOX}, V1, "context.team.objectType"),
    ("unknown context activity type", "context.contextActivities.sibling", [], V1, "context.contextActivities.sibling"),
    ("context activity without id", "context.contextActivities.parent", [{"objectType": "Activity"}], V1,
     "context.contextActivities.parent[0].id"),
    ("context activity id not an IRI", "context.contextActivities.parent[0].id", "course", V1,
     "context.contextActivities.parent[0].id"),
    ("context activity that is an agent", "context.contextActivities.other", [{"objectType": "Agent", "mbox": MBOX}],
     V1, "context.contextActivities.other[0].objectType"),
    ("single context activity without id", "context.contextActivities.grouping", {"definition": {}}, V1,
     "context.contextActivities.grouping.id"),
    ("revision with a statement-ref object", "object", {"objectType": "StatementRef", "id": UUID}, V1,
     "context.revision"),
    ("platform with an agent object", None, "platform-agent", V1, "context.platform"),
    ("revision not a string", "context.revision", 2, V1, "context.revision"),
    ("invalid language tag", "context.language", "en_US", V1, "context.language"),
    ("context statement without objectType", "context.statement", {"id": UUID}, V1, "context.statement.objectType"),
    ("context statement not a UUID", "context.statement.id", "x", V1, "context.statement.id"),
    ("context extension key not an IRI", "context.extensions", {"": 1}, V1, "context.extensions."),
    ("contextAgents under 1.0.3", "context.contextAgents", [], V1, "context.contextAgents"),
    ("contextGroups under 1.0.3", "context.contextGroups", [], V1, "context.contextGroups"),
    ("contextAgents not an array", "context.contextAgents", {}, V2, "context.contextAgents"),
    ("contextAgent without objectType", "context.contextAgents", [{"agent": {"mbox": MBOX}}], V2,
     "context.contextAgents[0].objectType"),
    ("contextAgent with wrong objectType", "context.contextAgents", [{"objectType": "Agent", "agent": {"mbox": MBOX}}],
     V2, "context.contextAgents[0].objectType"),
    ("contextAgent without agent", "context.contextAgents", [{"objectType": "contextAgent"}], V2,
     "context.contextAgents[0].agent"),
    ("contextAgent with a group", "context.contextAgents", [
        {"objectType": "contextAgent", "agent": {"objectType": "Group", "member": [{"mbox": MBOX}]}}], V2,
     "context.contextAgents[0].agent.objectType"),
    ("contextAgent with empty relevantTypes", "context.contextAgents", [
        {"objectType": "contextAgent", "agent": {"mbox": MBOX}, "relevantTypes": []}], V2,
     "context.contextAgents[0].relevantTypes"),
    ("contextAgent relevantType not an IRI", "context.contextAgents", [
        {"objectType": "contextAgent", "agent": {"mbox": MBOX}, "relevantTypes": ["mentor"]}], V2,
     "context.contextAgents[0].relevantTypes[0]"),
    ("contextAgent with unknown property", "context.contextAgents", [
        {"objectType": "contextAgent", "agent": {"mbox": MBOX}, "role": "x"}], V2, "context.contextAgents[0].role"),
    ("contextGroup without group", "context.contextGroups", [{"objectType": "contextGroup"}], V2,
     "context.contextGroups[0].group"),
    ("contextGroup with an agent", "context.contextGroups", [{"objectType": "contextGroup", "group": {"mbox": MBOX}}],
     V2, "context.contextGroups[0].group.objectType"),
    ("contextGroup with wrong objectType", "context.contextGroups", [
        {"objectType": "Group", "group": {"objectType": "Group", "member": [{"mbox": MBOX}]}}], V2,
     "context.contextGroups[0].objectType"),
    # 2.4.7 / 2.4.8 Timestamps (Data 4.5)
    ("timestamp not a date", "timestamp", "yesterday", V1, "timestamp"),
    ("timestamp date only", "timestamp", "2026-01-02", V1, "timestamp"),
    ("timestamp with month 13", "timestamp", "2026-13-02T00:00:00Z", V1, "timestamp"),
    ("timestamp 30 February", "timestamp", "2026-02-30T00:00:00Z", V1, "timestamp"),
    ("timestamp 29 February of a common year", "timestamp", "2025-02-29T00:00:00Z", V1, "timestamp"),
    ("timestamp hour 25", "timestamp", "2026-01-02T25:00:00Z", V1, "timestamp"),
    ("timestamp with -00:00", "timestamp", "2026-01-02T03:04:05-00:00", V1, "timestamp"),
    ("timestamp with -0000", "timestamp", "2026-01-02T03:04:05-0000", V1, "timestamp"),
    ("timestamp offset hours 24", "timestamp", "2026-01-02T03:04:05+24:00", V1, "timestamp"),
    ("timestamp as a number", "timestamp", 1700000000, V1, "timestamp"),
    ("timestamp after year 9999 in UTC", "timestamp", "9999-12-31T23:59:59-01:00", V2, "timestamp"),
    ("timestamp before year 1 in UTC", "timestamp", "0001-01-01T00:00:00+01:00", V1, "timestamp"),
    ("timestamp year 0", "timestamp", "0000-01-01T00:00:00Z", V1, "timestamp"),
    ("timestamp without zone under 2.0.0", "timestamp", "2026-01-02T03:04:05.678", V2, "timestamp"),
    ("timestamp with a space under 1.0.3", "timestamp", "2008-09-15 15:53:00.601+00:00", V1, "timestamp"),
    ("timestamp with -00 (conformance)", "timestamp", "2008-09-15T15:53:00.601-00", V1, "timestamp"),
    ("timestamp 01/011/2015 (conformance)", "timestamp", "01/011/2015", V2, "timestamp"),
    ("basic format under 2.0.0", "timestamp", "20260102T030405Z", V2, "timestamp"),
    ("timestamp without seconds under 2.0.0", "timestamp", "2026-01-02T03:04Z", V2, "timestamp"),
    ("timestamp with -00:00 under 2.0.0", "timestamp", "2026-01-02T03:04:05-00:00", V2, "timestamp"),
    ("stored without zone under 2.0.0", "stored", "2026-01-02T03:04:05", V2, "stored"),
    ("stored not a timestamp", "stored", "now", V1, "stored"),
    # 2.4.9 Authority
    ("authority without identifier", "authority", {"name": "x"}, V1, "authority"),
    ("authority group of three", "authority", {"objectType": "Group", "member": [
        {"mbox": "mailto:a@x.org"}, {"mbox": "mailto:b@x.org"}, {"mbox": "mailto:c@x.org"}]}, V1, "authority"),
    ("authority identified group", "authority", {"objectType": "Group", "mbox": "mailto:g@x.org", "member": [
        {"mbox": "mailto:a@x.org"}, {"mbox": "mailto:b@x.org"}]}, V1, "authority"),
    # 2.4.10 Version
    ("version 0.95", "version", "0.95", V1, "version"),
    ("version 1.1.0", "version", "1.1.0", V1, "version"),
    ("version 2.0.0 under 1.0.3", "version", "2.0.0", V1, "version"),
    ("version 1.1", "version", "1.1", V1, "version"),
    ("version 2.0 under 1.0.3", "version", "2.0", V1, "version"),
    ("version 3.0.0 under 2.0.0", "version", "3.0.0", V2, "version"),
    ("version as a number", "version", 1.0, V1, "version"),
    # 2.4.11 Attachments
    ("attachments not an array", "attachments", {}, V1, "attachments"),
    ("attachment without usageType", "attachments[0].usageType", DELETE, V1, "attachments[0].usageType"),
    ("attachment without display", "attachments[0].display", DELETE, V1, "attachments[0].display"),
    ("attachment without contentType", "attachments[0].contentType", DELETE, V1, "attachments[0].contentType"),
    ("attachment without length", "attachments[0].length", DELETE, V1, "attachments[0].length"),
    ("attachment without sha2", "attachments[0].sha2", DELETE, V1, "attachments[0].sha2"),
    ("attachment usageType not an IRI", "attachments[0].usageType", "certificate", V1, "attachments[0].usageType"),
    ("attachment contentType not a media type", "attachments[0].contentType", "pdf", V1, "attachments[0].contentType"),
    ("attachment length negative", "attachments[0].length", -1, V1, "attachments[0].length"),
    ("attachment length a float", "attachments[0].length", 1.5, V1, "attachments[0].length"),
    ("attachment sha2 wrong length", "attachments[0].sha2", "abc", V1, "attachments[0].sha2"),
    ("attachment sha2 not hex", "attachments[0].sha2", "g" * 64, V1, "attachments[0].sha2"),
    ("attachment fileUrl not an IRL", "attachments[0].fileUrl", "cert.pdf", V1, "attachments[0].fileUrl"),
    ("attachment with unknown property", "attachments[0].data", "x", V1, "attachments[0].data"),
    ("signature attachment with another content type", "attachments[0]", {
        "usageType": "http://adlnet.gov/expapi/attachments/signature", "display": {"en-US": "Signature"},
        "contentType": "application/json", "length": 4235, "sha2": SHA256}, V1, "attachments[0].contentType"),
]


def _invalid_statement(path, value):
    if path is None and value == "platform-agent":
        stmt = set_path(base(), "object", {"objectType": "Agent", "mbox": MBOX})
        del stmt["context"]["revision"]
        return stmt
    return set_path(base(), path, value)


@pytest.mark.parametrize("description,path,value,version,expected", INVALID_CHANGES,
                         ids=[c[0] for c in INVALID_CHANGES])
def test_invalid_statements_name_the_property(description, path, value, version, expected):
    stmt = _invalid_statement(path, value)
    error = error_of(stmt, version)
    assert error.path == expected, error.describe()
    assert error.message


@pytest.mark.parametrize("version", [V1, V2])
def test_the_base_statement_is_valid(version):
    # The tables above only prove something if the statement they change is itself valid.
    validate_statement(base(), version)


def test_non_object_statement_is_refused():
    for value in (None, [], "x", 1):
        with pytest.raises(XAPIValidationError):
            validate_statement(value, V1)


# ---------------------------------------------------------------------------------------------
# Batches (Communication 2.1.2)
# ---------------------------------------------------------------------------------------------
def test_batch_reports_the_index_of_the_bad_statement():
    good = base()
    bad = set_path(base(), "actor.mbox", "nope")
    bad["id"] = "0b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d"
    with pytest.raises(XAPIValidationError) as info:
        validate_statements([good, bad], V1)
    assert info.value.statement_index == 1
    assert info.value.path == "actor.mbox"
    assert info.value.describe().startswith("statement 1, actor.mbox: ")


def test_batch_refuses_empty_and_non_arrays():
    for value in ([], {}, "x", None):
        with pytest.raises(XAPIValidationError):
            validate_statements(value, V1)


def test_batch_refuses_duplicate_ids():
    first, second = base(), base()
    second["id"] = UUID.upper()
    with pytest.raises(XAPIValidationError) as info:
        validate_statements([first, second], V2)
    assert info.value.statement_index == 1
    assert info.value.path == "id"


def test_batch_of_valid_statements_passes():
    stmts = [set_path(base(), "id", f"00000000-0000-4000-8000-{i:012d}") for i in range(3)]
    validate_statements(stmts, V2)


# ---------------------------------------------------------------------------------------------
# Communication 3.3 Versioning
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("header,expected", [
    ("1.0", V1), ("1.0.0", V1), ("1.0.1", V1), ("1.0.2", V1), ("1.0.3", V1), (" 1.0.3 ", V1), ("1.0.9", V1),
    ("2.0", V2), ("2.0.0", V2),
])
def test_version_header_is_normalised(header, expected):
    assert parse_version_header(header) == expected


@pytest.mark.parametrize("header", [None, "", "0.95", "0.9", "1", "1.1", "1.1.0", "3.0.0", "2.1.0", "1.0.x", "latest"])
def test_unsupported_version_header_is_refused(header):
    with pytest.raises(XAPIValidationError) as info:
        parse_version_header(header)
    assert info.value.path == "X-Experience-API-Version"


def test_supported_versions_lists_both_families():
    assert "1.0.3" in SUPPORTED_VERSIONS and "2.0.0" in SUPPORTED_VERSIONS
    assert all(parse_version_header(v) in (V1, V2) for v in SUPPORTED_VERSIONS)


def test_validate_statement_accepts_raw_header_values():
    validate_statement(base(), "1.0")
    with pytest.raises(XAPIValidationError):
        validate_statement(set_path(base(), "timestamp", "2026-01-02T03:04:05"), "2.0")


# ---------------------------------------------------------------------------------------------
# The building blocks
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag,ok", [
    ("en", True), ("en-US", True), ("zh-CN", True), ("zh-Hans", True), ("zh-Hant-TW", True), ("es-419", True),
    ("de-CH-1901", True), ("sl-rozaj-biske", True), ("en-a-bbb-x-a-ccc", True), ("x-whatever", True),
    ("zh-min-nan", True), ("i-klingon", True), ("EN-us", True), ("zh-cmn-Hans-CN", True), ("qaa-Qaaa-QM-x-southern", True),
    ("", False), ("e", False), ("en_US", False), ("en-", False), ("-en", False), ("en--US", False),
    ("toolonglanguage", False), ("en-US-", False), ("de-419-DE", False), ("a-DE", False), ("ar-a-aaa-b-bbb-a-ccc", False),
    ("de-DE-1901-1901", False), ("x", False), ("en-x", False), ("中文", False), ("en US", False),
])
def test_language_tags(tag, ok):
    assert validate_language_tag(tag) is ok


def test_language_tag_rejects_non_strings():
    assert validate_language_tag(None) is False
    assert validate_language_tag(12) is False


@pytest.mark.parametrize("value,ok", [
    ("http://example.com", True), ("https://example.com/a?b=c#d", True), ("urn:uuid:" + UUID, True),
    ("mailto:a@b.org", True), ("tag:example.com,2026:x", True), ("http://例子.测试/路径", True),
    ("http://example.com/%E4%BD%A0", True),
    ("", False), ("example.com", False), ("/relative/path", False), ("http//example.com", False),
    ("http://exa mple.com", False), ("1http://x", False), ("http://x/<y>", False), ("http://x/%G0", False),
    ("http://x/\u0007", False),
])
def test_iris(value, ok):
    if ok:
        validate_iri(value, "p")
        validate_activity_id(value, "p")
    else:
        with pytest.raises(XAPIValidationError) as info:
            validate_iri(value, "p")
        assert info.value.path == "p"


@pytest.mark.parametrize("value,ok", [
    (UUID, True), ("00000000-0000-0000-0000-000000000000", True), ("12345678-1234-5678-1234-567812345678", True),
    ("fd41c918b88b4b20a0a5a4c32391aaa0", False), (UUID + "0", False), ("urn:uuid:" + UUID, False), ("", False),
    (None, False),
])
def test_uuids(value, ok):
    if ok:
        validate_uuid(value, "id")
    else:
        with pytest.raises(XAPIValidationError):
            validate_uuid(value, "id")


@pytest.mark.parametrize("value,ok", [
    ("PT1H", True), ("P1D", True), ("PT0S", True), ("P1Y2M3DT4H5M6.789S", True), ("PT4H35M59.14S", True),
    ("P4W", True), ("PT1,5S", True), ("P0.5Y", True), ("PT1M30.5S", True),
    ("", False), ("P", False), ("PT", False), ("1H", False), ("P1H", False), ("PT1D", False), ("P-1D", False),
    ("P1.5Y2M", False), ("P4W1D", False), ("pt1h", False), ("P1DT1H1D", False), (5, False),
])
def test_durations(value, ok):
    if ok:
        validate_duration(value, "result.duration")
    else:
        with pytest.raises(XAPIValidationError):
            validate_duration(value, "result.duration")


def test_parse_timestamp_gives_aware_utc():
    assert parse_timestamp("2026-01-02T11:04:05.678+08:00", V2) == datetime(2026, 1, 2, 3, 4, 5, 678000,
                                                                            tzinfo=timezone.utc)
    assert parse_timestamp("2026-01-02T03:04:05", V1) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_timestamp("20260102T0304Z", V1) == datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    assert parse_timestamp("2026-01-02T03:04:05.123456789Z", V1).microsecond == 123456
    with pytest.raises(XAPIValidationError):
        parse_timestamp("2026-01-02T03:04:05", V2)
    with pytest.raises(XAPIValidationError):
        parse_timestamp("0001-01-01T00:00:00+01:00", V2)  # before year 1 in UTC


def test_validate_timestamp_by_version():
    validate_timestamp("2026-01-02T03:04:05", "t", V1)
    with pytest.raises(XAPIValidationError) as info:
        validate_timestamp("2026-01-02T03:04:05", "t", V2)
    assert "time zone" in info.value.message


def test_language_map_and_extensions_helpers():
    validate_language_map({"en": "", "zh-CN": "中文"}, "display")
    with pytest.raises(XAPIValidationError):
        validate_language_map({}, "display")
    with pytest.raises(XAPIValidationError) as info:
        validate_language_map({"en": None}, "display")
    assert info.value.path == "display.en"
    validate_extensions({"http://x.org/e": None}, "ext")  # any JSON value, even null, inside extensions
    with pytest.raises(XAPIValidationError):
        validate_extensions([], "ext")


def test_agent_group_actor_helpers_use_the_given_path():
    validate_agent({"mbox": MBOX}, V1)
    validate_group({"objectType": "Group", "member": [{"mbox": MBOX}]}, V2)
    validate_actor({"objectType": "Group", "mbox": MBOX}, V1)
    with pytest.raises(XAPIValidationError) as info:
        validate_agent({"mbox": "bad"}, V1, path="agent")
    assert info.value.path == "agent.mbox"
    with pytest.raises(XAPIValidationError) as info:
        validate_group({"mbox": MBOX}, V1)
    assert info.value.path == "group.objectType"
    with pytest.raises(XAPIValidationError) as info:
        validate_agent({"objectType": "Group", "member": [{"mbox": MBOX}]}, V1)
    assert info.value.path == "agent.objectType"


def test_attachment_helper():
    validate_attachment(base()["attachments"][0])
    with pytest.raises(XAPIValidationError) as info:
        validate_attachment({"usageType": "http://x.org/u"}, "attachments[3]")
    assert info.value.path == "attachments[3].display"


# ---------------------------------------------------------------------------------------------
# Strings and values that would pass a careless pattern, or break storage
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,value,expected", [
    ("id", UUID + "\n", "id"),  # "$" would match before a final newline
    ("verb.id", "http://example.com/v\n", "verb.id"),
    ("result.duration", "PT1H\n", "result.duration"),
    ("result.duration", "PT١H", "result.duration"),  # an Arabic-Indic digit is not an ASCII digit
    ("timestamp", "٢٠٢٦-01-02T03:04:05Z", "timestamp"),
    ("version", "1.0.٣", "version"),
    ("context.language", "en\n", "context.language"),
    ("actor.mbox", "mailto:learner@example.com\n", "actor.mbox"),
    ("actor.mbox", "mailto:lear ner@example.com", "actor.mbox"),
    ("actor.name", "a\x00b", "actor.name"),
    ("actor.name", "\ud800", "actor.name"),
    ("verb.display.en-US", "\udfff", "verb.display.en-US"),
    ("verb.id", "http://example.com/\ud800", "verb.id"),
    ("result.response", "nul\x00", "result.response"),
    ("result.extensions", {"http://x.org/e": {"deep": ["ok", "\ud800"]}}, "result.extensions.http://x.org/e.deep[1]"),
    ("result.extensions", {"http://x.org/e": {"k\x00": 1}}, "result.extensions.http://x.org/e.k\x00"),
    ("context.extensions", {"http://x.org/e": float("inf")}, "context.extensions.http://x.org/e"),
    ("object.definition.extensions", {"http://x.org/e": {1, 2}}, "object.definition.extensions.http://x.org/e"),
    ("object.definition.extensions", {"http://x.org/e": {1: "int key"}}, "object.definition.extensions.http://x.org/e"),
])
def test_hidden_bad_characters_and_values_are_refused(path, value, expected):
    error = error_of(set_path(base(), path, value))
    assert error.path == expected, error.describe()


def test_extension_values_may_be_any_json():
    stmt = set_path(base(), "result.extensions", {
        "http://x.org/e": {"nested": [1, 2.5, None, True, "文字", "\\u0000 as text", "😀", {"a": {}}]}})
    validate_statement(stmt, V1)
    validate_statement(stmt, V2)
