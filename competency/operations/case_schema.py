"""The 1EdTech CASE 1.0 / 1.1 ``CFPackage`` JSON shape, and a small validator for it.

Written from the CASE specification (Information Model and REST/JSON binding, v1p0 and v1p1):
the required members, their JSON types, the association types, the UUID, URI and date formats.
Members the platform does not know are allowed and kept (CASE objects carry ``extensions`` and
vendors add fields). Besides the specification's rules, ``maxLength`` states the lengths the
platform stores, so a long value is a located problem on every database instead of a crash on
PostgreSQL and a silent pass on SQLite.

Every problem is a ``(pointer, message)`` pair; the pointer is an RFC 6901 JSON pointer
(``/CFItems/12/listEnumeration``).
"""
from __future__ import annotations

import datetime as dt
import re

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ASSOCIATION_TYPES = ("isChildOf", "isPeerOf", "isPartOf", "exactMatchOf", "precedes", "isRelatedTo",
                     "replacedBy", "exemplar", "hasSkillLevel", "isTranslationOf")

_uuid = {"type": "string", "pattern": UUID_PATTERN}
_uri = {"type": "string", "format": "uri", "maxLength": 2000}
_datetime = {"type": "string", "format": "date-time"}
_date = {"type": ["string", "null"], "format": "date-or-date-time"}
_str = {"type": "string"}
_strings = {"type": ["array", "string", "null"], "items": {"type": "string"}}
#: ``LinkURI``: a link to another CASE object (identifier, uri, title).
LINK = {"type": "object", "required": ["title", "identifier", "uri"],
        "properties": {"title": _str, "identifier": _uuid, "uri": _uri}}
#: ``LinkGenURI``: an association node, which may be outside CASE (identifier any string).
LINK_GEN = {"type": "object", "required": ["title", "identifier", "uri"],
            "properties": {"title": _str, "identifier": {"type": "string", "maxLength": 64}, "uri": _uri}}
_link_or_null = {"type": ["object", "null"], "required": ["title", "identifier", "uri"],
                 "properties": {"title": _str, "identifier": _uuid, "uri": _uri}}
_extensions = {"type": ["object", "null"]}


def _definition(required=("identifier", "uri", "title", "lastChangeDateTime"), **props):
    return {"type": "object", "required": list(required),
            "properties": {"identifier": _uuid, "uri": _uri, "title": _str, "description": _str,
                           "lastChangeDateTime": _datetime, "hierarchyCode": _str, "extensions": _extensions,
                           **props}}


