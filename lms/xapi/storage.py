"""Storing statements: the write path shared by ``/xapi/statements`` and the recorder.

:func:`store_statements` validates every statement first (a batch with one invalid statement
stores nothing), then writes the whole batch with a fixed number of statements whatever its size:
one ``SELECT`` for ids already stored (and the authorities of voiding targets), insert-on-conflict
for the shared rows (agents, verbs, activities, sorted), one ``executemany`` ``INSERT .. RETURNING``
for the statements, one each for the link tables, one ``UPDATE`` for voiding. Nothing commits
here: the caller commits once and the "statement stored" signal follows the commit
(:mod:`lms.xapi.signals`).

Voiding (DESIGN 8): only the authority that stored a statement may void it -- the same agent
(IFI) as the voiding statement's authority; the platform's own statements therefore only by the
platform's code, and anything by an administrator (``may_void_any``, the statement browser).
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms.core.db import db
from lms.records.provenance import Source
from lms.xapi import signals
from lms.xapi.errors import XAPIConflict, XAPIForbidden, XAPIValidationError
from lms.xapi.identifiers import canonical_json, format_timestamp, ifi_of, now_ms, parse_timestamp, sha1
from lms.xapi.models import Statement, StatementActivity, StatementAgent
from lms.xapi.shared_rows import ensure_activities, ensure_agents, ensure_verbs
from lms.xapi.validation import VERSION_1, VERSION_2, validate_statement

VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"
#: Properties the LRS sets itself; left out when comparing a statement sent again with the stored one.
LRS_PROPERTIES = ("stored", "authority", "version")


def version_family(version: str) -> str:
    """``"1.0.3"`` for every 1.0.x, ``"2.0.0"`` for 2.0.x (the rule sets of the validator)."""
    return VERSION_2 if str(version).startswith("2.") else VERSION_1


@dataclass
class PreparedStatement:
    """A validated statement with everything the tables need, before it is written."""

    id: uuid.UUID
    full: dict
    content_hash: str
    stored: object
    timestamp: object
    actor_ifi: str | None
    verb_iri: str
    verb_display: dict | None
    object_type: str
    object_id: str | None
    registration: uuid.UUID | None
    authority_ifi: str | None
    target_id: uuid.UUID | None
    voids_id: uuid.UUID | None
    #: The statement as sent (id filled in), for comparison with a stored one of the same id.
    sent: dict = field(default_factory=dict)
    #: ifi -> (objectType, name, direct)
    agents: dict = field(default_factory=dict)
    #: iri -> (definition or None, direct)
    activities: dict = field(default_factory=dict)


def _add_agent(agents: dict, obj, direct: bool) -> None:
    if not isinstance(obj, dict):
        return
    ifi = ifi_of(obj)
    if ifi is not None:
        kind = "Group" if obj.get("objectType") == "Group" else "Agent"
        old = agents.get(ifi)
        agents[ifi] = (kind, obj.get("name") if isinstance(obj.get("name"), str) else None,
                       direct or bool(old and old[2]))
    if obj.get("objectType") == "Group":
        # Statements about a group are about its members too (the agent filter finds them).
        for member in obj.get("member") or ():
            _add_agent(agents, member, direct)


def _add_activity(activities: dict, obj, direct: bool) -> None:
    if not isinstance(obj, dict) or obj.get("objectType", "Activity") != "Activity":
        return
    iri = obj.get("id")
    if not isinstance(iri, str):
        return
    old = activities.get(iri)
    definition = obj.get("definition") if isinstance(obj.get("definition"), dict) else None
    if old and old[0] and definition:
        from lms.xapi.shared_rows import merge_definition

        definition = merge_definition(old[0], definition)
    elif old and old[0]:
        definition = old[0]
    activities[iri] = (definition, direct or bool(old and old[1]))


def _context_links(context, agents: dict, activities: dict) -> None:
    if not isinstance(context, dict):
        return
    _add_agent(agents, context.get("instructor"), False)
    _add_agent(agents, context.get("team"), False)
    for item in context.get("contextAgents") or ():
        if isinstance(item, dict):
            _add_agent(agents, item.get("agent"), False)
    for item in context.get("contextGroups") or ():
        if isinstance(item, dict):
            _add_agent(agents, item.get("group"), False)
    ca = context.get("contextActivities")
    if isinstance(ca, dict):
        for value in ca.values():
            for activity in (value if isinstance(value, list) else [value]):
                _add_activity(activities, activity, False)


def _normalise_context_activities(stmt: dict) -> None:
    """Data 2.4.6.2: a single context activity is stored (and returned) as an array of one.

    ``stmt`` is a shallow copy of what was sent: the dicts on the way down are copied before
    they are changed, so the caller's statement is never modified.
    """
    holders = [(stmt, None)]
    obj = stmt.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        holders.append((obj, "object"))
    for holder, key_in_parent in holders:
        context = holder.get("context")
        if not isinstance(context, dict):
            continue
        ca = context.get("contextActivities")
        if not isinstance(ca, dict) or not any(isinstance(v, dict) for v in ca.values()):
            continue
        new_ca = {k: [v] if isinstance(v, dict) else v for k, v in ca.items()}
        new_holder = holder if key_in_parent is None else dict(holder)
        new_holder["context"] = {**context, "contextActivities": new_ca}
        if key_in_parent is not None:
            stmt[key_in_parent] = new_holder


def content_hash(stmt: dict) -> str:
    """SHA-256 of the statement as sent, without the properties the LRS sets."""
    sent = {k: v for k, v in stmt.items() if k not in LRS_PROPERTIES}
    return hashlib.sha256(canonical_json(sent).encode("utf-8")).hexdigest()


def prepare(stmt, *, version: str, authority: dict, stored, index: int | None = None,
            validate: bool = True, stored_text: str | None = None) -> PreparedStatement:
    """Validate one statement (as sent) and complete it as the LRS stores it (``stmt`` is not changed)."""
    family = version_family(version)
    if validate:
        validate_statement(stmt, family, index)
    elif not isinstance(stmt, dict):
        raise XAPIValidationError("a statement must be a JSON object", statement_index=index)
    full = dict(stmt)
    _normalise_context_activities(full)
    if "id" in full:
        full["id"] = str(full["id"]).lower()
    else:
        full["id"] = str(uuid.uuid4())
    digest = content_hash(full)
    sent = dict(full)
    stored_text = stored_text or format_timestamp(stored)
    if "timestamp" in full:
        try:
            timestamp = parse_timestamp(full["timestamp"], "timestamp")
        except XAPIValidationError as exc:
            exc.statement_index = index
            raise
    else:
        full["timestamp"] = stored_text
        timestamp = stored
    full["stored"] = stored_text
    full["authority"] = authority
    if "version" not in full:
        full["version"] = "2.0.0" if family == VERSION_2 else "1.0.0"

    actor = full["actor"]
    verb = full["verb"]
    obj = full["object"]
    object_type = obj.get("objectType", "Activity")
    agents: dict = {}
    activities: dict = {}
    _add_agent(agents, actor, True)
    object_id = None
    voids_id = target_id = None
    if object_type == "Activity":
        _add_activity(activities, obj, True)
        object_id = obj.get("id")
    elif object_type in ("Agent", "Group"):
        _add_agent(agents, obj, True)
        object_id = ifi_of(obj)
    elif object_type == "StatementRef":
        object_id = str(obj.get("id", "")).lower()
        target_id = uuid.UUID(object_id)
        if verb.get("id") == VERB_VOIDED:
            voids_id = target_id
    elif object_type == "SubStatement":
        _add_agent(agents, obj.get("actor"), False)
        sub_object = obj.get("object") or {}
        if sub_object.get("objectType", "Activity") == "Activity":
            _add_activity(activities, sub_object, False)
        else:
            _add_agent(agents, sub_object, False)
        _context_links(obj.get("context"), agents, activities)
    _context_links(full.get("context"), agents, activities)
    _add_agent(agents, authority, False)
    context = full.get("context") if isinstance(full.get("context"), dict) else {}
    registration = uuid.UUID(context["registration"]) if context.get("registration") else None
    return PreparedStatement(
        id=uuid.UUID(full["id"]), full=full, content_hash=digest, stored=stored, timestamp=timestamp,
        actor_ifi=ifi_of(actor), verb_iri=verb["id"],
        verb_display=verb.get("display") if isinstance(verb.get("display"), dict) else None,
        object_type=object_type, object_id=object_id, registration=registration,
        authority_ifi=ifi_of(authority), target_id=target_id, voids_id=voids_id, sent=sent, agents=agents,
        activities=activities)


@dataclass
class StoreResult:
    """What :func:`store_statements` did: every id in the order given, and the new ones."""

    ids: list[str]
    new_ids: list[str]
    voided_ids: list[str]


def store_statements(statements: list, *, version: str, authority: dict, may_define: bool = False,
                     validate: bool = True, stored=None, source: Source | None = None,
                     may_void_any: bool = False) -> StoreResult:
    """Validate and store a batch (list of dicts as sent); only flushes, the caller commits.

    Raises ``XAPIValidationError`` (400, naming the statement index and property) before writing
    anything, ``XAPIConflict`` (409) when an id is stored already with other content,
    ``XAPIForbidden`` (403) when a statement voids one that another authority stored (unless
    ``may_void_any``: an administrator's voiding). Statements already stored with the same
    content are accepted and not written again.

    ``source`` is where the batch comes from (:class:`lms.records.provenance.Source`, for the
    learning-record facts, written here in the same transaction); ``None`` means an outside
    system of unknown standing (the platform's recorder passes the platform's source).
    """
    if not isinstance(statements, list) or not statements:
        raise XAPIValidationError("expected a statement or a non-empty array of statements")
    stored = stored or now_ms()
    stored_text = format_timestamp(stored)
    batch = len(statements) > 1
    prepared = [prepare(s, version=version, authority=authority, stored=stored, index=i if batch else None,
                        validate=validate, stored_text=stored_text)
                for i, s in enumerate(statements)]

    seen: dict[uuid.UUID, int] = {}
    for i, p in enumerate(prepared):
        if p.id in seen:
            raise XAPIValidationError(f"statement id {p.id} appears twice in the batch", path="id",
                                      statement_index=i)
        seen[p.id] = i

    shared = _shared_rows(prepared)
    targets = {p.voids_id for p in prepared if p.voids_id is not None}
    look = _lookup(prepared, targets, shared, may_define=may_define)

    for i, p in enumerate(prepared):
        digest = look.existing.get(p.id)
        if digest is not None and digest != p.content_hash and not _same_statement(p):
            where = f"statement {i}: " if batch else ""
            raise XAPIConflict(f"{where}statement id {p.id} is already stored with different content")
    new = [p for p in prepared if p.id not in look.existing]

    # Data 2.3.2: a voiding statement cannot target another voiding statement.
    batch_voiding = {p.id for p in prepared if p.voids_id is not None}
    for i, p in enumerate(new):
        if p.voids_id is not None and (p.voids_id in batch_voiding or p.voids_id in look.voiding_targets):
            raise XAPIValidationError("a voiding statement cannot void another voiding statement",
                                      path="object.id", statement_index=seen[p.id] if batch else None)
    if not may_void_any:
        _check_void_authority(new, look, seen if batch else None)
    if not new:
        return StoreResult(ids=[str(p.id) for p in prepared], new_ids=[], voided_ids=[])

    # Shared rows first (insert-on-conflict, sorted, only those missing), then the statements.
    agents, verbs, activities = shared
    agent_pks = ensure_agents(agents, known=look.agents)
    verb_pks = ensure_verbs(verbs, known=look.verbs)
    activity_pks = ensure_activities(activities, may_define=may_define, known=look.activities)

    new_ids = {p.id for p in new}
    new_targets = {p.voids_id for p in new if p.voids_id is not None}
    # A voiding statement may arrive before its target: the target is then voided on arrival, if
    # it comes from the authority that sent the voiding statement (in one batch it always does).
    arrived_voided = {p.id for p in new if p.authority_ifi is not None
                      and p.authority_ifi in look.voided_by_stored.get(p.id, ())}
    voided_on_arrival = (new_targets & new_ids) | arrived_voided
    rows = [(p, agent_pks.get(p.actor_ifi) if p.actor_ifi else None, verb_pks[p.verb_iri],
             agent_pks.get(p.authority_ifi) if p.authority_ifi else None, p.id in voided_on_arrival) for p in new]
    stored_targets = sorted(new_targets - new_ids)
    if db.session.get_bind().dialect.name == "postgresql":
        _write_postgresql(rows, agent_pks, activity_pks, stored_targets)
    else:
        _write_generic(rows, agent_pks, activity_pks, stored_targets)

    from lms.records import facts

    facts.write(new, source, voided_on_arrival)
    if stored_targets:
        facts.mark_voided(stored_targets)
    voided = [str(t) for t in sorted(new_targets)] + [str(t) for t in sorted(arrived_voided) if t not in new_targets]
    new_id_list = [str(p.id) for p in new]
    _enqueue_forwarding([p.full for p in new])
    signals.after_commit(db.session, new_id_list, voided)
    return StoreResult(ids=[str(p.id) for p in prepared], new_ids=new_id_list, voided_ids=voided)


def _check_void_authority(new: list[PreparedStatement], look: _Lookup, index: dict | None) -> None:
    """403 when a new voiding statement targets a stored statement of another authority."""
    for p in new:
        if p.voids_id is None or p.voids_id not in look.target_authorities:
            continue
        owner = look.target_authorities[p.voids_id]
        if owner is None or owner != p.authority_ifi:
            where = f"statement {index[p.id]}: " if index is not None else ""
            raise XAPIForbidden(f"{where}only the system that stored statement {p.voids_id} may void it")


def _same_statement(p: PreparedStatement) -> bool:
    """Data 2.3.1 comparison of a re-sent statement with the stored one (when the hashes differ)."""
    from lms.xapi.signature import statements_match

    stored = db.session.scalar(sa.select(Statement.full).where(Statement.id == p.id))
    return stored is not None and statements_match(stored, p.sent)


def _shared_rows(prepared: list[PreparedStatement]) -> tuple[dict, dict, dict]:
    """The agents ``{ifi: (kind, name)}``, verbs ``{iri: display}`` and activities ``{iri: definition}``."""
    from lms.xapi.shared_rows import merge_definition

    agents: dict[str, tuple] = {}
    verbs: dict[str, dict | None] = {}
    activities: dict[str, dict | None] = {}
    for p in prepared:
        for ifi, (kind, name, _direct) in p.agents.items():
            agents.setdefault(ifi, (kind, name))
        verbs.setdefault(p.verb_iri, p.verb_display)
        for iri, (definition, _direct) in p.activities.items():
            old = activities.get(iri)
            activities[iri] = merge_definition(old, definition) if definition else old
    return agents, verbs, activities


@dataclass
class _Lookup:
    """What one read of the database tells about a batch before it is written."""

    #: Statement ids already stored -> their content hash.
    existing: dict
    #: Ids in the batch that statements stored earlier void -> the authorities (IFIs) of those
    #: voiding statements.
    voided_by_stored: dict
    #: Voiding targets that are themselves voiding statements (stored).
    voiding_targets: set
    #: Shared rows found: hash -> (pk,) / (pk, definition).
    agents: dict
    verbs: dict
    activities: dict
    #: Voiding targets already stored -> the authority (IFI) that stored them.
    target_authorities: dict = field(default_factory=dict)


def _lookup(prepared, targets: set, shared, *, may_define: bool) -> _Lookup:
    agents, verbs, activities = shared
    ids = [p.id for p in prepared]
    agent_hashes = sorted(sha1(i) for i in agents)
    verb_hashes = sorted(sha1(i) for i in verbs)
    activity_hashes = sorted(sha1(i) for i in activities)
    if db.session.get_bind().dialect.name == "postgresql":
        return _lookup_postgresql(ids, sorted(targets), agent_hashes, verb_hashes, activity_hashes, may_define)
    from lms.xapi.models import Activity, Agent, Verb

    existing = {r.id: r.content_hash for r in db.session.execute(
        sa.select(Statement.id, Statement.content_hash).where(Statement.id.in_(ids)))}
    voided_by_stored: dict = {}
    for target, ifi in db.session.execute(sa.select(Statement.voids_id, Agent.ifi)
                                          .outerjoin(Agent, Agent.pk == Statement.authority_pk)
                                          .where(Statement.voids_id.in_(ids))):
        voided_by_stored.setdefault(target, set()).add(ifi)
    voiding_targets, target_authorities = set(), {}
    if targets:
        for target, voiding, ifi in db.session.execute(
                sa.select(Statement.id, Statement.voids_id.is_not(None), Agent.ifi)
                .outerjoin(Agent, Agent.pk == Statement.authority_pk).where(Statement.id.in_(targets))):
            target_authorities[target] = ifi
            if voiding:
                voiding_targets.add(target)
    found_agents = {h: (pk,) for pk, h in db.session.execute(
        sa.select(Agent.pk, Agent.ifi_hash).where(Agent.ifi_hash.in_(agent_hashes)))}
    found_verbs = {h: (pk,) for pk, h in db.session.execute(
        sa.select(Verb.pk, Verb.iri_hash).where(Verb.iri_hash.in_(verb_hashes)))}
    found_activities = {h: (pk, d) for pk, h, d in db.session.execute(
        sa.select(Activity.pk, Activity.iri_hash, Activity.definition).where(Activity.iri_hash.in_(activity_hashes)))}
    return _Lookup(existing, voided_by_stored, voiding_targets, found_agents, found_verbs, found_activities,
                   target_authorities)


_LOOKUP_SQL = """
SELECT 'a', ifi_hash, pk::bigint, NULL::text FROM xapi_agents WHERE ifi_hash = ANY(%(a)b::text[])
UNION ALL SELECT 'v', iri_hash, pk::bigint, NULL FROM xapi_verbs WHERE iri_hash = ANY(%(v)b::text[])
UNION ALL SELECT 'c', iri_hash, pk::bigint, CASE WHEN %(d)s THEN definition::text END
    FROM xapi_activities WHERE iri_hash = ANY(%(c)b::text[])
UNION ALL SELECT 's', id::text, NULL, content_hash FROM xapi_statements WHERE id = ANY(%(ids)b::uuid[])
UNION ALL SELECT 'p', s.voids_id::text, NULL, a.ifi FROM xapi_statements s
    LEFT JOIN xapi_agents a ON a.pk = s.authority_pk WHERE s.voids_id = ANY(%(ids)b::uuid[])
UNION ALL SELECT 't', s.id::text, (s.voids_id IS NOT NULL)::int::bigint, a.ifi FROM xapi_statements s
    LEFT JOIN xapi_agents a ON a.pk = s.authority_pk WHERE s.id = ANY(%(t)b::uuid[])
"""


def _raw_connection():
    return db.session.connection().connection.dbapi_connection


def _lookup_postgresql(ids, targets, agent_hashes, verb_hashes, activity_hashes, may_define) -> _Lookup:
    """PostgreSQL: everything :class:`_Lookup` holds in one round trip."""
    look = _Lookup({}, {}, set(), {}, {}, {})
    with _raw_connection().cursor() as cur:
        cur.execute(_LOOKUP_SQL, {"a": agent_hashes, "v": verb_hashes, "c": activity_hashes, "d": may_define,
                                  "ids": ids, "t": targets})
        for kind, key, pk, extra in cur.fetchall():
            if kind == "a":
                look.agents[key] = (pk,)
            elif kind == "v":
                look.verbs[key] = (pk,)
            elif kind == "c":
                look.activities[key] = (pk, json.loads(extra) if extra else None)
            elif kind == "s":
                look.existing[uuid.UUID(key)] = extra
            elif kind == "p":
                look.voided_by_stored.setdefault(uuid.UUID(key), set()).add(extra)
            else:
                look.target_authorities[uuid.UUID(key)] = extra
                if pk:
                    look.voiding_targets.add(uuid.UUID(key))
    return look


def _links(p: PreparedStatement, agent_pks: dict, activity_pks: dict):
    agent_links = [(agent_pks[ifi], direct) for ifi, (_k, _n, direct) in p.agents.items()]
    activity_links = [(activity_pks[iri], direct) for iri, (_d, direct) in p.activities.items()]
    return agent_links, activity_links


def _write_generic(rows, agent_pks: dict, activity_pks: dict, stored_targets: list) -> None:
    """Any database: one executemany ``INSERT .. RETURNING``, one executemany per link table."""
    table = Statement.__table__
    values = [{
        "id": p.id, "content_hash": p.content_hash, "stored": p.stored, "timestamp": p.timestamp,
        "actor_pk": actor_pk, "verb_pk": verb_pk, "object_type": p.object_type, "object_id": p.object_id,
        "registration": p.registration, "authority_pk": authority_pk, "target_id": p.target_id,
        "voids_id": p.voids_id, "voided": voided,
        "version": str(p.full.get("version"))[:10], "full": p.full,
    } for p, actor_pk, verb_pk, authority_pk, voided in rows]
    result = db.session.execute(table.insert().returning(table.c.pk, sort_by_parameter_order=True), values)
    pks = [r[0] for r in result]
    agent_links, activity_links = [], []
    for pk, (p, *_rest) in zip(pks, rows):
        a, b = _links(p, agent_pks, activity_pks)
        agent_links += [{"statement_pk": pk, "agent_pk": x, "direct": d, "stored": p.stored} for x, d in a]
        activity_links += [{"statement_pk": pk, "activity_pk": x, "direct": d, "stored": p.stored} for x, d in b]
    if agent_links:
        db.session.execute(StatementAgent.__table__.insert(), agent_links)
    if activity_links:
        db.session.execute(StatementActivity.__table__.insert(), activity_links)
    if stored_targets:
        db.session.execute(table.update().where(table.c.id.in_(stored_targets), table.c.voids_id.is_(None))
                           .values(voided=True))


_WRITE_SQL = """
WITH s AS (
    INSERT INTO xapi_statements (id, content_hash, stored, "timestamp", actor_pk, verb_pk, object_type, object_id,
                                 registration, authority_pk, target_id, voids_id, voided, version, "full")
    SELECT u.id, u.h, u.st, u.ts, u.ac, u.vb, u.ot, u.oi, u.rg, u.au, u.tg, u.vo, u.vd, u.ve, u.fu
    FROM unnest(%(id)b::uuid[], %(h)b::text[], %(st)b::timestamptz[], %(ts)b::timestamptz[], %(ac)b::int[],
                %(vb)b::int[], %(ot)b::text[], %(oi)b::text[], %(rg)b::uuid[], %(au)b::int[], %(tg)b::uuid[],
                %(vo)b::uuid[], %(vd)b::bool[], %(ve)b::text[], %(fu)b::json[])
         WITH ORDINALITY AS u(id, h, st, ts, ac, vb, ot, oi, rg, au, tg, vo, vd, ve, fu, n)
    ORDER BY u.n
    RETURNING pk, id, stored
), ag AS (
    INSERT INTO xapi_statement_agents (statement_pk, agent_pk, direct, stored)
    SELECT s.pk, l.x, l.d, s.stored FROM unnest(%(ag_id)b::uuid[], %(ag_x)b::int[], %(ag_d)b::bool[]) AS l(id, x, d)
    JOIN s ON s.id = l.id
), ac AS (
    INSERT INTO xapi_statement_activities (statement_pk, activity_pk, direct, stored)
    SELECT s.pk, l.x, l.d, s.stored FROM unnest(%(ac_id)b::uuid[], %(ac_x)b::int[], %(ac_d)b::bool[]) AS l(id, x, d)
    JOIN s ON s.id = l.id
), vd AS (
    UPDATE xapi_statements SET voided = true WHERE id = ANY(%(targets)b::uuid[]) AND voids_id IS NULL
)
SELECT count(*) FROM s
"""


def _write_postgresql(rows, agent_pks: dict, activity_pks: dict, stored_targets: list) -> None:
    """PostgreSQL: the statements, both link tables and the voiding update in one statement.

    One round trip whatever the batch size; a constant SQL text with one array per column, so
    PostgreSQL plans it once per connection (psycopg prepares repeated statements). The arrays go
    in binary format (``%(x)b``): in the text format psycopg quotes every element, and escapes
    every quote of every statement document, with regular expressions -- that cost more CPU than
    the rest of the write.
    """
    cols = {k: [] for k in ("id", "h", "st", "ts", "ac", "vb", "ot", "oi", "rg", "au", "tg", "vo", "vd", "ve", "fu",
                            "ag_id", "ag_x", "ag_d", "ac_id", "ac_x", "ac_d")}
    for p, actor_pk, verb_pk, authority_pk, voided in rows:
        for key, value in (("id", p.id), ("h", p.content_hash), ("st", p.stored), ("ts", p.timestamp),
                           ("ac", actor_pk), ("vb", verb_pk), ("ot", p.object_type), ("oi", p.object_id),
                           ("rg", p.registration), ("au", authority_pk), ("tg", p.target_id), ("vo", p.voids_id),
                           ("vd", voided),
                           ("ve", str(p.full.get("version"))[:10]),
                           ("fu", json.dumps(p.full, ensure_ascii=False, separators=(",", ":")))):
            cols[key].append(value)
        a, b = _links(p, agent_pks, activity_pks)
        for x, d in a:
            cols["ag_id"].append(p.id)
            cols["ag_x"].append(x)
            cols["ag_d"].append(d)
        for x, d in b:
            cols["ac_id"].append(p.id)
            cols["ac_x"].append(x)
            cols["ac_d"].append(d)
    with _raw_connection().cursor() as cur:
        cur.execute(_WRITE_SQL, {**cols, "targets": stored_targets})


def _enqueue_forwarding(statements: list[dict]) -> None:
    """Outbox rows for the remote LRSs, in this same transaction (see :mod:`lms.xapi.forwarding`)."""
    try:
        from lms.xapi import forwarding
    except ModuleNotFoundError as exc:  # pragma: no cover - forwarding is part of the package
        if exc.name != "lms.xapi.forwarding":
            raise
        return
    forwarding.enqueue(statements)
