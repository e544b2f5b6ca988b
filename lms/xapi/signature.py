"""Signed statements (xAPI 1.0.3 Data 2.6, IEEE 9274.1.1 the same) and statement comparison.

A signed statement carries a JSON Web Signature (RFC 7515, compact serialization) as an
attachment with usageType ``http://adlnet.gov/expapi/attachments/signature`` and contentType
``application/octet-stream``. Its payload is the statement as it was before the signature was
added. Data 2.6 "LRS Requirements": decode the JWS, check the algorithm is RS256, RS384 or
RS512, check the payload statement is logically equivalent to the statement received (Data
2.3.1 "Statement Comparison Requirements"), and if the header carries an X.509 chain (``x5c``)
verify the signature with the first certificate's key. A ``jwk`` RSA key in the header is
used the same way; a caller may also pass the key it trusts.

The certificate chain is not validated (expiry, issuer): the spec says that check "is intended
as a way to catch mistakes in the signature, not as a security measure".

:func:`statements_match` implements the comparison rules on their own; the LRS uses the same
function to decide whether a statement re-sent with a known id is "the same" (204) or a
conflict (409).
"""
from __future__ import annotations

import base64
import binascii
import decimal
import json
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lms.xapi.errors import XAPIValidationError
from lms.xapi.validation import SIGNATURE_USAGE_TYPE, VERSION_1, VERSION_2, parse_timestamp

__all__ = ["verify_signed_statement", "sign_statement", "statements_match", "SIGNATURE_USAGE_TYPE"]

_HASHES = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def _b64url_decode(part: str) -> bytes:
    if not _B64URL_RE.match(part):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(part) -> int:
    if type(part) is not str:
        raise ValueError("jwk values must be strings")
    return int.from_bytes(_b64url_decode(part), "big")


# ---------------------------------------------------------------------------------------------
# Data 2.3.1 Statement Comparison Requirements
# ---------------------------------------------------------------------------------------------
def _instant(value):
    """A timestamp as a point in time (2.3.1: the serialisation of timestamps may change)."""
    for version in (VERSION_2, VERSION_1):
        try:
            instant = parse_timestamp(value, version)
        except XAPIValidationError:
            continue
        return instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    return value


_DURATION_SECONDS_RE = re.compile(r"(\d+(?:[.,]\d+)?)S\Z")


def _duration(value):
    """A duration for comparison: IEEE 9274.1.1 (2.0.0) Data "Durations" -- precision beyond
    0.01 second does not count when statements are compared (1.0.3 Data 4.6 allows the LRS to
    ignore it too). The seconds are truncated to hundredths and written without trailing zeros,
    so ``PT0.1237S``, ``PT0.12S`` and ``PT0.120S`` compare equal; the rest stays as written."""
    if type(value) is not str:
        return value
    m = _DURATION_SECONDS_RE.search(value)
    if m is None:
        return value
    seconds = decimal.Decimal(m.group(1).replace(",", "."))
    seconds = seconds.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_DOWN).normalize()
    return value[:m.start()] + format(seconds, "f") + "S"


def _norm_result(result):
    if type(result) is not dict or "duration" not in result:
        return result
    return {**result, "duration": _duration(result["duration"])}


def _sort_key(item) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)


def _norm_actor(actor):
    if type(actor) is not dict:
        return actor
    out = dict(actor)
    is_group = out.get("objectType") == "Group"
    if not is_group:
        out.setdefault("objectType", "Agent")
    mbox = out.get("mbox")
    if type(mbox) is str and "@" in mbox:
        # 2.3.1: the domain part of an email address is case-insensitive.
        local, _, domain = mbox.rpartition("@")
        out["mbox"] = f"{local}@{domain.lower()}"
    sha = out.get("mbox_sha1sum")
    if type(sha) is str:
        out["mbox_sha1sum"] = sha.lower()
    members = out.get("member")
    if type(members) is list:
        # 2.3.1: the members of a Group are an unordered list.
        out["member"] = sorted((_norm_actor(m) for m in members), key=_sort_key)
    return out


