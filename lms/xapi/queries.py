"""Statement queries (Communication 2.1.3 GET /statements): filters, order and ``more`` paging.

Each filter is an equality on an indexed column whose index continues with ``(stored, pk)``:
``agent`` and ``activity`` through their link tables, ``verb``, ``registration`` and
``statements/read/mine`` (authority) on the statements table. The query walks one of those
indexes in ``(stored, pk)`` order from a cursor and stops after ``limit + 1`` rows, so its cost
does not grow with the size of the store.

Paging is stable while statements keep arriving: the first page fixes a bound (its
``X-Experience-API-Consistent-Through``) and every later page continues strictly after the
cursor ``(stored, pk)`` of the last statement returned, below that bound. New statements are
stored after the bound and never shift the pages; none is skipped or repeated. (A transaction
that took its ``stored`` time before the bound but commits after a page was read could still be
missed: the bound is the time the first page was read, not a guarantee about writers still in
flight.)
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from lms.core.db import UTCDateTime, db
from lms.xapi.errors import XAPIValidationError
from lms.xapi.identifiers import ifi_of, now_ms, parse_timestamp, sha1
from lms.xapi.models import Activity, Agent, Statement, StatementActivity, StatementAgent, Verb

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


@dataclass
class StatementQuery:
    """The filters of a statements query, already parsed."""

    agent: dict | None = None
    verb: str | None = None
    activity: str | None = None
    registration: uuid.UUID | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = DEFAULT_LIMIT
    ascending: bool = False
    #: statements/read/mine: only statements with this authority (IFI).
    authority_ifi: str | None = None

    def to_token(self) -> dict:
        return {"agent": self.agent, "verb": self.verb, "activity": self.activity,
                "registration": str(self.registration) if self.registration else None,
                "ra": self.related_activities, "rg": self.related_agents,
                "since": _exact(self.since) if self.since else None,
                "until": _exact(self.until) if self.until else None,
                "limit": self.limit, "asc": self.ascending}

    @classmethod
    def from_token(cls, data: dict) -> "StatementQuery":
        return cls(agent=data["agent"], verb=data["verb"], activity=data["activity"],
                   registration=uuid.UUID(data["registration"]) if data["registration"] else None,
                   related_activities=data["ra"], related_agents=data["rg"],
                   since=parse_timestamp(data["since"]) if data["since"] else None,
                   until=parse_timestamp(data["until"]) if data["until"] else None,
                   limit=data["limit"], ascending=data["asc"])


def _exact(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat()


@dataclass
class Page:
    statements: list[dict]
    more: str
    consistent_through: dt.datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="xapi-more")


def _lookup_pk(model, column, key: str) -> int | None:
    return db.session.scalar(sa.select(model.pk).where(column == sha1(key)))


def _key(model, column, key: str):
    return sa.select(model.pk).where(column == sha1(key)).scalar_subquery()


def run(query: StatementQuery, *, cursor: tuple | None = None, bound: dt.datetime | None = None) -> Page:
    """One page of results and the ``more`` token for the next one ("" when there is none)."""
    bound = bound or now_ms()
    empty = Page([], "", bound)
    limit = query.limit or MAX_LIMIT
    limit = max(1, min(limit, MAX_LIMIT))

    # Identifiers become scalar subqueries on their unique hash: one round trip for the whole
    # query, and an unknown identifier simply matches nothing.
    agent_pk = verb_pk = activity_pk = authority_pk = None
    if query.agent is not None:
        ifi = ifi_of(query.agent)
        if ifi is None:
            return empty
        agent_pk = _key(Agent, Agent.ifi_hash, ifi)
    if query.verb is not None:
        verb_pk = _key(Verb, Verb.iri_hash, query.verb)
    if query.activity is not None:
        activity_pk = _key(Activity, Activity.iri_hash, query.activity)
    if query.authority_ifi is not None:
        authority_pk = _key(Agent, Agent.ifi_hash, query.authority_ifi)

    # The driving table gives the order (its index ends in stored, statement pk).
    if agent_pk is not None:
        link = StatementAgent
        stored_col, pk_col = link.stored, link.statement_pk
        stmt = sa.select(Statement.pk, Statement.stored, Statement.full).select_from(link).join(
            Statement, Statement.pk == link.statement_pk).where(link.agent_pk == agent_pk)
        if not query.related_agents:
            stmt = stmt.where(link.direct.is_(True))
        if activity_pk is not None:
            stmt = _activity_filter(stmt, activity_pk, query.related_activities)
    elif activity_pk is not None:
        link = StatementActivity
        stored_col, pk_col = link.stored, link.statement_pk
        stmt = sa.select(Statement.pk, Statement.stored, Statement.full).select_from(link).join(
            Statement, Statement.pk == link.statement_pk).where(link.activity_pk == activity_pk)
        if not query.related_activities:
            stmt = stmt.where(link.direct.is_(True))
    else:
        stored_col, pk_col = Statement.stored, Statement.pk
        stmt = sa.select(Statement.pk, Statement.stored, Statement.full)

    stmt = stmt.where(Statement.voided.is_(False), stored_col <= bound)
    if verb_pk is not None:
        stmt = stmt.where(Statement.verb_pk == verb_pk)
    if query.registration is not None:
        stmt = stmt.where(Statement.registration == query.registration)
    if authority_pk is not None:
        stmt = stmt.where(Statement.authority_pk == authority_pk)
    if query.since is not None:
        stmt = stmt.where(stored_col > query.since)
    if query.until is not None:
        stmt = stmt.where(stored_col <= query.until)
    if cursor is not None:
        key = sa.tuple_(stored_col, pk_col)
        after = sa.tuple_(sa.literal(cursor[0], UTCDateTime()), sa.literal(cursor[1], sa.BigInteger()))
        stmt = stmt.where(key > after if query.ascending else key < after)
    order = (stored_col.asc(), pk_col.asc()) if query.ascending else (stored_col.desc(), pk_col.desc())
    rows = db.session.execute(stmt.order_by(*order).limit(limit + 1)).all()
    if any(v is not None for v in (agent_pk, verb_pk, activity_pk, query.registration)):
        rows = _merge(rows, _referring(query, agent_pk, verb_pk, activity_pk, authority_pk, cursor, bound, limit),
                      query.ascending, limit)

    more = ""
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        token = _serializer().dumps({"q": query.to_token(), "c": [_exact(last.stored), last.pk],
                                     "b": _exact(bound), "m": query.authority_ifi})
        from flask import has_request_context, request

        root = request.script_root if has_request_context() else ""
        more = f"{root}/xapi/statements?more={token}"
    return Page([r.full for r in rows], more, bound)


def _referring(query: StatementQuery, agent_pk, verb_pk, activity_pk, authority_pk, cursor, bound, limit):
    """1.0.3 Communication 2.1.3 "Filter Conditions for StatementRefs" (IEEE 9274.1.1 the same): a
    statement that targets a statement matching the filters, through a StatementRef object,
    matches them too, and so does one that targets *that* one: the chain of references is
    followed to its end (a cycle of references stops where it repeats).

    Communication 2.1.4 "Voided Statements": a voided statement is never returned, but statements
    that target it are, under the filters it would have matched -- "This includes the voiding
    Statement". So voiding statements refer like any other, and a voided target still matches.
    ``since``, ``until``, the cursor and ``read/mine`` apply to the referring statement.

    The chain is walked by a recursive query seeded with the referring statements in the window
    (``target_id`` set): its cost grows with the number of StatementRef statements in the
    window, not with the whole store.
    """
    def referring(*kind):
        seed = sa.select(Statement.pk.label("start_pk"), Statement.target_id.label("target_id")).where(
            *kind, Statement.voided.is_(False), Statement.stored <= bound)
        if authority_pk is not None:
            seed = seed.where(Statement.authority_pk == authority_pk)
        if query.since is not None:
            seed = seed.where(Statement.stored > query.since)
        if query.until is not None:
            seed = seed.where(Statement.stored <= query.until)
        if cursor is not None:
            key = sa.tuple_(Statement.stored, Statement.pk)
            after = sa.tuple_(sa.literal(cursor[0], UTCDateTime()), sa.literal(cursor[1], sa.BigInteger()))
            seed = seed.where(key > after if query.ascending else key < after)
        return seed

    # Two seeds, each on its own index: StatementRef statements (the partial index
    # ix_xapi_statements_refs_stored) and voiding statements (the voids_id index; few).
    seeds = sa.union_all(referring(Statement.target_id.is_not(None), Statement.voids_id.is_(None)),
                         referring(Statement.voids_id.is_not(None))).subquery("seeds")
    chain = sa.select(seeds.c.start_pk, seeds.c.target_id).cte("statement_ref_chain", recursive=True)
    step = sa.orm.aliased(Statement)
    # UNION (not UNION ALL): a pair already seen ends the walk, so a cycle of references terminates.
    chain = chain.union(sa.select(chain.c.start_pk, step.target_id)
                        .join(step, step.id == chain.c.target_id).where(step.target_id.is_not(None)))

    target = sa.orm.aliased(Statement)
    matching = sa.select(chain.c.start_pk).join(target, target.id == chain.c.target_id)
    if verb_pk is not None:
        matching = matching.where(target.verb_pk == verb_pk)
    if query.registration is not None:
        matching = matching.where(target.registration == query.registration)
    if agent_pk is not None:
        sub = sa.select(StatementAgent.statement_pk).where(StatementAgent.statement_pk == target.pk,
                                                           StatementAgent.agent_pk == agent_pk)
        if not query.related_agents:
            sub = sub.where(StatementAgent.direct.is_(True))
        matching = matching.where(sub.exists())
    if activity_pk is not None:
        sub = sa.select(StatementActivity.statement_pk).where(StatementActivity.statement_pk == target.pk,
                                                              StatementActivity.activity_pk == activity_pk)
        if not query.related_activities:
            sub = sub.where(StatementActivity.direct.is_(True))
        matching = matching.where(sub.exists())

    stmt = sa.select(Statement.pk, Statement.stored, Statement.full).where(Statement.pk.in_(matching))
    order = (Statement.stored.asc(), Statement.pk.asc()) if query.ascending else \
        (Statement.stored.desc(), Statement.pk.desc())
    return db.session.execute(stmt.order_by(*order).limit(limit + 1)).all()


def _merge(rows, more_rows, ascending: bool, limit: int):
    """Two result lists in (stored, pk) order merged, without duplicates, cut at ``limit + 1``."""
    if not more_rows:
        return rows
    by_pk = {r.pk: r for r in rows}
    for r in more_rows:
        by_pk.setdefault(r.pk, r)
    merged = sorted(by_pk.values(), key=lambda r: (r.stored, r.pk), reverse=not ascending)
    return merged[:limit + 1]


def _activity_filter(stmt, activity_pk: int, related: bool):
    sub = sa.select(StatementActivity.statement_pk).where(StatementActivity.activity_pk == activity_pk,
                                                          StatementActivity.statement_pk == Statement.pk)
    if not related:
        sub = sub.where(StatementActivity.direct.is_(True))
    return stmt.where(sub.exists())


def run_more(token: str, *, authority_ifi: str | None) -> Page:
    """The next page of an earlier query, from its ``more`` token."""
    try:
        data = _serializer().loads(token)
        query = StatementQuery.from_token(data["q"])
        cursor = (parse_timestamp(data["c"][0]), int(data["c"][1]))
        bound = parse_timestamp(data["b"])
    except (BadSignature, KeyError, TypeError, ValueError, IndexError, XAPIValidationError):
        raise XAPIValidationError("the more token is not valid", path="more") from None
    if data.get("m") != authority_ifi:
        raise XAPIValidationError("the more token belongs to other credentials", path="more")
    query.authority_ifi = authority_ifi
    return run(query, cursor=cursor, bound=bound)


def get_one(statement_id: uuid.UUID, *, voided: bool,
            authority_ifi: str | None = None) -> tuple[dict, dt.datetime] | None:
    """``statementId`` (voided=False) or ``voidedStatementId`` (voided=True) lookup."""
    stmt = sa.select(Statement.full, Statement.stored, Statement.authority_pk).where(
        Statement.id == statement_id, Statement.voided.is_(voided))
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    if authority_ifi is not None:
        authority_pk = _lookup_pk(Agent, Agent.ifi_hash, authority_ifi)
        if authority_pk is None or row.authority_pk != authority_pk:
            return None
    return row.full, row.stored
