"""Signed statements (Data 2.6) and statement comparison (Data 2.3.1)."""
from __future__ import annotations

import base64
import copy
import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lms.xapi.errors import XAPIValidationError
from lms.xapi.signature import sign_statement, statements_match, verify_signed_statement
from lms.xapi.validation import SIGNATURE_USAGE_TYPE, validate_statement

DATA = Path(__file__).parent / "data"

# Appendix D of xAPI-Data.md (1.0.3): the example signed statement, whose JWS is in data/.
APPENDIX_D = {
    "version": "1.0.0",
    "id": "33cff416-e331-4c9d-969e-5373a1756120",
    "actor": {"mbox": "mailto:example@example.com", "name": "Example Learner", "objectType": "Agent"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
    "object": {
        "id": "https://www.youtube.com/watch?v=xh4kIiH3Sm8",
        "objectType": "Activity",
        "definition": {
            "name": {"en-US": "Tax Tips & Information : How to File a Tax Return "},
            "description": {"en-US": "Filing a tax return will require filling out either a 1040, 1040A or 1040EZ form"},
        },
    },
    "timestamp": "2013-04-01T12:00:00Z",
    "attachments": [{
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "Signature"},
        "description": {"en-US": "A test signature"},
        "contentType": "application/octet-stream",
        "length": 4235,
        "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
    }],
}


def signature_attachment(jws: str) -> dict:
    import hashlib

    return {"usageType": SIGNATURE_USAGE_TYPE, "display": {"en-US": "Signature"},
            "contentType": "application/octet-stream", "length": len(jws),
            "sha2": hashlib.sha256(jws.encode()).hexdigest()}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certificate(rsa_key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xAPI test signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(rsa_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(rsa_key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def original() -> dict:
    return {
        "actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@Example.com"}, {"mbox": "mailto:b@example.com"}]},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
        "object": {"id": "http://example.com/exam"},
        "result": {"score": {"scaled": 0.9}, "duration": "PT1H"},
        "context": {"contextActivities": {"parent": {"id": "http://example.com/course"}}},
        "timestamp": "2026-01-02T11:04:05.678+08:00",
    }


def signed(rsa_key, certificate=None, alg="RS256", stmt=None):
    stmt = stmt or original()
    jws = sign_statement(stmt, rsa_key, alg=alg, x5c=[certificate] if certificate else None)
    received = copy.deepcopy(stmt)
    received["attachments"] = [signature_attachment(jws)]
    return received, jws


def test_the_specification_example_verifies():
    jws = (DATA / "appendix_d.jws").read_bytes()
    validate_statement(APPENDIX_D, "1.0.3")
    verify_signed_statement(APPENDIX_D, jws)  # RS256 with the x5c certificate of the example


def test_the_specification_example_fails_when_the_statement_was_changed():
    jws = (DATA / "appendix_d.jws").read_bytes()
    changed = copy.deepcopy(APPENDIX_D)
    changed["actor"]["name"] = "Someone Else"
    with pytest.raises(XAPIValidationError) as info:
        verify_signed_statement(changed, jws)
    assert info.value.path == "attachments[0]"
    assert "differs" in info.value.message


def test_the_specification_example_fails_with_a_tampered_signature():
    head, payload, sig = (DATA / "appendix_d.jws").read_text().strip().split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    with pytest.raises(XAPIValidationError, match="does not verify"):
        verify_signed_statement(APPENDIX_D, tampered)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_generated_key_with_certificate(rsa_key, certificate, alg):
    received, jws = signed(rsa_key, certificate, alg)
    validate_statement(received, "2.0.0")
    verify_signed_statement(received, jws.encode())


def test_lrs_assigned_properties_and_serialisation_differences_are_ignored(rsa_key, certificate):
    received, jws = signed(rsa_key, certificate)
    received.update({
        "id": "0b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d",  # assigned by the LRS
        "stored": "2026-01-02T03:04:06Z",
        "version": "1.0.0",
        "authority": {"mbox": "mailto:lrs@example.com"},
        "timestamp": "2026-01-02T03:04:05.678Z",  # the same instant in UTC
    })
    received["actor"]["member"].reverse()  # members are unordered
    received["actor"]["member"][1]["mbox"] = "mailto:a@example.com"  # email domains are case-insensitive
    received["context"]["contextActivities"]["parent"] = [{"id": "http://example.com/course", "objectType": "Activity"}]
    verify_signed_statement(received, jws)