DOCUMENT = {
    "type": "object", "required": ["identifier", "uri", "creator", "title", "lastChangeDateTime"],
    "properties": {
        "identifier": _uuid, "uri": _uri, "creator": _str,
        # platform column lengths: title 300, publisher 200, version (edition) 40
        "title": {"type": "string", "minLength": 1, "maxLength": 300},
        "lastChangeDateTime": _datetime, "officialSourceURL": {"type": ["string", "null"], "format": "uri"},
        "publisher": {"type": "string", "maxLength": 200}, "description": _str, "subject": _strings,
        "subjectURI": {"type": ["array", "null"], "items": LINK}, "language": _str,
        "version": {"type": "string", "maxLength": 40}, "adoptionStatus": _str, "statusStartDate": _date,
        "statusEndDate": _date, "licenseURI": _link_or_null, "notes": _str, "CFPackageURI": LINK,
        "frameworkType": _str, "caseVersion": _str, "extensions": _extensions,
    },
}
ITEM = {
    "type": "object", "required": ["identifier", "fullStatement", "uri", "lastChangeDateTime"],
    "properties": {
        "identifier": _uuid, "fullStatement": {"type": "string", "minLength": 1}, "alternativeLabel": _str,
        "CFItemType": {"type": "string", "maxLength": 200}, "uri": _uri,
        "humanCodingScheme": {"type": "string", "maxLength": 200}, "listEnumeration": _str,
        "abbreviatedStatement": _str, "conceptKeywords": _strings, "conceptKeywordsURI": _link_or_null,
        "notes": _str, "language": _str, "educationLevel": _strings, "CFItemTypeURI": _link_or_null,
        "licenseURI": _link_or_null, "statusStartDate": _date, "statusEndDate": _date,
        "lastChangeDateTime": _datetime, "CFDocumentURI": LINK, "subject": _strings,
        "subjectURI": {"type": ["array", "null"], "items": LINK}, "extensions": _extensions,
    },
}
ASSOCIATION = {
    "type": "object",
    "required": ["identifier", "associationType", "uri", "originNodeURI", "destinationNodeURI", "lastChangeDateTime"],
    "properties": {
        "identifier": _uuid, "associationType": {"type": "string", "enum": list(ASSOCIATION_TYPES)},
        "sequenceNumber": {"type": ["integer", "null"], "minimum": -2147483648, "maximum": 2147483647},
        "uri": _uri, "originNodeURI": LINK_GEN, "destinationNodeURI": LINK_GEN,
        "CFAssociationGroupingURI": _link_or_null, "lastChangeDateTime": _datetime, "CFDocumentURI": LINK,
        "notes": _str, "extensions": _extensions,
    },
}
DEFINITIONS = {
    "type": "object",
    "properties": {
        "CFConcepts": {"type": "array", "items": _definition(required=("identifier", "uri", "title", "hierarchyCode",
                                                                        "lastChangeDateTime"), keywords=_str)},
        "CFSubjects": {"type": "array", "items": _definition(required=("identifier", "uri", "title", "hierarchyCode",
                                                                        "lastChangeDateTime"))},
        "CFLicenses": {"type": "array", "items": _definition(required=("identifier", "uri", "title", "licenseText",
                                                                        "lastChangeDateTime"), licenseText=_str)},
        "CFItemTypes": {"type": "array", "items": _definition(required=("identifier", "uri", "title", "hierarchyCode",
                                                                         "lastChangeDateTime"),
                                                              typeCode={"type": ["string", "null"]})},
        "CFAssociationGroupings": {"type": "array", "items": _definition()},
    },
}
#: A whole ``CFPackage``.
PACKAGE = {
    "type": "object", "required": ["CFDocument"],
    "properties": {"CFDocument": DOCUMENT, "CFItems": {"type": "array", "items": ITEM},
                   "CFAssociations": {"type": "array", "items": ASSOCIATION}, "CFDefinitions": DEFINITIONS,
                   "CFRubrics": {"type": "array", "items": {"type": "object", "required": ["identifier", "uri"],
                                                            "properties": {"identifier": _uuid, "uri": _uri}}}},
}

