"""Statement validation, strict and complete, section by section of the specification.

The rule groups below follow xAPI 1.0.3 (``adlnet/xAPI-Spec``, ``xAPI-Data.md``; cited as
"Data 2.4.2 Actor" etc.) and IEEE 9274.1.1-2023 (xAPI 2.0.0). Every function raises
:class:`lms.xapi.errors.XAPIValidationError` with ``path`` naming the property at fault
(``"actor.mbox"``, ``"context.contextActivities.parent[0].id"``) and, from
:func:`validate_statement`, ``statement_index``. Nothing here imports Flask or touches the
database: these are pure functions on the decoded JSON, fast enough for the LRS's hot path
(regexes precompiled, allowed-key sets frozen, no per-call allocations beyond the path strings).
Validation never mutates its input.

Versions. ``parse_version_header`` maps every 1.0.x header (and "1.0") to the family "1.0.3"
and every 2.0.x header (and "2.0") to "2.0.0"; the functions below take that family name.

Assumptions made where the specification leaves room (or where the 2.0.0 text is IEEE's, which
this module follows from the published differences rather than a verbatim copy):

* 2.0.0 (IEEE 9274.1.1) differences applied: ``context.contextAgents`` and
  ``context.contextGroups`` exist only in 2.0.0 (in 1.0.3 they are unknown properties);
  ``timestamp`` and ``stored`` must be RFC 3339 date-times *with* a time-zone offset (``T``,
  ``t`` or a space between date and time, as RFC 3339 5.6 allows and the ADL 2.0 conformance
  suite tests); 1.0.3 accepts any ISO 8601 calendar date-time (extended or basic, ``T``),
  zone optional, read as UTC. A statement's ``version`` property must be 1.0 or 1.0.x under
  1.0.3 (Data 2.4.10, conformance XAPI-00101); under 2.0.0 it may be 2.0[.x] *or* 1.0[.x]:
  a 2.0.0 LRS keeps accepting statements of the 1.0 data model (e.g. forwarded ones), as the
  2.0.0 reference schema (yetanalytics/xapi-schema) and the ADL 2.0 suite do. What 2.0.0
  adds is refused under 1.0.3.
  The alternate request syntax (removed in 2.0.0) is the resource layer's business.
* 2.3.2 Voiding: a statement with the verb ``.../voided`` must have a StatementRef object.
* Communication 2.1.2: a batch must not contain the same statement id twice.
* ``-00:00`` (and ``-0000``, ``-00``) offsets are refused in both versions (RFC 3339 4.3, the
  profile Data 4.5 recommends: "unknown local offset" is not a point in time).
* Seconds of 60 (leap seconds) and the hour 24 are refused so that every accepted timestamp
  can be parsed by ``datetime`` (see :func:`parse_timestamp`).
* An anonymous Group must have at least one member (a Group with no identifier and no members
  identifies nothing). Identified groups may list members or not.
* UUIDs must have the 8-4-4-4-12 hex form of RFC 4122; the variant and version nibbles are not
  checked (statement ids from older clients use other variants).
* IRIs: an RFC 3987 absolute IRI (scheme, then no spaces, controls or ``<>"{}|\\^```, and
  well-formed percent escapes); IRLs (``moreInfo``, ``homePage``, ``fileUrl``) must in
  addition have an authority (``scheme://host...``). ``openid`` is an IRI.
* ``correctResponsesPattern`` is checked to be an array of strings only; its per-interaction
  micro-syntax (``[,]``, ``[:]``, ``{case_matters=...}``) is not enforced, the spec says the
  LRS "SHOULD NOT" reject on it.
* Language maps must have at least one entry (ADL conformance XAPI-00001); their values are
  strings; keys are well-formed RFC 5646 tags (see :mod:`lms.xapi.langtags`).
* U+0000 and unpaired surrogates are refused in every string, extension values included
  (RFC 7493; PostgreSQL jsonb cannot store U+0000). This is the one place where a value inside
  ``extensions`` can be refused (Data 4.1 says the LRS must not reject on extension values):
  a clear 400 is better than a statement the store cannot hold. NaN/Infinity and non-JSON
  Python values (from the recorder) are refused there too: they are not JSON.
* Durations follow ISO 8601:2004 4.4.3.2 strictly: the example ``P16559.14S`` in Data 4.6
  (seconds without ``T``) is refused; ``PT16559.14S`` is fine.
* ``null`` is refused wherever a property is defined (Data 2.2: properties SHALL NOT be null);
  inside extension values any JSON is allowed.
* Numbers are JSON numbers: booleans are refused and NaN/Infinity too.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from lms.xapi.errors import XAPIValidationError
from lms.xapi.langtags import is_well_formed

__all__ = [
    "SUPPORTED_VERSIONS",
    "VERSION_1",
    "VERSION_2",
    "parse_version_header",
    "parse_timestamp",
    "validate_statement",
    "validate_statements",
    "validate_actor",
    "validate_agent",
    "validate_group",
    "validate_activity_id",
    "validate_iri",
    "validate_irl",
    "validate_uuid",
    "validate_language_map",
    "validate_language_tag",
    "validate_duration",
    "validate_timestamp",
    "validate_extensions",
    "validate_attachment",
    "SIGNATURE_USAGE_TYPE",
]

VERSION_1 = "1.0.3"
VERSION_2 = "2.0.0"
#: The versions the LRS speaks, as the About resource lists them (Communication 2.8).
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")

SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"
VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_HEADER_RE = re.compile(r"^(1|2)\.0(?:\.(\d{1,9}))?\Z", re.ASCII)
_STMT_VERSION_1_RE = re.compile(r"^1\.0(?:\.\d{1,9})?\Z", re.ASCII)
_STMT_VERSION_2_RE = re.compile(r"^(?:1|2)\.0(?:\.\d{1,9})?\Z", re.ASCII)

# Known version strings -> True for the 2.0.0 family, False for 1.0.3 (avoids re-parsing).
_IS_V2 = {VERSION_1: False, VERSION_2: True}


def _fail(message: str, path: str | None) -> None:
    raise XAPIValidationError(message, path=path)


def _v2(version: str) -> bool:
    try:
        return _IS_V2[version]
    except (KeyError, TypeError):
        return parse_version_header(version) == VERSION_2


# ---------------------------------------------------------------------------------------------
# Communication 3.3 "Versioning": the X-Experience-API-Version header
# ---------------------------------------------------------------------------------------------
def parse_version_header(value: str | None) -> str:
    """Normalise an ``X-Experience-API-Version`` header to the rule family "1.0.3" or "2.0.0".

    1.0.3 Communication 3.3: the header is required; "1.0" is read as "1.0.0"; any 1.0.x is
    served with 1.0.3's rules (patch versions are compatible). 2.0 and 2.0.x -> "2.0.0".
    Anything else (missing, 0.95, 1.1, 3.0) raises ``XAPIValidationError``.
    """
    if value is None:
        # Both specifications (1.0.3 Communication 3.3, IEEE 9274.1.1 "Versioning") require 400
        # here; the reply is labelled 1.0.3 (see lms.xapi.http.add_common_headers).
        _fail("The X-Experience-API-Version header is required: send 1.0.3 (or 1.0.0 to 1.0.2) or 2.0.0",
              "X-Experience-API-Version")
    m = _HEADER_RE.match(value.strip()) if isinstance(value, str) else None
    if m is None:
        _fail(f"Unsupported xAPI version {value!r}; supported: 1.0.0 to 1.0.3 and 2.0.0",
              "X-Experience-API-Version")
    return VERSION_2 if m.group(1) == "2" else VERSION_1


# ---------------------------------------------------------------------------------------------
# Shared value types
# ---------------------------------------------------------------------------------------------
# Data 4.3 / 3.1: IRI (RFC 3987). Absolute: a scheme, ':', then IRI characters.
_IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]+\Z")
_BAD_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_IRL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]+")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}\Z")
# Data 2.4.2.3: mbox is "mailto:" followed by an email address (RFC 5322 addr-spec, simplified
# to what mail systems accept: a dot-atom local part and a dotted host name).
_MBOX_RE = re.compile(
    r"^(?!.*[\s\ud800-\udfff])mailto:[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\uffff]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\uffff]+)*"
    r"@(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\-\u0080-\uffff]{0,61}[A-Za-z0-9\u0080-\uffff])?\.)*"
    r"[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\-\u0080-\uffff]{0,61}[A-Za-z0-9\u0080-\uffff])?\Z"
)
# Data 4.6 ISO 8601 durations, 4.4.3.2 format only (the alternative format is forbidden).
_DURATION_RE = re.compile(
    r"^P(?!\Z)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?\Z",
    re.ASCII,
)
_DURATION_WEEKS_RE = re.compile(r"^P\d+(?:[.,]\d+)?W\Z", re.ASCII)
# Data 4.5 timestamps. 1.0.3: ISO 8601 calendar date-time, extended or basic format, seconds
# and fraction optional, zone optional. 2.0.0: RFC 3339 date-time (zone required).
_TS_EXT_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?\Z",
    re.ASCII,
)
_TS_BASIC_RE = re.compile(
    r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?:\d{2})?)?\Z",
    re.ASCII,
)
_TS_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})\Z",
    re.ASCII,
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# Data 2.4.11 attachments: sha2 is the hex SHA-224/256/384/512 of the content.
_SHA2_RE = re.compile(r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})\Z")
# RFC 2046 / 6838 media type, with optional parameters.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_CONTENT_TYPE_RE = re.compile(
    rf"^{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"(?:[^\"\\]|\\.)*\"))*\s*\Z"
)


# RFC 8259 8.2 / RFC 7493 (I-JSON) 2.1: strings are sequences of Unicode scalar values, so a
# lone surrogate (which json.loads lets through from "\\ud800") is refused; so is U+0000, which
# PostgreSQL's jsonb cannot store. Free-text strings are checked by _str and language maps,
# extension values by a walk; every other string must match a pattern that excludes both.
_BAD_TEXT_RE = re.compile("[\x00\ud800-\udfff]")
_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_ok(value) -> bool:
    """True if ``value`` is plain JSON with no bad characters (fast: builds no paths)."""
    t = type(value)
    if t is str:
        return _BAD_TEXT_RE.search(value) is None
    if t is dict:
        for key, item in value.items():
            if type(key) is not str or _BAD_TEXT_RE.search(key) or not _json_ok(item):
                return False
        return True
    if t is list:
        for item in value:
            if not _json_ok(item):
                return False
        return True
    if t is float:
        return math.isfinite(value)
    return t in _JSON_SCALARS


def _find_bad_value(value, path: str) -> None:
    """Walk a JSON value and fail at the first string with bad characters or non-JSON value."""
    t = type(value)
    if t is str:
        if _BAD_TEXT_RE.search(value):
            _fail("strings must not contain U+0000 or unpaired surrogates", path)
    elif t is dict:
        for key, item in value.items():
            child = _join(path, key) if type(key) is str else path
            if type(key) is not str:
                _fail("object keys must be strings", path)
            if _BAD_TEXT_RE.search(key):
                _fail("property names must not contain U+0000 or unpaired surrogates", child)
            _find_bad_value(item, child)
    elif t is list:
        for i, item in enumerate(value):
            _find_bad_value(item, f"{path}[{i}]")
    elif t is float:
        if not math.isfinite(value):
            _fail("numbers must be finite", path)
    elif t not in _JSON_SCALARS:
        _fail(f"not a JSON value ({t.__name__})", path)


def _str(value, path: str) -> None:
    if type(value) is not str:
        _fail("must be a string", path)
    if _BAD_TEXT_RE.search(value):
        _fail("strings must not contain U+0000 or unpaired surrogates", path)


def _bool(value, path: str) -> None:
    if type(value) is not bool:
        _fail("must be true or false", path)


def _number(value, path: str) -> float:
    t = type(value)
    if t is int:
        return value
    if t is float and math.isfinite(value):
        return value
    _fail("must be a number", path)


def _object(value, path: str, allowed: frozenset) -> None:
    """A JSON object whose keys are all in ``allowed`` and whose values are not null.

    Data 2.2 Formatting Requirements: the LRS rejects null values (except inside extensions),
    keys whose case differs from the specification's, and keys it does not allow.
    """
    if type(value) is not dict:
        _fail("must be a JSON object", path)
    for key, item in value.items():
        if key not in allowed:
            _fail(f"unknown property {key!r}", f"{path}.{key}" if path else str(key))
        if item is None:
            _fail("must not be null", f"{path}.{key}" if path else key)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate_iri(value, path: str) -> None:
    """An absolute IRI (RFC 3987): ``scheme:rest`` without spaces or forbidden characters."""
    if type(value) is not str:
        _fail("must be an IRI string", path)
    if _IRI_RE.match(value) is None or (("%" in value) and _BAD_PCT_RE.search(value)):
        _fail(f"{value!r} is not a valid absolute IRI", path)


def validate_irl(value, path: str) -> None:
    """An IRL: an IRI that locates something (``scheme://authority...``)."""
    validate_iri(value, path)
    if _IRL_RE.match(value) is None:
        _fail(f"{value!r} is not a resolvable IRL (scheme://host...)", path)


def validate_activity_id(iri, path: str) -> None:
    """Data 2.4.4.1: an Activity id is an IRI (an LRS must not treat it as anything else)."""
    validate_iri(iri, path)


def validate_uuid(value, path: str) -> None:
    """Data 2.4.1 / 4.4: a UUID in its RFC 4122 string form (8-4-4-4-12 hex digits)."""
    if type(value) is not str or _UUID_RE.match(value) is None:
        _fail(f"{value!r} is not a UUID", path)


def validate_language_tag(tag) -> bool:
    """True if ``tag`` is a well-formed RFC 5646 (BCP 47) language tag."""
    return is_well_formed(tag) if type(tag) is str else False


# Data 4.2 Language Maps
def validate_language_map(obj, path: str) -> None:
    """Data 4.2: a non-empty JSON object of RFC 5646 language tag -> string.

    Data 2.2 "MUST reject ... an empty object" as the ADL conformance suite reads it (XAPI-00001,
    "A Language Map ... has at least 1 entry"): an empty map is refused.
    """
    if type(obj) is not dict:
        _fail("must be a language map (JSON object of language tag -> string)", path)
    if not obj:
        _fail("a language map must have at least one entry", path)
    for tag, text in obj.items():
        if not is_well_formed(tag):
            _fail(f"{tag!r} is not a valid RFC 5646 language tag", f"{path}.{tag}")
        if type(text) is not str:
            _fail("must be a string", f"{path}.{tag}")
        if _BAD_TEXT_RE.search(text):
            _fail("strings must not contain U+0000 or unpaired surrogates", f"{path}.{tag}")


# Data 4.6 Durations
def validate_duration(value, path: str) -> None:
    """Data 4.6: an ISO 8601:2004 4.4.3.2 duration (``PT1H30M``, ``P3D``, ``PT4.5S``, ``P2W``)."""
    if type(value) is not str:
        _fail("must be an ISO 8601 duration string", path)
    if _DURATION_WEEKS_RE.match(value):
        return
    m = _DURATION_RE.match(value)
    if m is None:
        _fail(f"{value!r} is not an ISO 8601 duration", path)
    # Only the lowest-order component present may carry a decimal fraction.
    present = [g for g in m.groups() if g is not None]
    for part in present[:-1]:
        if "." in part or "," in part:
            _fail(f"{value!r}: only the smallest unit of a duration may have a fraction", path)


# Data 4.5 Timestamps
def _match_timestamp(value, v2: bool):
    if type(value) is not str:
        return None
    if v2:
        return _TS_RFC3339_RE.match(value)
    return _TS_EXT_RE.match(value) or _TS_BASIC_RE.match(value)


def _timestamp_parts(value, path: str, v2: bool):
    m = _match_timestamp(value, v2)
    if m is None:
        if v2 and type(value) is str and (_TS_EXT_RE.match(value) or _TS_BASIC_RE.match(value)):
            _fail(f"{value!r}: xAPI 2.0.0 timestamps must be RFC 3339 with a time zone offset", path)
        _fail(f"{value!r} is not an ISO 8601 timestamp", path)
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    year, month, day, hour, minute = int(year), int(month), int(day), int(hour), int(minute)
    second = int(second) if second else 0
    if not (1 <= month <= 12) or not (1 <= day <= _DAYS[month - 1]) or (
        month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
    ):
        _fail(f"{value!r} is not a calendar date", path)
    if year < 1 or hour > 23 or minute > 59 or second > 59:
        _fail(f"{value!r} is not a valid time of day", path)
    offset = 0
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:4] or 0)
        if oh > 23 or om > 59:
            _fail(f"{value!r} has an invalid time zone offset", path)
        if zone[0] == "-" and oh == 0 and om == 0:
            _fail(f"{value!r}: the offset -00:00 is not allowed", path)
        offset = (oh * 60 + om) * (-1 if zone[0] == "-" else 1)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if offset and year in (1, 9999):  # the instant in UTC must still be a representable date
        try:
            datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc) - timedelta(minutes=offset)
        except OverflowError:
            _fail(f"{value!r} is out of range", path)
    return year, month, day, hour, minute, second, micro, offset


