"""Privacy provider of the LRS: statements naming the user's learner keys, agent documents, agents.

A stored statement is otherwise never changed; erasure is the one exception the law makes. Every
statement that names one of the user's agents (as actor or anywhere else) is deleted with its
index rows and outbox rows, then the user's agent documents (state, agent profile) and agents."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import ErasureReport, PrivacyProvider, registries
from lms.privacy.rows import jsonable, learner_keys


def _agent_pks(user) -> list[int]:
    from lms.records.identity import actor_from_key, learner_key
    from lms.xapi.identifiers import agent_from_ifi, ifi_of
    from lms.xapi.models import Agent

    keys, _hashes = learner_keys(user)
    ifis = set()
    for key in keys:
        actor = actor_from_key(key)
        if actor:
            ifi = ifi_of(actor)
            if ifi:
                ifis.add(ifi)
    if not ifis:
        return []
    # mbox IFIs are stored as sent; learner keys lower-case them: compare case-insensitively,
    # then keep the agents whose learner key is the user's.
    mboxes = [i.lower() for i in ifis if i.startswith("mbox:")]
    rows = db.session.execute(sa.select(Agent.pk, Agent.ifi).where(
        sa.or_(Agent.ifi.in_(ifis), sa.func.lower(Agent.ifi).in_(mboxes)))).all()
    keyset = set(keys)
    return [pk for pk, ifi in rows if ifi in ifis or learner_key(agent_from_ifi(ifi)) in keyset]


def _statement_pks(agent_pks) -> list[int]:
    from lms.xapi.models import Statement, StatementAgent

    if not agent_pks:
        return []
    named = sa.select(StatementAgent.statement_pk).where(StatementAgent.agent_pk.in_(agent_pks))
    return list(db.session.scalars(sa.select(Statement.pk).where(
        sa.or_(Statement.actor_pk.in_(agent_pks), Statement.pk.in_(named)))))


def export(user) -> dict:
    from lms.xapi.models import Statement

    pks = _statement_pks(_agent_pks(user))
    rows = db.session.scalars(sa.select(Statement).where(Statement.pk.in_(pks)).order_by(Statement.stored)) \
        if pks else []
    return {"statements": [jsonable(s.full) for s in rows]}


def erase(user) -> ErasureReport:
    from lms.xapi.models import Agent, Client, Document, Statement, StatementActivity, StatementAgent

    report = ErasureReport("xapi")
    # Launch credentials are bound to the learner (their authority names the learner's actor).
    n = db.session.execute(sa.delete(Client).where(Client.user_id == user.id)).rowcount
    if n:
        report.removed["xapi_clients"] = n
    agents = _agent_pks(user)
    pks = _statement_pks(agents)
    if pks:
        ids = list(db.session.scalars(sa.select(Statement.id).where(Statement.pk.in_(pks))))
        _forget_outbox(ids, report)
        db.session.execute(sa.delete(StatementAgent).where(StatementAgent.statement_pk.in_(pks)))
        db.session.execute(sa.delete(StatementActivity).where(StatementActivity.statement_pk.in_(pks)))
        report.removed["xapi_statements"] = db.session.execute(sa.delete(Statement).where(Statement.pk.in_(pks))).rowcount
    if agents:
        n = db.session.execute(sa.delete(Document).where(Document.agent_pk.in_(agents))).rowcount
        if n:
            report.removed["xapi_documents"] = n
        still = set(db.session.scalars(sa.select(StatementAgent.agent_pk).where(StatementAgent.agent_pk.in_(agents))))
        gone = [a for a in agents if a not in still]
        if gone:
            report.removed["xapi_agents"] = db.session.execute(sa.delete(Agent).where(Agent.pk.in_(gone))).rowcount
    return report


def _forget_outbox(statement_ids, report) -> None:
    from lms.core.db import db as _db

    for table in _db.metadata.sorted_tables:
        if table.name.startswith("xapi_") and "statement_id" in table.c:
            n = _db.session.execute(sa.delete(table).where(table.c.statement_id.in_(statement_ids))).rowcount
            if n:
                report.removed[table.name] = n


def register(app) -> None:
    registries(app).privacy_providers["xapi"] = PrivacyProvider("xapi", _l("Learning Record Store"), export, erase,
                                                                order=700)
