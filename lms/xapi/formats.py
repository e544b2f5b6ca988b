"""The ``format`` parameter of statement queries (Communication 2.1.3): exact, ids, canonical.

* ``exact``: the statements as stored.
* ``ids``: agents, groups, activities and verbs reduced to what identifies them.
* ``canonical``: activities carry the LRS's canonical definition, and every language map keeps
  only the language that best matches ``Accept-Language``.
"""
from __future__ import annotations

import copy

import sqlalchemy as sa

from lms.core.db import db
from lms.xapi.identifiers import IFI_PROPERTIES, sha1
from lms.xapi.models import Activity

FORMATS = ("exact", "ids", "canonical")
_LANGUAGE_MAP_KEYS = ("name", "description")
_INTERACTION_LISTS = ("choices", "scale", "source", "target", "steps")


# --- ids -----------------------------------------------------------------------------------


def _ids_agent(obj):
    if not isinstance(obj, dict):
        return obj
    out = {"objectType": obj.get("objectType", "Agent")}
    for key in IFI_PROPERTIES:
        if key in obj:
            out[key] = obj[key]
            break
    if obj.get("objectType") == "Group" and len(out) == 1 and isinstance(obj.get("member"), list):
        out["member"] = [_ids_agent(m) for m in obj["member"]]  # anonymous groups: members identify them
    return out


def _ids_activity(obj):
    """1.0.3 Communication 2.1.3 (``format=ids``): an Activity is reduced to its ``id``, the
    minimum that identifies it; ``objectType`` "Activity" is the default and adds nothing."""
    if not isinstance(obj, dict):
        return obj
    return {"id": obj.get("id")}


def _ids_object(obj):
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return _ids_activity(obj)
    if kind in ("Agent", "Group"):
        return _ids_agent(obj)
    if kind == "SubStatement":
        return _ids_statement(obj)
    return obj


def _ids_context(context):
    if not isinstance(context, dict):
        return context
    context = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _ids_agent(context[key])
    if isinstance(context.get("contextActivities"), dict):
        context["contextActivities"] = {k: [_ids_activity(a) for a in (v if isinstance(v, list) else [v])]
                                        for k, v in context["contextActivities"].items()}
    if isinstance(context.get("contextAgents"), list):
        context["contextAgents"] = [{**c, "agent": _ids_agent(c.get("agent"))} for c in context["contextAgents"]]
    if isinstance(context.get("contextGroups"), list):
        context["contextGroups"] = [{**c, "group": _ids_agent(c.get("group"))} for c in context["contextGroups"]]
    return context


def _ids_statement(stmt: dict) -> dict:
    out = dict(stmt)
    out["actor"] = _ids_agent(stmt.get("actor"))
    if isinstance(stmt.get("verb"), dict):
        out["verb"] = {"id": stmt["verb"].get("id")}
    out["object"] = _ids_object(stmt.get("object"))
    if "context" in stmt:
        out["context"] = _ids_context(stmt["context"])
    if "authority" in stmt:
        out["authority"] = _ids_agent(stmt["authority"])
    return out


# --- canonical -----------------------------------------------------------------------------


def pick_language(language_map, accept) -> dict:
    """The one entry of a language map that best matches ``accept`` (werkzeug LanguageAccept)."""
    if not isinstance(language_map, dict) or len(language_map) <= 1:
        return language_map
    best = accept.best_match(list(language_map)) if accept is not None else None
    if best is None:
        best = next(iter(language_map))
    return {best: language_map[best]}


def _filter_definition(definition, accept):
    if not isinstance(definition, dict):
        return definition
    out = dict(definition)
    for key in _LANGUAGE_MAP_KEYS:
        if key in out:
            out[key] = pick_language(out[key], accept)
    for key in _INTERACTION_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [{**c, "description": pick_language(c.get("description"), accept)}
                        if isinstance(c, dict) and "description" in c else c for c in out[key]]
    return out


class _Canonicaliser:
    def __init__(self, statements: list[dict], accept):
        self.accept = accept
        iris: set[str] = set()
        for stmt in statements:
            self._collect(stmt, iris)
        self.definitions: dict[str, dict] = {}
        if iris:
            hashes = [sha1(i) for i in iris]
            for row in db.session.execute(sa.select(Activity.iri, Activity.definition)
                                          .where(Activity.iri_hash.in_(hashes))):
                if row.definition:
                    self.definitions[row.iri] = row.definition

    def _collect(self, stmt, iris: set) -> None:
        if not isinstance(stmt, dict):
            return
        obj = stmt.get("object")
        if isinstance(obj, dict):
            if obj.get("objectType", "Activity") == "Activity" and isinstance(obj.get("id"), str):
                iris.add(obj["id"])
            elif obj.get("objectType") == "SubStatement":
                self._collect(obj, iris)
        ca = (stmt.get("context") or {}).get("contextActivities") if isinstance(stmt.get("context"), dict) else None
        if isinstance(ca, dict):
            for value in ca.values():
                for a in (value if isinstance(value, list) else [value]):
                    if isinstance(a, dict) and isinstance(a.get("id"), str):
                        iris.add(a["id"])

    def activity(self, obj):
        if not isinstance(obj, dict):
            return obj
        out = dict(obj)
        definition = self.definitions.get(obj.get("id")) or obj.get("definition")
        if definition:
            out["definition"] = _filter_definition(definition, self.accept)
        return out

    def statement(self, stmt: dict) -> dict:
        out = dict(stmt)
        if isinstance(stmt.get("verb"), dict) and "display" in stmt["verb"]:
            out["verb"] = {**stmt["verb"], "display": pick_language(stmt["verb"]["display"], self.accept)}
        obj = stmt.get("object")
        if isinstance(obj, dict):
            if obj.get("objectType", "Activity") == "Activity":
                out["object"] = self.activity(obj)
            elif obj.get("objectType") == "SubStatement":
                out["object"] = self.statement(obj)
        context = stmt.get("context")
        if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
            out["context"] = {**context, "contextActivities": {
                k: [self.activity(a) for a in (v if isinstance(v, list) else [v])]
                for k, v in context["contextActivities"].items()}}
        if isinstance(stmt.get("attachments"), list):
            out["attachments"] = [{**a, **{k: pick_language(a[k], self.accept) for k in ("display", "description")
                                           if k in a}} if isinstance(a, dict) else a
                                  for a in stmt["attachments"]]
        return out


def apply_format(statements: list[dict], fmt: str, accept=None) -> list[dict]:
    """The statements as ``fmt`` asks (the stored dicts are never changed)."""
    if fmt == "ids":
        return [_ids_statement(s) for s in statements]
    if fmt == "canonical":
        canon = _Canonicaliser(statements, accept)
        return [canon.statement(s) for s in statements]
    return statements


def deep_copy(statements: list[dict]) -> list[dict]:
    return copy.deepcopy(statements)