def validate_timestamp(value, path: str, version: str = VERSION_1) -> None:
    """Data 4.5: an ISO 8601 timestamp; under 2.0.0 an RFC 3339 one with a zone offset."""
    _timestamp_parts(value, path, _v2(version))


def parse_timestamp(value: str, version: str = VERSION_1, path: str = "timestamp") -> datetime:
    """Validate and parse a timestamp into an aware UTC ``datetime`` (no zone -> UTC).

    Sub-microsecond digits are truncated (the spec asks for millisecond precision).
    """
    year, month, day, hour, minute, second, micro, offset = _timestamp_parts(value, path, _v2(version))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc) - timedelta(minutes=offset)


# Data 4.1 Extensions
def validate_extensions(obj, path: str) -> None:
    """Data 4.1: a JSON object whose keys are IRIs; the values may be any JSON value."""
    if type(obj) is not dict:
        _fail("extensions must be a JSON object keyed by IRIs", path)
    for key, value in obj.items():
        validate_iri(key, f"{path}.{key}")
        if not _json_ok(value):
            _find_bad_value(value, f"{path}.{key}")


# ---------------------------------------------------------------------------------------------
# Data 2.4.2 Actor (2.4.2.1 Agent, 2.4.2.2 Group, 2.4.2.3 Inverse Functional Identifier)
# ---------------------------------------------------------------------------------------------
_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = frozenset(("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"))
_GROUP_KEYS = frozenset(("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member"))
_ACCOUNT_KEYS = frozenset(("homePage", "name"))