@pytest.mark.parametrize("change", [
    lambda s: s["result"].update(duration="PT60M"),  # durations compare as strings
    lambda s: s.update(timestamp="2026-01-02T03:04:06.678Z"),
    lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/failed"),
    lambda s: s["actor"]["member"].pop(),
    lambda s: s["result"]["score"].update(scaled=0.91),
    lambda s: s.update(context={}),
])
def test_real_differences_are_refused(rsa_key, certificate, change):
    received, jws = signed(rsa_key, certificate)
    change(received)
    with pytest.raises(XAPIValidationError) as info:
        verify_signed_statement(received, jws)
    assert info.value.path == "attachments[0]"


def test_a_signed_id_must_match(rsa_key):
    stmt = original()
    stmt["id"] = "0b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d"
    received, jws = signed(rsa_key, stmt=stmt)
    verify_signed_statement(received, jws, public_key=rsa_key.public_key())
    received["id"] = "1b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d"
    with pytest.raises(XAPIValidationError):
        verify_signed_statement(received, jws, public_key=rsa_key.public_key())


def test_jwk_header_and_explicit_key(rsa_key):
    numbers = rsa_key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    header = {"alg": "RS256", "jwk": {"kty": "RSA", "n": b64(numbers.n), "e": b64(numbers.e)}}
    stmt = original()
    h = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    p = base64.urlsafe_b64encode(json.dumps(stmt).encode()).rstrip(b"=").decode()
    from cryptography.hazmat.primitives.asymmetric import padding

    sig = rsa_key.sign(f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    jws = f"{h}.{p}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    received = {**stmt, "attachments": [signature_attachment(jws)]}
    verify_signed_statement(received, jws)
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(XAPIValidationError, match="does not verify"):
        verify_signed_statement(received, jws, public_key=other.public_key())


def test_without_a_key_only_the_form_and_payload_are_checked(rsa_key):
    received, jws = signed(rsa_key)  # no x5c, no jwk
    verify_signed_statement(received, jws)
    received["verb"]["id"] = "http://example.com/other"
    with pytest.raises(XAPIValidationError):
        verify_signed_statement(received, jws)


def _jws(header, payload, signature=b"sig") -> str:
    def enc(value):
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{enc(header)}.{enc(payload)}.{enc(signature)}"


@pytest.mark.parametrize("jws,message", [
    ("", "malformed"),
    ("abc.def", "malformed"),
    ("a.b.c.d", "malformed"),
    ("!!!.###.$$$", "malformed"),
    (b"\xff\xfe.x.y", "malformed"),
    (_jws({"alg": "RS256"}, b"not json"), "malformed"),
    (_jws(["alg"], original()), "header"),
    (_jws({"alg": "HS256"}, original()), "algorithm"),
    (_jws({"alg": "none"}, original()), "algorithm"),
    (_jws({}, original()), "algorithm"),
    (_jws({"alg": "RS256", "crit": ["exp"]}, original()), "critical"),
    (_jws({"alg": "RS256"}, [original()]), "payload"),
    (_jws({"alg": "RS256", "x5c": "MIIB"}, original()), "x5c"),
    (_jws({"alg": "RS256", "x5c": ["bm90IGEgY2VydA=="]}, original()), "x5c"),
    (_jws({"alg": "RS256", "jwk": {"kty": "EC"}}, original()), "jwk"),
])
def test_malformed_signatures_are_refused(jws, message):
    received = {**original(), "attachments": [signature_attachment("x")]}
    with pytest.raises(XAPIValidationError) as info:
        verify_signed_statement(received, jws)
    assert message in info.value.message
    assert info.value.path == "attachments[0]"


def test_a_statement_without_signature_attachment_is_refused(rsa_key):
    _, jws = signed(rsa_key)
    with pytest.raises(XAPIValidationError) as info:
        verify_signed_statement(original(), jws)
    assert info.value.path == "attachments"


def test_statements_match_rules():
    a = original()
    assert statements_match(a, copy.deepcopy(a))
    b = copy.deepcopy(a)
    b["object"]["objectType"] = "Activity"
    b["actor"]["member"][0]["objectType"] = "Agent"
    assert statements_match(a, b)
    b["object"]["definition"] = {"name": {"en": "Exam"}}
    assert not statements_match(a, b)
    assert not statements_match(a, None)
    c = copy.deepcopy(a)
    c["id"] = "0b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d"
    assert statements_match(a, c)  # one side lacks the id: the LRS may have assigned it
    d = copy.deepcopy(c)
    d["id"] = "1b8b7ba4-4ed6-4bc3-9e4b-0c5c1d1b2c3d"
    assert not statements_match(c, d)
    e, f = copy.deepcopy(a), copy.deepcopy(a)
    e["result"]["success"], f["result"]["success"] = True, 1
    assert not statements_match(e, f)  # true is not the number 1
    e["result"]["score"]["scaled"], f["result"]["success"] = 1, True
    f["result"]["score"]["scaled"] = 1.0
    assert statements_match(e, f)  # 1 and 1.0 are the same JSON number