def _norm_activity(activity):
    if type(activity) is not dict:
        return activity
    out = dict(activity)
    out.setdefault("objectType", "Activity")
    return out


def _norm_context(context):
    if type(context) is not dict:
        return context
    out = dict(context)
    if "instructor" in out:
        out["instructor"] = _norm_actor(out["instructor"])
    if "team" in out:
        out["team"] = _norm_actor(out["team"])
    ca = out.get("contextActivities")
    if type(ca) is dict:
        # Data 2.4.6.2: a single Activity is the same as an array of one.
        out["contextActivities"] = {
            key: [_norm_activity(a) for a in (value if type(value) is list else [value])]
            for key, value in ca.items()
        }
    for key, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        items = out.get(key)
        if type(items) is list:
            out[key] = [
                {**item, inner: _norm_actor(item.get(inner))} if type(item) is dict else item
                for item in items
            ]
    return out


def _norm_object(obj):
    if type(obj) is not dict:
        return obj
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return _norm_activity(obj)
    if object_type in ("Agent", "Group"):
        return _norm_actor(obj)
    if object_type == "SubStatement":
        return _norm_statement(obj, drop_id=False, drop_timestamp=False)
    return dict(obj)


def _norm_statement(stmt: dict, *, drop_id: bool, drop_timestamp: bool) -> dict:
    out = {}
    for key, value in stmt.items():
        # 2.3.1: id, authority, stored, timestamp and version may be assigned by the LRS.
        if key in ("authority", "stored", "version") or (key == "id" and drop_id):
            continue
        if key == "timestamp":
            if drop_timestamp:
                continue
            value = _instant(value)
        elif key == "attachments":
            # 2.6: the signature is added after signing; other attachments must match.
            if type(value) is list:
                value = [a for a in value
                         if not (type(a) is dict and a.get("usageType") == SIGNATURE_USAGE_TYPE)]
                if not value:
                    continue
        elif key == "actor":
            value = _norm_actor(value)
        elif key == "object":
            value = _norm_object(value)
        elif key == "context":
            value = _norm_context(value)
        elif key == "result":
            value = _norm_result(value)
        out[key] = value
    return out