def _ifis(obj: dict, path: str) -> int:
    """Check each inverse functional identifier present; return how many there are."""
    count = 0
    if "mbox" in obj:
        count += 1
        mbox = obj["mbox"]
        if type(mbox) is not str or _MBOX_RE.match(mbox) is None:
            _fail("mbox must be 'mailto:' followed by an email address", _join(path, "mbox"))
    if "mbox_sha1sum" in obj:
        count += 1
        sha = obj["mbox_sha1sum"]
        if type(sha) is not str or _SHA1_RE.match(sha) is None:
            _fail("mbox_sha1sum must be 40 hexadecimal digits (SHA-1 of the mailto IRI)",
                  _join(path, "mbox_sha1sum"))
    if "openid" in obj:
        count += 1
        validate_iri(obj["openid"], _join(path, "openid"))
    if "account" in obj:
        count += 1
        account = obj["account"]
        apath = _join(path, "account")
        _object(account, apath, _ACCOUNT_KEYS)
        if "homePage" not in account:
            _fail("an account needs a homePage", _join(apath, "homePage"))
        validate_irl(account["homePage"], _join(apath, "homePage"))
        if "name" not in account:
            _fail("an account needs a name", _join(apath, "name"))
        _str(account["name"], _join(apath, "name"))
        if not account["name"]:
            _fail("an account name must not be empty", _join(apath, "name"))
    return count


