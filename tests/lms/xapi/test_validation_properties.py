"""Property-based tests of statement validation (hypothesis).

- any random JSON, and any valid statement with one value replaced by random JSON, either
  passes or raises ``XAPIValidationError`` -- never another exception;
- every statement drawn from the valid-statement strategies (1.0.3 and 2.0.0) passes;
- validation never mutates its input.
"""
from __future__ import annotations

import copy
import hashlib
import json
import string
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.xapi.errors import XAPIValidationError
from lms.xapi.validation import parse_timestamp, validate_statement, validate_statements, validate_timestamp

V1, V2 = "1.0.3", "2.0.0"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# Valid building blocks
# ---------------------------------------------------------------------------------------------
# Storable text: no U+0000, no surrogates (validation refuses both, see test_validation).
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def texts(max_size=20, min_size=0):
    return st.text(alphabet=_chars, min_size=min_size, max_size=max_size)


_label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8)
_path_text = st.text(alphabet=string.ascii_letters + string.digits + "-._~中文é", min_size=0, max_size=10)


@st.composite
def irls(draw):
    scheme = draw(st.sampled_from(["http", "https"]))
    host = ".".join(draw(st.lists(_label, min_size=1, max_size=3)))
    segments = draw(st.lists(_path_text, max_size=3))
    query = draw(st.one_of(st.just(""), _label.map(lambda q: f"?q={q}")))
    fragment = draw(st.one_of(st.just(""), _label.map(lambda f: f"#{f}")))
    return f"{scheme}://{host}.example/" + "/".join(segments) + query + fragment


iris = st.one_of(irls(), st.uuids().map(lambda u: f"urn:uuid:{u}"), _label.map(lambda x: f"tag:example.com,2026:{x}"))
uuids = st.uuids().map(str)
lang_tags = st.one_of(
    st.sampled_from(["en", "en-US", "en-GB", "zh-CN", "zh-Hans", "zh-Hant-TW", "es-419", "de-CH-1901", "fr",
                     "x-private", "i-klingon", "sr-Latn-RS", "en-a-bbb-x-priv"]),
    st.tuples(st.text(string.ascii_lowercase, min_size=2, max_size=3),
              st.one_of(st.just(""), st.text(string.ascii_uppercase, min_size=2, max_size=2).map(lambda r: "-" + r)))
    .map("".join),
)
lang_maps = st.dictionaries(lang_tags, texts(max_size=20), min_size=1, max_size=3)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         texts(max_size=10))
any_json = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(texts(max_size=8), children, max_size=3)), max_leaves=10)
extensions = st.dictionaries(iris, any_json, max_size=3)
# For malformed input: any text, including U+0000 and lone surrogates.
raw_scalars = st.one_of(json_scalars, st.text(max_size=10), st.sampled_from(["\ud800", "a\x00", "\udfff x"]),
                        st.floats())
raw_json = st.recursive(raw_scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)), max_leaves=10)

_local = st.text(alphabet=string.ascii_lowercase + string.digits + "_+-", min_size=1, max_size=10)
mboxes = st.builds(lambda local, dom: f"mailto:{local}@{dom}.example.com", _local, _label)
ifis = st.one_of(
    mboxes.map(lambda m: {"mbox": m}),
    st.binary(min_size=1, max_size=8).map(lambda b: {"mbox_sha1sum": hashlib.sha1(b).hexdigest()}),
    irls().map(lambda i: {"openid": i}),
    st.builds(lambda home, name: {"account": {"homePage": home, "name": name}}, irls(), texts(max_size=10, min_size=1)),
)


@st.composite
def agents(draw, object_type: str = "maybe"):
    agent = dict(draw(ifis))
    if object_type == "always" or (object_type == "maybe" and draw(st.booleans())):
        agent["objectType"] = "Agent"
    if draw(st.booleans()):
        agent["name"] = draw(texts(max_size=20))
    return agent


@st.composite
def groups(draw, anonymous: bool | None = None):
    group = {"objectType": "Group"}
    if anonymous is None:
        anonymous = draw(st.booleans())
    if anonymous:
        group["member"] = draw(st.lists(agents(), min_size=1, max_size=3))
    else:
        group.update(draw(ifis))
        if draw(st.booleans()):
            group["member"] = draw(st.lists(agents(), max_size=3))
    if draw(st.booleans()):
        group["name"] = draw(texts(max_size=20))
    return group


actors = st.one_of(agents(), groups())
verbs = st.builds(lambda i, d: {"id": i, **({"display": d} if d is not None else {})}, iris, st.none() | lang_maps)


