"""The exported documents have the shape OB 3.0 / CLR 2.0 (VC Data Model 2.0) require, checked with
``jsonschema``.

The schemas below are this project's transcription of the *required* members and value types that
the specifications state (OB 3.0 §B AchievementCredential / IdentityObject, CLR 2.0 ClrCredential /
ClrSubject / Association). They are NOT the official 1EdTech schema files: those
(``ob_v3p0_achievementcredential_schema.json``, ``clr_v2p0_clrcredential_schema.json``, VC 2.0
editions) could not be obtained in this environment and remain to be vendored (see the README).
"""
from __future__ import annotations

import jsonschema

from lms.core.db import db
from tests.lms.records.test_record import worker  # noqa: F401  (fixture)
from tests.competency.test_certificates import awarded  # noqa: F401  (fixture)

TYPE_SET = {"oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]}
IDENTITY_OBJECT = {
    "type": "object", "required": ["type", "hashed", "identityHash", "identityType"], "additionalProperties": False,
    "properties": {"type": {"const": "IdentityObject"}, "hashed": {"type": "boolean"},
                   "identityHash": {"type": "string", "pattern": "^(sha256|md5)\\$[0-9a-fA-F]+$"},
                   "identityType": {"type": "string"}, "salt": {"type": "string"}}}
PROOF = {"type": "object", "required": ["type", "cryptosuite", "created", "verificationMethod", "proofPurpose",
                                        "proofValue"],
         "properties": {"type": {"const": "DataIntegrityProof"}, "cryptosuite": {"const": "eddsa-rdfc-2022"},
                        "proofValue": {"type": "string", "pattern": "^z[1-9A-HJ-NP-Za-km-z]+$"}}}
ACHIEVEMENT = {"type": "object", "required": ["id", "type", "name", "criteria"],
               "properties": {"type": {"type": "array", "contains": {"const": "Achievement"}},
                              "criteria": {"type": "object"}, "name": {"type": "string", "minLength": 1}}}
VC = {"type": "object", "required": ["@context", "id", "type", "issuer", "validFrom", "credentialSubject", "proof"],
      "properties": {"@context": {"type": "array", "prefixItems": [{"const": "https://www.w3.org/ns/credentials/v2"}]},
                     "issuer": {"type": "object", "required": ["id", "type"]},
                     "validFrom": {"type": "string", "format": "date-time"}, "proof": PROOF}}
OB = {"allOf": [VC, {"properties": {
    "type": {"type": "array", "allOf": [{"contains": {"const": "VerifiableCredential"}},
                                        {"contains": {"enum": ["OpenBadgeCredential", "AchievementCredential"]}}]},
    "name": {"type": "string"},
    "credentialSubject": {"type": "object", "required": ["type", "achievement"],
                          "properties": {"type": TYPE_SET, "achievement": ACHIEVEMENT,
                                         "identifier": {"type": "array", "items": IDENTITY_OBJECT}}},
    "credentialStatus": {"type": "object", "required": ["type", "statusPurpose", "statusListIndex",
                                                        "statusListCredential"],
                         "properties": {"type": {"const": "BitstringStatusListEntry"}}}},
    "required": ["name"]}]}
ASSOCIATION = {"type": "object", "required": ["type", "associationType", "sourceId", "targetId"],
               "properties": {"type": {"const": "Association"},
                              "associationType": {"enum": ["exactMatchOf", "isChildOf", "isParentOf", "isPartOf",
                                                           "isPeerOf", "isRelatedTo", "precedes", "replacedBy"]}}}
CLR = {"allOf": [VC, {"properties": {
    "type": {"type": "array", "allOf": [{"contains": {"const": "VerifiableCredential"}},
                                        {"contains": {"const": "ClrCredential"}}]},
    "@context": {"type": "array", "contains": {"const": "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"}},
    "credentialSubject": {"type": "object", "required": ["type", "verifiableCredential"],
                          "properties": {"type": {"type": "array", "contains": {"const": "ClrSubject"}},
                                         "verifiableCredential": {"type": "array", "items": OB},
                                         "achievement": {"type": "array", "items": ACHIEVEMENT},
                                         "association": {"type": "array", "items": ASSOCIATION},
                                         "identifier": {"type": "array", "items": IDENTITY_OBJECT}}}},
    "required": ["name"]}]}


def _check(schema, doc):
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_certificate_and_clr_have_the_required_shape(app, worker):  # noqa: F811
    import pytest

    from lms.records.record import create_share

    learner, admin, cert = worker
    _check(OB, cert.credential)
    share, token = create_share(learner, actor=learner, keys=[], days=3, label="", request_key="k")
    db.session.commit()
    _check(CLR, share.credential)
    broken = dict(share.credential, credentialSubject={**share.credential["credentialSubject"],
                                                        "identifier": [{"type": "IdentityObject", "hashed": False,
                                                                        "identityHash": "11010519491231002X",
                                                                        "identityType": "nationalIdentityNumber"}]})
    with pytest.raises(jsonschema.ValidationError):
        _check(CLR, broken)