def _agent(obj, path: str, require_type: bool = False) -> None:
    # 2.4.2.1: objectType "Agent" (optional, except when the Agent is a statement's object),
    # name, and exactly one IFI.
    if type(obj) is not dict:
        _fail("must be a JSON object", path)
    object_type = obj.get("objectType")
    if object_type is None:
        if require_type:
            _fail("objectType 'Agent' is required here", _join(path, "objectType"))
    elif object_type != "Agent":
        _fail("objectType must be 'Agent'", _join(path, "objectType"))
    _object(obj, path, _AGENT_KEYS)
    if "name" in obj:
        _str(obj["name"], _join(path, "name"))
    count = _ifis(obj, path)
    if count != 1:
        _fail("an Agent must have exactly one of mbox, mbox_sha1sum, openid, account"
              + (f" (found {count})" if count else ""), path)


def _group(obj, path: str) -> None:
    # 2.4.2.2: objectType "Group" (required); anonymous groups (no IFI) list their members;
    # identified groups have exactly one IFI and may list members; members are Agents.
    if type(obj) is not dict:
        _fail("must be a JSON object", path)
    if obj.get("objectType") != "Group":
        _fail("objectType must be 'Group'", _join(path, "objectType"))
    _object(obj, path, _GROUP_KEYS)
    if "name" in obj:
        _str(obj["name"], _join(path, "name"))
    count = _ifis(obj, path)
    if count > 1:
        _fail("a Group must have at most one of mbox, mbox_sha1sum, openid, account", path)
    mpath = _join(path, "member")
    if "member" in obj:
        members = obj["member"]
        if type(members) is not list:
            _fail("member must be an array of Agents", mpath)
        for i, member in enumerate(members):
            ipath = f"{mpath}[{i}]"
            if type(member) is dict and member.get("objectType") == "Group":
                _fail("a Group's members must be Agents, not Groups", _join(ipath, "objectType"))
            _agent(member, ipath)
        if count == 0 and not members:
            _fail("an anonymous Group must list at least one member", mpath)
    elif count == 0:
        _fail("an anonymous Group (no identifier) must have a member list", mpath)