def _json_equal(a, b) -> bool:
    """JSON equality: 1 == 1.0 (one JSON number), but true != 1 (Python's == says otherwise)."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is dict:
        return tb is dict and a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if ta is list:
        return tb is list and len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return a == b


def statements_match(a: dict, b: dict) -> bool:
    """True if two statements are the same per Data 2.3.1 "Statement Comparison Requirements".

    Differences the LRS could have caused are ignored: ``authority``, ``stored``, ``version``,
    ``id`` / ``timestamp`` when one side lacks them, the time zone (and sub-millisecond digits)
    of timestamps, the order of Group members, single vs. array ``contextActivities`` values,
    omitted default ``objectType`` values, the case of email domains, signature attachments, and
    the digits of ``result.duration`` beyond 0.01 s (2.0.0 Data "Durations"). Everything else
    must be identical.
    """
    if type(a) is not dict or type(b) is not dict:
        return False
    drop_id = "id" not in a or "id" not in b
    drop_ts = "timestamp" not in a or "timestamp" not in b
    return _json_equal(_norm_statement(a, drop_id=drop_id, drop_timestamp=drop_ts),
                       _norm_statement(b, drop_id=drop_id, drop_timestamp=drop_ts))


# ---------------------------------------------------------------------------------------------
# Data 2.6 Signed Statements
# ---------------------------------------------------------------------------------------------
def _signature_index(stmt: dict) -> int | None:
    attachments = stmt.get("attachments") if type(stmt) is dict else None
    if type(attachments) is list:
        for i, attachment in enumerate(attachments):
            if type(attachment) is dict and attachment.get("usageType") == SIGNATURE_USAGE_TYPE:
                return i
    return None


def _header_key(header: dict, path: str):
    """The RSA public key named by the JWS header (x5c first, then jwk), or None."""
    if "x5c" in header:
        chain = header["x5c"]
        if type(chain) is not list or not chain or type(chain[0]) is not str:
            raise XAPIValidationError("the JWS x5c header must be a non-empty array of certificates",
                                      path=path)
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
            key = cert.public_key()
        except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
            raise XAPIValidationError(f"the JWS x5c certificate cannot be read ({exc})", path=path) from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise XAPIValidationError("the JWS x5c certificate does not hold an RSA key", path=path)
        return key
    if "jwk" in header:
        jwk = header["jwk"]
        try:
            if type(jwk) is not dict or jwk.get("kty") != "RSA":
                raise ValueError("only RSA keys")
            return rsa.RSAPublicNumbers(_b64url_uint(jwk.get("e")), _b64url_uint(jwk.get("n"))).public_key()
        except (ValueError, TypeError) as exc:
            raise XAPIValidationError(f"the JWS jwk header is not a usable RSA key ({exc})", path=path) from None
    return None


def verify_signed_statement(stmt: dict, jws: bytes | str, *, public_key=None) -> None:
    """Check a signed statement's JWS (the raw attachment part) against the statement.

    Raises :class:`XAPIValidationError` (path ``attachments[i]``, the signature attachment) if
    the JWS is malformed, uses another algorithm than RS256/RS384/RS512, its payload is not the
    statement received (Data 2.3.1 comparison), or the signature does not verify with the key
    from ``public_key``, the header's ``x5c`` certificate or its ``jwk``. With no key at all the
    signature is only checked for form (as Data 2.6 requires no more).
    """
    index = _signature_index(stmt)
    path = f"attachments[{index}]" if index is not None else "attachments"
    if index is None:
        raise XAPIValidationError("the statement has no signature attachment", path=path)
    try:
        text = jws.decode("ascii") if isinstance(jws, (bytes, bytearray)) else jws
        if not isinstance(text, str):
            raise ValueError("not text")
        parts = text.strip().split(".")
        if len(parts) != 3 or not parts[0] or not parts[1] or not parts[2]:
            raise ValueError("JWS compact serialization has three non-empty parts")
        header = json.loads(_b64url_decode(parts[0]))
        payload = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise XAPIValidationError(f"malformed JWS signature ({exc})", path=path) from None
    if type(header) is not dict:
        raise XAPIValidationError("the JWS header must be a JSON object", path=path)
    alg = header.get("alg")
    if alg not in _HASHES:
        raise XAPIValidationError("the JWS algorithm must be RS256, RS384 or RS512", path=path)
    if "crit" in header:
        raise XAPIValidationError("JWS critical header extensions are not supported", path=path)
    if type(payload) is not dict:
        raise XAPIValidationError("the JWS payload must be a statement (JSON object)", path=path)
    key = public_key if public_key is not None else _header_key(header, path)
    if key is not None:
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), _HASHES[alg]())
        except (InvalidSignature, ValueError, TypeError):
            raise XAPIValidationError("the JWS signature does not verify", path=path) from None
    if not statements_match(payload, stmt):
        raise XAPIValidationError("the signed statement (JWS payload) differs from the statement received",
                                  path=path)


def sign_statement(stmt: dict, private_key: rsa.RSAPrivateKey, *, alg: str = "RS256",
                   x5c: list[str] | None = None) -> str:
    """Sign ``stmt`` (without its signature attachment) and return the JWS compact string."""
    if alg not in _HASHES:
        raise ValueError("alg must be RS256, RS384 or RS512")
    header: dict = {"alg": alg}
    if x5c:
        header["x5c"] = list(x5c)
    h = _b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    p = _b64url_encode(json.dumps(stmt, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    signature = private_key.sign(f"{h}.{p}".encode("ascii"), padding.PKCS1v15(), _HASHES[alg]())
    return f"{h}.{p}.{_b64url_encode(signature)}"