@st.composite
def timestamps(draw, version: str):
    moment = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)))
    minutes = draw(st.integers(min_value=-14 * 60, max_value=14 * 60))
    if minutes == 0 and draw(st.booleans()):
        zone = "Z"
    else:
        tz = timezone(timedelta(minutes=minutes))
        zone = moment.replace(tzinfo=tz).strftime("%z")
        zone = "+00:00" if zone in ("+0000", "-0000") else f"{zone[:3]}:{zone[3:]}"
    separator = draw(st.sampled_from("Tt ")) if version == V2 else "T"
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if draw(st.booleans()):
        text += "." + str(draw(st.integers(min_value=0, max_value=999))).zfill(3)
    if version == V1 and draw(st.integers(0, 4)) == 0:
        return text  # 1.0.3: the zone is only recommended
    return text + zone


@st.composite
def durations(draw):
    if draw(st.integers(0, 9)) == 0:
        return f"P{draw(st.integers(0, 99))}W"
    parts = draw(st.lists(st.sampled_from("YMDhms"), min_size=1, max_size=6, unique=True))
    order = "YMDhms"
    parts.sort(key=order.index)
    text, in_time = "P", False
    for i, part in enumerate(parts):
        if part in "hms" and not in_time:
            text += "T"
            in_time = True
        value = str(draw(st.integers(0, 9999)))
        if i == len(parts) - 1 and draw(st.booleans()):
            value += "." + str(draw(st.integers(0, 99)))
        text += value + part.upper()
    return text


@st.composite
def scores(draw):
    score = {}
    if draw(st.booleans()):
        score["scaled"] = draw(st.floats(min_value=-1, max_value=1))
    finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
    numbers = sorted(draw(st.lists(finite, min_size=3, max_size=3, unique=True)))
    low, raw, high = numbers
    for key, value in (("min", low), ("raw", raw), ("max", high)):
        if draw(st.booleans()):
            score[key] = int(value) if draw(st.booleans()) and value == int(value) else value
    return score


results = st.fixed_dictionaries({}, optional={
    "score": scores(), "success": st.booleans(), "completion": st.booleans(), "response": texts(max_size=20),
    "duration": durations(), "extensions": extensions,
})

_components = st.lists(st.fixed_dictionaries({"id": _label}, optional={"description": lang_maps}),
                       max_size=4, unique_by=lambda c: c["id"])


@st.composite
def definitions(draw):
    definition = draw(st.fixed_dictionaries({}, optional={
        "name": lang_maps, "description": lang_maps, "type": iris, "moreInfo": irls(), "extensions": extensions}))
    if not definition:
        definition["name"] = draw(lang_maps)
    interaction = draw(st.sampled_from([None, "true-false", "choice", "fill-in", "long-fill-in", "matching",
                                        "performance", "sequencing", "likert", "numeric", "other"]))
    if interaction:
        definition["interactionType"] = interaction
        if draw(st.booleans()):
            definition["correctResponsesPattern"] = draw(st.lists(texts(max_size=10), max_size=3))
        lists = {"choice": ["choices"], "sequencing": ["choices"], "likert": ["scale"],
                 "matching": ["source", "target"], "performance": ["steps"]}.get(interaction, [])
        for key in lists:
            if draw(st.booleans()):
                definition[key] = draw(_components)
    return definition


@st.composite
def activities(draw):
    activity = {"id": draw(iris)}
    if draw(st.booleans()):
        activity["objectType"] = "Activity"
    if draw(st.booleans()):
        activity["definition"] = draw(definitions())
    return activity


statement_refs = uuids.map(lambda u: {"objectType": "StatementRef", "id": u})


@st.composite
def contexts(draw, version: str, object_is_activity: bool):
    context = draw(st.fixed_dictionaries({}, optional={
        "registration": uuids, "instructor": actors, "team": groups(), "language": lang_tags,
        "statement": statement_refs, "extensions": extensions,
        "contextActivities": st.fixed_dictionaries({}, optional={
            key: st.one_of(activities(), st.lists(activities(), max_size=2))
            for key in ("parent", "grouping", "category", "other")}),
    }))
    if object_is_activity:
        context.update(draw(st.fixed_dictionaries({}, optional={"revision": texts(max_size=8),
                                                                  "platform": texts(max_size=8)})))
    if version == V2:
        relevant = st.lists(iris, min_size=1, max_size=2)
        context.update(draw(st.fixed_dictionaries({}, optional={
            "contextAgents": st.lists(st.fixed_dictionaries(
                {"objectType": st.just("contextAgent"), "agent": agents()}, optional={"relevantTypes": relevant}),
                max_size=2),
            "contextGroups": st.lists(st.fixed_dictionaries(
                {"objectType": st.just("contextGroup"), "group": groups()}, optional={"relevantTypes": relevant}),
                max_size=2),
        })))
    return context


@st.composite
def attachments(draw):
    attachment = {
        "usageType": draw(iris), "display": draw(lang_maps),
        "contentType": draw(st.sampled_from(["application/pdf", "image/png", "text/plain; charset=utf-8"])),
        "length": draw(st.integers(min_value=0, max_value=10**9)),
        "sha2": hashlib.sha256(draw(st.binary(max_size=8))).hexdigest(),
    }
    if draw(st.booleans()):
        attachment["description"] = draw(lang_maps)
    if draw(st.booleans()):
        attachment["fileUrl"] = draw(irls())
    return attachment