def validate_agent(obj, version: str = VERSION_1, path: str = "agent") -> None:
    """Data 2.4.2.1: an Agent with exactly one inverse functional identifier."""
    _agent(obj, path)


def validate_group(obj, version: str = VERSION_1, path: str = "group") -> None:
    """Data 2.4.2.2: an anonymous or identified Group whose members are Agents."""
    _group(obj, path)


def _actor(obj, path: str) -> None:
    if type(obj) is dict and obj.get("objectType") == "Group":
        _group(obj, path)
    else:
        _agent(obj, path)


def validate_actor(obj, version: str = VERSION_1, path: str = "actor") -> None:
    """Data 2.4.2: an Agent (objectType absent or "Agent") or a Group (objectType "Group")."""
    _actor(obj, path)


# ---------------------------------------------------------------------------------------------
# Data 2.4.3 Verb
# ---------------------------------------------------------------------------------------------
_VERB_KEYS = frozenset(("id", "display"))


def _verb(obj, path: str) -> None:
    _object(obj, path, _VERB_KEYS)
    if "id" not in obj:
        _fail("a verb needs an id", _join(path, "id"))
    validate_iri(obj["id"], _join(path, "id"))
    if "display" in obj:
        validate_language_map(obj["display"], _join(path, "display"))


# ---------------------------------------------------------------------------------------------
# Data 2.4.4 Object: 2.4.4.1 Activity (and its Definition, interaction activities)
# ---------------------------------------------------------------------------------------------
_ACTIVITY_KEYS = frozenset(("objectType", "id", "definition"))
_DEFINITION_KEYS = frozenset((
    "name", "description", "type", "moreInfo", "extensions", "interactionType",
    "correctResponsesPattern", "choices", "scale", "source", "target", "steps",
))
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
# Data 2.4.4.1 "Interaction Activities": the component lists each interactionType may use.
_INTERACTION_COMPONENTS = {
    "true-false": frozenset(),
    "choice": frozenset(("choices",)),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "matching": frozenset(("source", "target")),
    "performance": frozenset(("steps",)),
    "sequencing": frozenset(("choices",)),
    "likert": frozenset(("scale",)),
    "numeric": frozenset(),
    "other": frozenset(),
}
_COMPONENT_KEYS = frozenset(("id", "description"))


def _definition(obj, path: str) -> None:
    # Data 2.4.4.1 (IEEE 9274.1.1 likewise): every property of a definition is optional, so an
    # empty definition ``{}`` is valid.
    _object(obj, path, _DEFINITION_KEYS)
    if "name" in obj:
        validate_language_map(obj["name"], _join(path, "name"))
    if "description" in obj:
        validate_language_map(obj["description"], _join(path, "description"))
    if "type" in obj:
        validate_iri(obj["type"], _join(path, "type"))
    if "moreInfo" in obj:
        validate_irl(obj["moreInfo"], _join(path, "moreInfo"))
    if "extensions" in obj:
        validate_extensions(obj["extensions"], _join(path, "extensions"))
    interaction = obj.get("interactionType")
    if interaction is None:
        for key in ("correctResponsesPattern",) + _COMPONENT_LISTS:
            if key in obj:
                _fail(f"{key} needs an interactionType", _join(path, "interactionType"))
        return
    allowed = _INTERACTION_COMPONENTS.get(interaction) if type(interaction) is str else None
    if allowed is None:
        _fail(f"interactionType must be one of {', '.join(_INTERACTION_COMPONENTS)}",
              _join(path, "interactionType"))
    if "correctResponsesPattern" in obj:
        crp = obj["correctResponsesPattern"]
        cpath = _join(path, "correctResponsesPattern")
        if type(crp) is not list:
            _fail("correctResponsesPattern must be an array of strings", cpath)
        for i, pattern in enumerate(crp):
            _str(pattern, f"{cpath}[{i}]")
    for key in _COMPONENT_LISTS:
        if key not in obj:
            continue
        lpath = _join(path, key)
        if key not in allowed:
            _fail(f"{key} is not used by interactionType {interaction!r}", lpath)
        components = obj[key]
        if type(components) is not list:
            _fail(f"{key} must be an array of interaction components", lpath)
        seen = set()
        for i, component in enumerate(components):
            ipath = f"{lpath}[{i}]"
            _object(component, ipath, _COMPONENT_KEYS)
            if "id" not in component:
                _fail("an interaction component needs an id", _join(ipath, "id"))
            cid = component["id"]
            _str(cid, _join(ipath, "id"))
            if not cid:  # (whitespace is only a SHOULD NOT, so it is accepted)
                _fail("an interaction component id must not be empty", _join(ipath, "id"))
            if cid in seen:
                _fail(f"duplicate interaction component id {cid!r}", _join(ipath, "id"))
            seen.add(cid)
            if "description" in component:
                validate_language_map(component["description"], _join(ipath, "description"))


