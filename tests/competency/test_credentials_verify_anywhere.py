"""Certificates verify with an independent verifier (Digital Bazaar's ``@digitalbazaar/vc``,
``eddsa-rdfc-2022`` cryptosuite and Bitstring Status List, run by Node), not with the signer's code."""
from __future__ import annotations

import copy

from lms.core.db import db
from tests.competency.test_certificates import awarded  # noqa: F401  (fixture)
from tests.independent_verifier import published_documents, verify


def _documents(client, credential):
    from lms.records.credentials import issuer_id, key_id

    return published_documents(client, [issuer_id(), key_id(),
                                        credential["credentialStatus"]["statusListCredential"]])


def test_certificate_is_valid_tampered_is_invalid_revoked_is_revoked(app, client, awarded):  # noqa: F811
    from competency.operations.certificates import issue_certificate, revoke_certificate

    learner, admin, att = awarded
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    published = client.get(f"/competency/certificates/{cert.uuid}/credential.json").get_json()
    assert published == cert.credential
    tampered = copy.deepcopy(published)
    tampered["credentialSubject"]["achievement"]["name"] = "高级技师"
    other_key = copy.deepcopy(published)
    other_key["proof"]["verificationMethod"] = published["proof"]["verificationMethod"] + "x"
    documents = _documents(client, published)
    documents[other_key["proof"]["verificationMethod"]] = {**documents[published["proof"]["verificationMethod"]],
                                                           "id": other_key["proof"]["verificationMethod"]}
    valid, forged, wrong_key = verify([published, tampered, other_key], documents)
    assert valid == {"verified": True, "proof": True, "error": None, "revoked": False}, valid
    assert forged["verified"] is False and forged["proof"] is False
    assert wrong_key["verified"] is False  # a key its controller does not list for assertions
    # the published proof carries the @context that was signed
    assert published["proof"]["@context"] == published["@context"]

    revoke_certificate(cert, actor=admin, reason="exam fraud")
    db.session.commit()
    (after,) = verify([published], _documents(client, published))
    assert after["proof"] is True and after["revoked"] is True and after["verified"] is False, after


def test_old_certificate_is_resigned_on_next_view(app, client, awarded):  # noqa: F811
    from competency.operations.certificates import issue_certificate

    learner, admin, att = awarded
    cert = issue_certificate(att, actor=admin)
    cert.credential = {**cert.credential, "proof": [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                                                     "proofValue": "zold"}]}
    db.session.commit()
    published = client.get(f"/competency/certificates/{cert.uuid}/credential.json").get_json()
    assert published["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    (result,) = verify([published], _documents(client, published))
    assert result["verified"] is True and result["revoked"] is False, result


def test_contexts_are_never_fetched(app):
    import pytest

    from lms.records.credentials import CredentialError, canonize

    with pytest.raises(CredentialError):
        canonize({"@context": "https://attacker.example/context.jsonld", "name": "x"})