@st.composite
def statements(draw, version: str, sub: bool = False):
    kinds = ["activity", "agent", "group", "ref"] + ([] if sub else ["sub"])
    kind = draw(st.sampled_from(kinds))
    obj = {
        "activity": activities(), "agent": agents(object_type="always"), "group": groups(),
        "ref": statement_refs, "sub": statements(version, sub=True),
    }[kind]
    stmt = {"actor": draw(actors), "verb": draw(verbs), "object": draw(obj)}
    if sub:
        stmt["objectType"] = "SubStatement"
    optional = {"result": results, "context": contexts(version, kind == "activity"),
                "timestamp": timestamps(version), "attachments": st.lists(attachments(), max_size=2)}
    if not sub:
        versions = ["1.0.0", "1.0.3"] + (["2.0.0"] if version == V2 else [])
        optional.update({"id": uuids, "stored": timestamps(version), "version": st.sampled_from(versions),
                         "authority": st.one_of(agents(), st.builds(
                             lambda a, b: {"objectType": "Group", "member": [a, b]}, agents(), agents()))})
    stmt.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return stmt


versioned_statements = st.sampled_from([V1, V2]).flatmap(lambda v: st.tuples(st.just(v), statements(v)))


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(versioned_statements)
def test_random_valid_statements_pass_and_are_not_mutated(pair):
    version, stmt = pair
    before = copy.deepcopy(stmt)
    validate_statement(stmt, version)
    assert stmt == before


@SETTINGS
@given(versioned_statements)
def test_valid_statements_survive_a_json_round_trip(pair):
    version, stmt = pair
    validate_statement(json.loads(json.dumps(stmt)), version)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([V1, V2]).flatmap(
    lambda v: st.tuples(st.just(v), st.lists(statements(v), min_size=1, max_size=3))))
def test_valid_batches_pass_with_their_ids_made_unique(pair):
    version, stmts = pair
    for i, stmt in enumerate(stmts):
        if "id" in stmt:
            stmt["id"] = f"00000000-0000-4000-8000-{i:012d}"
    validate_statements(stmts, version)


@SETTINGS
@given(st.sampled_from([V1, V2]), raw_json)
def test_random_json_only_ever_raises_validation_errors(version, value):
    before = copy.deepcopy(value)
    try:
        validate_statement(value, version, index=0)
    except XAPIValidationError as exc:
        assert exc.statement_index == 0
    try:
        validate_statements(value, version)
    except XAPIValidationError:
        pass
    assert repr(value) == repr(before)  # (repr: NaN != NaN)


def _slots(value, prefix=()):
    """Every (path) inside a JSON value, for replacing one of them."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,)
            yield from _slots(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield prefix + (i,)
            yield from _slots(item, prefix + (i,))


@SETTINGS
@given(versioned_statements, st.data())
def test_corrupted_statements_only_ever_raise_validation_errors(pair, data):
    version, stmt = pair
    slots = list(_slots(stmt))
    slot = data.draw(st.sampled_from(slots))
    replacement = data.draw(st.one_of(raw_json, st.sampled_from(
        ["", "not an iri", "mailto:", "x" * 40, "2026-13-01T00:00:00Z", "P", "-1", "en_US"])))
    corrupted = copy.deepcopy(stmt)
    target = corrupted
    for key in slot[:-1]:
        target = target[key]
    if data.draw(st.booleans()):
        target[slot[-1]] = replacement
    elif isinstance(target, dict):
        del target[slot[-1]]
    else:
        target[slot[-1]] = replacement
    if data.draw(st.booleans()) and isinstance(target, dict):
        target[data.draw(texts(max_size=6))] = replacement  # maybe an unknown property too
    before = copy.deepcopy(corrupted)
    try:
        validate_statement(corrupted, version, index=3)
    except XAPIValidationError as exc:
        assert exc.statement_index == 3
        assert exc.message
    assert repr(corrupted) == repr(before)


@SETTINGS
@given(st.sampled_from([V1, V2]).flatmap(lambda v: st.tuples(st.just(v), timestamps(v))))
def test_every_accepted_timestamp_parses_to_utc(pair):
    version, value = pair
    validate_timestamp(value, "timestamp", version)
    parsed = parse_timestamp(value, version)
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)


@SETTINGS
@given(st.sampled_from([V1, V2]), st.one_of(
    texts(max_size=40), st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]{2,12}(Z|[+-][0-9:]{2,5})?\Z")))
def test_timestamp_parsing_never_raises_anything_else(version, value):
    try:
        parsed = parse_timestamp(value, version)
    except XAPIValidationError:
        return
    assert parsed.tzinfo is not None