def _activity(obj, path: str) -> None:
    if type(obj) is not dict:
        _fail("must be a JSON object", path)
    if "objectType" in obj and obj["objectType"] != "Activity":
        _fail("objectType must be 'Activity'", _join(path, "objectType"))
    _object(obj, path, _ACTIVITY_KEYS)
    if "id" not in obj:
        _fail("an Activity needs an id", _join(path, "id"))
    validate_activity_id(obj["id"], _join(path, "id"))
    if "definition" in obj:
        _definition(obj["definition"], _join(path, "definition"))


# Data 2.4.4.3 Statement Reference
_STATEMENT_REF_KEYS = frozenset(("objectType", "id"))


def _statement_ref(obj, path: str) -> None:
    if type(obj) is not dict:
        _fail("must be a JSON object", path)
    if obj.get("objectType") != "StatementRef":
        _fail("objectType must be 'StatementRef'", _join(path, "objectType"))
    _object(obj, path, _STATEMENT_REF_KEYS)
    if "id" not in obj:
        _fail("a StatementRef needs an id", _join(path, "id"))
    validate_uuid(obj["id"], _join(path, "id"))


_OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")


def _object_of(obj, path: str, v2: bool, in_sub: bool) -> None:
    # 2.4.4: objectType defaults to Activity; 2.4.4.2: Agents and Groups as objects say what they are.
    if type(obj) is not dict:
        _fail("must be a JSON object", path)
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        _activity(obj, path)
    elif object_type == "Agent":
        _agent(obj, path, require_type=True)
    elif object_type == "Group":
        _group(obj, path)
    elif object_type == "StatementRef":
        _statement_ref(obj, path)
    elif object_type == "SubStatement":
        # 2.4.4.3: a SubStatement MUST NOT contain a SubStatement.
        if in_sub:
            _fail("a SubStatement must not contain a SubStatement", _join(path, "objectType"))
        _statement_body(obj, path, v2, sub=True)
    else:
        _fail(f"objectType must be one of {', '.join(_OBJECT_TYPES)}", _join(path, "objectType"))


# ---------------------------------------------------------------------------------------------
# Data 2.4.5 Result
# ---------------------------------------------------------------------------------------------
_RESULT_KEYS = frozenset(("score", "success", "completion", "response", "duration", "extensions"))
_SCORE_KEYS = frozenset(("scaled", "raw", "min", "max"))


def _result(obj, path: str) -> None:
    _object(obj, path, _RESULT_KEYS)
    if "score" in obj:
        score = obj["score"]
        spath = _join(path, "score")
        _object(score, spath, _SCORE_KEYS)
        # 2.4.5.1 Score: scaled in [-1, 1]; min < max; min <= raw <= max.
        if "scaled" in score:
            scaled = _number(score["scaled"], _join(spath, "scaled"))
            if not -1 <= scaled <= 1:
                _fail("scaled must be between -1 and 1", _join(spath, "scaled"))
        low = _number(score["min"], _join(spath, "min")) if "min" in score else None
        high = _number(score["max"], _join(spath, "max")) if "max" in score else None
        if low is not None and high is not None and not low < high:
            _fail("max must be greater than min", _join(spath, "max"))
        if "raw" in score:
            raw = _number(score["raw"], _join(spath, "raw"))
            if low is not None and raw < low:
                _fail("raw must not be less than min", _join(spath, "raw"))
            if high is not None and raw > high:
                _fail("raw must not be greater than max", _join(spath, "raw"))
    if "success" in obj:
        _bool(obj["success"], _join(path, "success"))
    if "completion" in obj:
        _bool(obj["completion"], _join(path, "completion"))
    if "response" in obj:
        _str(obj["response"], _join(path, "response"))
    if "duration" in obj:
        validate_duration(obj["duration"], _join(path, "duration"))
    if "extensions" in obj:
        validate_extensions(obj["extensions"], _join(path, "extensions"))


# ---------------------------------------------------------------------------------------------
# Data 2.4.6 Context (and IEEE 9274.1.1 contextAgents / contextGroups)
# ---------------------------------------------------------------------------------------------
_CONTEXT_KEYS_1 = frozenset((
    "registration", "instructor", "team", "contextActivities", "revision", "platform",
    "language", "statement", "extensions",
))
_CONTEXT_KEYS_2 = _CONTEXT_KEYS_1 | {"contextAgents", "contextGroups"}
_CONTEXT_ACTIVITIES_KEYS = frozenset(("parent", "grouping", "category", "other"))
_CONTEXT_AGENT_KEYS = frozenset(("objectType", "agent", "relevantTypes"))
_CONTEXT_GROUP_KEYS = frozenset(("objectType", "group", "relevantTypes"))