_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def escape(token) -> str:
    """One reference token of a JSON pointer (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def _is_type(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _JSON_TYPES[name])


def _datetime_ok(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text or " " in text


def validate(value, schema: dict = PACKAGE, pointer: str = "", problems: list | None = None,
             limit: int = 200) -> list[tuple[str, str]]:
    """Check ``value`` against ``schema``; return ``(pointer, message)`` problems (at most ``limit``)."""
    problems = [] if problems is None else problems
    if len(problems) >= limit:
        return problems
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(_is_type(value, n) for n in names):
            got = "null" if value is None else type(value).__name__.replace("dict", "object").replace(
                "list", "array").replace("str", "string").replace("int", "integer").replace("float", "number")
            problems.append((pointer or "/", f"must be {' or '.join(names)}, not {got}"))
            return problems
    if "enum" in schema and value not in schema["enum"]:
        problems.append((pointer, f"{value!r} is not one of {', '.join(map(str, schema['enum']))}"))
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append((pointer, f"is {len(value)} characters long; at most {schema['maxLength']} are kept"))
        if schema.get("minLength") and len(value.strip()) < schema["minLength"]:
            problems.append((pointer, "must not be empty"))
        if "pattern" in schema and not re.match(schema["pattern"], value):
            problems.append((pointer, f"{value[:80]!r} is not a UUID" if schema["pattern"] == UUID_PATTERN
                             else f"{value[:80]!r} does not match {schema['pattern']}"))
        fmt = schema.get("format")
        if fmt == "uri" and not _URI.match(value):
            problems.append((pointer, f"{value[:80]!r} is not a URI"))
        elif fmt == "date-time" and not _datetime_ok(value):
            problems.append((pointer, f"{value[:40]!r} is not a date-time (2024-05-01T10:00:00+00:00)"))
        elif fmt == "date-or-date-time" and not (_DATE.match(value) or _datetime_ok(value)):
            problems.append((pointer, f"{value[:40]!r} is not a date"))
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
            problems.append((pointer, f"{value} is out of range"))
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                problems.append((pointer or "/", f"lacks the required member {key}"))
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                validate(value[key], sub, f"{pointer}/{escape(key)}", problems, limit)
    if isinstance(value, list) and "items" in schema:
        for n, element in enumerate(value):
            if len(problems) >= limit:
                break
            validate(element, schema["items"], f"{pointer}/{n}", problems, limit)
    return problems


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def nesting_depth(text: str, limit: int) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit`` (checked before parsing, so a
    hostile file cannot exhaust the parser's recursion)."""
    depth = 0
    for m in _TOKEN.finditer(text):
        ch = m.group()[0]
        if ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SCALAR = re.compile(r"[^,\]}\s]+")


def locate(text: str, pointers) -> dict[str, int]:
    """Line numbers of the values at ``pointers`` in the JSON ``text`` (a pointer whose member is
    missing gets the line of its nearest ancestor). Empty for a one-line (minified) file: there a
    line would say nothing, the pointer says it all."""
    import json

    wanted = set()
    for p in pointers:
        while True:
            wanted.add(p)
            if not p or p == "/":
                break
            p = p.rsplit("/", 1)[0]
    if "\n" not in text.strip():
        return {}
    offsets: dict[str, int] = {}

    def value(i: int, pointer: str) -> int:
        i = _WS.match(text, i).end()
        if pointer in wanted or (not pointer and "/" in wanted):
            offsets[pointer or "/"] = i
            if not pointer:
                offsets[""] = i
        descend = any(w.startswith(pointer + "/") for w in wanted) if pointer else True
        c = text[i]
        if c in "{[" and not descend:
            return _skip(i)
        if c == "{":
            i = _WS.match(text, i + 1).end()
            if text[i] == "}":
                return i + 1
            while True:
                m = _STRING.match(text, i)
                key = json.loads(m.group())
                i = _WS.match(text, m.end()).end() + 1  # the colon
                i = _WS.match(text, value(i, f"{pointer}/{escape(key)}")).end()
                if text[i] == ",":
                    i = _WS.match(text, i + 1).end()
                    continue
                return i + 1
        if c == "[":
            i = _WS.match(text, i + 1).end()
            if text[i] == "]":
                return i + 1
            n = 0
            while True:
                i = _WS.match(text, value(i, f"{pointer}/{n}")).end()
                n += 1
                if text[i] == ",":
                    i += 1
                    continue
                return i + 1
        if c == '"':
            return _STRING.match(text, i).end()
        return _SCALAR.match(text, i).end()

    def _skip(i: int) -> int:
        depth, in_string, escaped = 0, False, False
        for j in range(i, len(text)):
            ch = text[j]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
        return len(text)

    start = 1 if text.startswith("\ufeff") else 0
    try:
        value(start, "")
    except (IndexError, AttributeError, ValueError, RecursionError):
        pass  # the text parsed as JSON already; a scanner miss only costs the line numbers
    lines = {}
    for p in pointers:
        q = p
        while q not in offsets and q not in ("", "/"):
            q = q.rsplit("/", 1)[0]
        if q in offsets:
            lines[p] = text.count("\n", 0, offsets[q]) + 1
    return lines