def _relevant_types(value, path: str) -> None:
    if type(value) is not list or not value:
        _fail("relevantTypes must be a non-empty array of IRIs", path)
    for i, iri in enumerate(value):
        validate_iri(iri, f"{path}[{i}]")



def _context_members(items, cpath: str, object_type: str, member: str, keys, check_member) -> None:
    """2.0.0 context.contextAgents / contextGroups: arrays of typed wrappers around an Agent / Group."""
    if type(items) is not list:
        _fail(f"{object_type}s must be an array of {object_type} objects", cpath)
    for i, item in enumerate(items):
        ipath = f"{cpath}[{i}]"
        _object(item, ipath, keys)
        if item.get("objectType") != object_type:
            _fail(f"objectType must be '{object_type}'", _join(ipath, "objectType"))
        if member not in item:
            _fail(f"a {object_type} needs a{'n' if member == 'agent' else ''} {member}", _join(ipath, member))
        check_member(item[member], _join(ipath, member))
        if "relevantTypes" in item:
            _relevant_types(item["relevantTypes"], _join(ipath, "relevantTypes"))


def _context(obj, path: str, v2: bool, object_is_activity: bool) -> None:
    _object(obj, path, _CONTEXT_KEYS_2 if v2 else _CONTEXT_KEYS_1)
    if "registration" in obj:
        validate_uuid(obj["registration"], _join(path, "registration"))
    if "instructor" in obj:
        _actor(obj["instructor"], _join(path, "instructor"))
    if "team" in obj:  # a Group, which always says so in its objectType
        _group(obj["team"], _join(path, "team"))
    if "contextActivities" in obj:
        ca = obj["contextActivities"]
        capath = _join(path, "contextActivities")
        _object(ca, capath, _CONTEXT_ACTIVITIES_KEYS)
        for key, value in ca.items():
            kpath = f"{capath}.{key}"
            # 2.4.6.2: an Activity or an array of Activities (the LRS returns arrays).
            if type(value) is list:
                for i, activity in enumerate(value):
                    _activity(activity, f"{kpath}[{i}]")
            else:
                _activity(value, kpath)
    # 2.4.6: revision and platform only when the statement's object is an Activity.
    for key in ("revision", "platform"):
        if key in obj:
            _str(obj[key], _join(path, key))
            if not object_is_activity:
                _fail(f"context.{key} may only be used when the object is an Activity",
                      _join(path, key))
    if "language" in obj:
        language = obj["language"]
        if not validate_language_tag(language):
            _fail(f"{language!r} is not a valid RFC 5646 language tag", _join(path, "language"))
    if "statement" in obj:
        _statement_ref(obj["statement"], _join(path, "statement"))
    if "extensions" in obj:
        validate_extensions(obj["extensions"], _join(path, "extensions"))
    if v2:
        if "contextAgents" in obj:
            _context_members(obj["contextAgents"], _join(path, "contextAgents"), "contextAgent", "agent",
                             _CONTEXT_AGENT_KEYS, _agent)
        if "contextGroups" in obj:
            _context_members(obj["contextGroups"], _join(path, "contextGroups"), "contextGroup", "group",
                             _CONTEXT_GROUP_KEYS, _group)


# ---------------------------------------------------------------------------------------------
# Data 2.4.11 Attachments
# ---------------------------------------------------------------------------------------------
_ATTACHMENT_KEYS = frozenset((
    "usageType", "display", "description", "contentType", "length", "sha2", "fileUrl",
))


def _attachment(obj, path: str) -> None:
    _object(obj, path, _ATTACHMENT_KEYS)
    for key in ("usageType", "display", "contentType", "length", "sha2"):
        if key not in obj:
            _fail(f"an attachment needs {key}", _join(path, key))
    validate_iri(obj["usageType"], _join(path, "usageType"))
    validate_language_map(obj["display"], _join(path, "display"))
    if "description" in obj:
        validate_language_map(obj["description"], _join(path, "description"))
    content_type = obj["contentType"]
    if type(content_type) is not str or _CONTENT_TYPE_RE.match(content_type) is None:
        _fail("contentType must be an Internet Media Type (type/subtype)", _join(path, "contentType"))
    length = obj["length"]
    if type(length) is not int or length < 0:
        _fail("length must be a non-negative integer (octets)", _join(path, "length"))
    sha2 = obj["sha2"]
    if type(sha2) is not str or _SHA2_RE.match(sha2) is None:
        _fail("sha2 must be a hex SHA-2 hash (224, 256, 384 or 512 bits)", _join(path, "sha2"))
    if "fileUrl" in obj:
        validate_irl(obj["fileUrl"], _join(path, "fileUrl"))
    # 2.6 Signed Statements: the JWS travels as application/octet-stream.
    if obj["usageType"] == SIGNATURE_USAGE_TYPE and content_type.split(";")[0].strip().lower() != (
        "application/octet-stream"
    ):
        _fail("a signature attachment must have contentType application/octet-stream",
              _join(path, "contentType"))


def validate_attachment(obj, path: str = "attachments[0]") -> None:
    """Data 2.4.11: an attachment's metadata (the raw data travels in multipart/mixed)."""
    _attachment(obj, path)


def _attachments(value, path: str) -> None:
    if type(value) is not list:
        _fail("attachments must be an array", path)
    for i, attachment in enumerate(value):
        _attachment(attachment, f"{path}[{i}]")


# ---------------------------------------------------------------------------------------------
# Data 2.4 Statement properties (2.4.1 id ... 2.4.10 version), 2.4.4.3 SubStatement
# ---------------------------------------------------------------------------------------------
_STATEMENT_KEYS = frozenset((
    "id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
    "version", "attachments",
))
# 2.4.4.3: a SubStatement MUST NOT have id, stored, version or authority.
_SUB_STATEMENT_KEYS = frozenset((
    "objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments",
))


def _authority(obj, path: str) -> None:
    # 2.4.9 Authority: an Agent, or (OAuth 3-legged) an anonymous Group of exactly two Agents.
    if type(obj) is dict and obj.get("objectType") == "Group":
        _group(obj, path)
        members = obj.get("member")
        if _ifis_count(obj) or type(members) is not list or len(members) != 2:
            _fail("a Group authority must be an anonymous Group of exactly two Agents", path)
    else:
        _agent(obj, path)


def _ifis_count(obj: dict) -> int:
    return sum(1 for key in _IFI_KEYS if key in obj)


def _statement_body(stmt, path: str, v2: bool, sub: bool) -> None:
    if type(stmt) is not dict:
        _fail("a statement must be a JSON object", path or None)
    if sub:
        for key in ("id", "stored", "version", "authority"):
            if key in stmt:
                _fail(f"a SubStatement must not have {key}", _join(path, key))
    _object(stmt, path, _SUB_STATEMENT_KEYS if sub else _STATEMENT_KEYS)
    # 2.4.1 id
    if "id" in stmt:
        validate_uuid(stmt["id"], _join(path, "id"))
    # 2.4.2 Actor, 2.4.3 Verb, 2.4.4 Object are required
    for key in ("actor", "verb", "object"):
        if key not in stmt:
            _fail(f"a statement needs {key}", _join(path, key))
    _actor(stmt["actor"], _join(path, "actor"))
    _verb(stmt["verb"], _join(path, "verb"))
    obj = stmt["object"]
    _object_of(obj, _join(path, "object"), v2, in_sub=sub)
    # 2.3.2 Voiding: a voiding statement's object is a StatementRef to the voided statement.
    if not sub and stmt["verb"]["id"] == VERB_VOIDED and obj.get("objectType") != "StatementRef":
        _fail("a voiding statement's object must be a StatementRef", _join(path, "object.objectType"))
    # 2.4.5 Result
    if "result" in stmt:
        _result(stmt["result"], _join(path, "result"))
    # 2.4.6 Context
    if "context" in stmt:
        is_activity = obj.get("objectType", "Activity") == "Activity"
        _context(stmt["context"], _join(path, "context"), v2, is_activity)
    # 2.4.7 Timestamp, 2.4.8 Stored
    if "timestamp" in stmt:
        _timestamp_parts(stmt["timestamp"], _join(path, "timestamp"), v2)
    if "stored" in stmt:
        _timestamp_parts(stmt["stored"], _join(path, "stored"), v2)
    # 2.4.9 Authority
    if "authority" in stmt:
        _authority(stmt["authority"], _join(path, "authority"))
    # 2.4.10 Version: 1.0.x under 1.0.3; 1.0.x or 2.0.x under 2.0.0
    if "version" in stmt:
        version = stmt["version"]
        pattern = _STMT_VERSION_2_RE if v2 else _STMT_VERSION_1_RE
        if type(version) is not str or pattern.match(version) is None:
            _fail("version must be " + ("1.0[.x] or 2.0[.x]" if v2 else "1.0[.x]"), _join(path, "version"))
    # 2.4.11 Attachments
    if "attachments" in stmt:
        _attachments(stmt["attachments"], _join(path, "attachments"))


def validate_statement(stmt: dict, version: str, index: int | None = None) -> None:
    """Validate one statement under ``version`` ("1.0.3" or "2.0.0"); raise on the first fault.

    The error's ``path`` names the property ("actor.mbox") and ``statement_index`` is ``index``.
    """
    v2 = _v2(version)
    try:
        _statement_body(stmt, "", v2, sub=False)
    except XAPIValidationError as exc:
        exc.statement_index = index
        raise
    except RecursionError:  # absurdly nested input cannot reach here through the rules, but be safe
        raise XAPIValidationError("statement is nested too deeply", statement_index=index) from None


def validate_statements(stmts: list, version: str) -> None:
    """Validate a batch (a non-empty array of statements); the first fault names its index."""
    if type(stmts) is not list:
        _fail("expected a statement or an array of statements", None)
    if not stmts:
        _fail("an empty array of statements is not allowed", None)
    v2 = _v2(version)
    family = VERSION_2 if v2 else VERSION_1
    seen_ids: dict = {}
    for i, stmt in enumerate(stmts):
        validate_statement(stmt, family, i)
        # Communication 2.1.2: a batch must not carry the same statement id twice.
        sid = stmt.get("id")
        if sid is not None:
            key = sid.lower()
            if key in seen_ids:
                raise XAPIValidationError(
                    f"the id {sid} is used by statements {seen_ids[key]} and {i} of this batch",
                    path="id", statement_index=i)
            seen_ids[key] = i
