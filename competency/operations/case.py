"""CASE 1.0 / 1.1 packages: checking, import of any framework, and the export that gives it back.

Any valid ``CFPackage`` imports: any item types, any depth, items with several parents, every
association type. What the platform models (the tree for evidence rules and profiles, titles,
codes) goes into its columns; everything else stays as it came, in JSON columns
(``Framework.case_document``, ``Framework.case_package``, ``FrameworkItem.case_item``,
``FrameworkAssociation.data``), so the export returns the same package.

The vocational model is an *overlay*: a package whose ``CFDocument.extensions`` has an
``occupation`` (national code, edition, ``Level`` items with a ladder rung, 职业功能 > 工作内容 >
技能要求/相关知识 item types, weights: see :mod:`competency.operations.frameworks`) becomes a
vocational framework. Any other package becomes a framework with one level, named after the
document, whose leaves are the units evidence rules target (``unit``) and whose inner items are
``group`` items.

Documented differences between an imported and an exported package:

* ``CFDocument.extensions.rules`` holds the framework's active evidence rules as they are now
  (verbs as full IRIs, where the file may have used short names such as ``completed``);
* ``CFDocument.title``/``publisher``/``description`` are the framework's current ones (they can be
  edited), ``adoptionStatus`` is ``Deprecated`` once the framework is retired, and
  ``lastChangeDateTime`` of the document is the time of the last such edit;
* a ``lastChangeDateTime`` missing from a CSV-made framework's objects is set to its import time.
"""
from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from flask import current_app

from competency.operations.case_schema import PACKAGE, escape, locate, nesting_depth, validate
from lms.core.db import db

#: Bytes a framework file may have unless ``COMPETENCY_IMPORT_MAX_BYTES`` says otherwise.
MAX_BYTES = 20 * 1024 * 1024
#: How deeply JSON may nest (a CASE package needs 5 levels; extensions a few more).
MAX_NESTING = 64
#: Items and associations a package may have.
MAX_OBJECTS = 100_000
#: The package members that are not kept in their own tables.
CORE_MEMBERS = ("CFDocument", "CFItems", "CFAssociations")

OVERLAY_RULE = {"type": "object", "required": ["unit", "matchIri"], "properties": {
    "unit": {"type": "string"}, "verbs": {"type": "array", "items": {"type": "string", "maxLength": 1000}},
    "matchKind": {"type": ["string", "null"]}, "matchIri": {"type": "string", "maxLength": 1000},
    "minScaled": {"type": ["number", "null"]}, "successRequired": {"type": ["boolean", "null"]},
    "weight": {"type": ["number", "null"]}, "group": {"type": ["string", "null"], "maxLength": 200},
    "operator": {"type": ["string", "null"]}, "name": {"type": ["string", "null"], "maxLength": 300}}}
#: ``CFDocument.extensions`` as the platform reads it (other members are kept, unread).
DOCUMENT_EXTENSIONS = {"type": ["object", "null"], "properties": {
    "occupation": {"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string", "maxLength": 20}, "name_zh": {"type": "string", "maxLength": 100},
        "name": {"type": "string", "maxLength": 100}, "name_en": {"type": "string", "maxLength": 200}}},
    "edition": {"type": ["string", "integer"]}, "titleEn": {"type": "string", "maxLength": 300},
    "rules": {"type": "array", "items": OVERLAY_RULE}}}
_num = {"type": ["number", "null"]}
ITEM_EXTENSIONS = {"type": ["object", "null"], "properties": {
    "rung": {"type": "integer"}, "coverageThreshold": _num, "theoryPassMark": _num, "practicalPassMark": _num,
    "examValidityDays": {"type": ["integer", "null"]}, "examsRequired": {"type": ["boolean", "null"]},
    "reviewRequired": {"type": ["boolean", "null"]}, "prerequisites": {"type": "array", "items": {"type": "array"}},
    "examActivities": {"type": "array", "items": {"type": "object", "required": ["part", "iri"], "properties": {
        "part": {"type": "string"}, "iri": {"type": "string", "maxLength": 1000}}}},
    "theoryWeight": _num, "skillWeight": _num, "weight": _num, "required": {"type": ["boolean", "null"]},
    "fullStatementEn": {"type": ["string", "null"]}, "levelName": {"type": ["string", "null"], "maxLength": 300}}}


class Problems(list):
    """``(pointer, message)`` problems of one package."""

    def add(self, pointer: str, message: str) -> None:
        self.append((pointer, message))


def raise_problems(text: str, problems) -> None:
    """Raise :class:`FrameworkImportError` with each problem located (pointer and, when the file
    has lines, line)."""
    from competency.operations.frameworks import FrameworkImportError

    lines = locate(text, [p for p, _m in problems])
    raise FrameworkImportError([(lines.get(p), m, p) for p, m in problems])


def load_package(text: str) -> dict:
    """Parse and check a CASE package (JSON text); raise :class:`FrameworkImportError` listing
    every problem, located, when it is not a valid ``CFPackage``."""
    from competency.operations.frameworks import FrameworkImportError

    limit = current_app.config.get("COMPETENCY_IMPORT_MAX_BYTES", MAX_BYTES)
    if len(text.encode("utf-8", "surrogatepass")) > limit:
        raise FrameworkImportError([(None, f"the file is larger than {limit // 1024 // 1024} MB", "")])
    if nesting_depth(text, MAX_NESTING):
        raise FrameworkImportError([(None, f"the JSON nests deeper than {MAX_NESTING} levels", "")])
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise FrameworkImportError([(exc.lineno, f"not valid JSON: {exc.msg} (character {exc.pos + 1})", "")]) from None
    except (RecursionError, ValueError) as exc:
        raise FrameworkImportError([(None, f"not valid JSON: {exc}", "")]) from None
    problems = Problems(validate(data))
    if not problems:
        for key in ("CFItems", "CFAssociations"):
            if len(data.get(key) or []) > MAX_OBJECTS:
                problems.add(f"/{key}", f"more than {MAX_OBJECTS} objects")
    if not problems:
        _check_overlay_types(data, problems)
    if not problems:
        _check_graph(data, problems)
    if problems:
        raise_problems(text, problems)
    return data


def _check_overlay_types(data: dict, problems: Problems) -> None:
    """The platform's extensions must have the types it reads (else a 500 later)."""
    validate(data["CFDocument"].get("extensions"), DOCUMENT_EXTENSIONS, "/CFDocument/extensions", problems)
    for n, item in enumerate(data.get("CFItems") or []):
        validate(item.get("extensions"), ITEM_EXTENSIONS, f"/CFItems/{n}/extensions", problems)


def _check_graph(data: dict, problems: Problems) -> None:
    """Identifiers unique; ``isChildOf`` links among the package's items form no cycle."""
    seen: dict[str, str] = {}
    doc_id = data["CFDocument"]["identifier"].lower()
    seen[doc_id] = "/CFDocument/identifier"
    for key in ("CFItems", "CFAssociations"):
        for n, obj in enumerate(data.get(key) or []):
            ident = obj["identifier"].lower()
            pointer = f"/{key}/{n}/identifier"
            if ident in seen:
                problems.add(pointer, f"identifier {ident} is used twice (first at {seen[ident]})")
            else:
                seen[ident] = pointer
    items = {i["identifier"].lower() for i in data.get("CFItems") or []}
    children: dict[str, list[tuple[str, int]]] = {}
    for n, assoc in enumerate(data.get("CFAssociations") or []):
        if assoc["associationType"] != "isChildOf":
            continue
        origin = assoc["originNodeURI"]["identifier"].lower()
        dest = assoc["destinationNodeURI"]["identifier"].lower()
        if origin == dest:
            problems.add(f"/CFAssociations/{n}", "an item cannot be a child of itself")
        elif origin in items and dest in items:
            children.setdefault(dest, []).append((origin, n))
    # Iterative depth-first search: a back edge is a cycle (reported once, at the association).
    state: dict[str, int] = {}
    for root in list(children):
        if state.get(root):
            continue
        stack = [(root, iter(children.get(root, ())))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            child, n = nxt
            if state.get(child) == 1:
                problems.add(f"/CFAssociations/{n}", "this isChildOf closes a cycle: an item would be its own "
                                                     "ancestor")
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(children.get(child, ()))))


def is_vocational(data: dict) -> bool:
    """Whether the package carries the vocational overlay (an occupation in the document's
    extensions)."""
    return isinstance((data["CFDocument"].get("extensions") or {}).get("occupation"), dict)


def first_parents(data: dict) -> dict[str, str]:
    """Each item's tree parent: the destination of its first ``isChildOf`` (lowest
    ``sequenceNumber``, then file order). Further parents stay associations."""
    best: dict[str, tuple] = {}
    for n, assoc in enumerate(data.get("CFAssociations") or []):
        if assoc["associationType"] != "isChildOf":
            continue
        origin = assoc["originNodeURI"]["identifier"].lower()
        seq = assoc.get("sequenceNumber")
        key = (seq is None, seq if seq is not None else 0, n)
        if origin not in best or key < best[origin][0]:
            best[origin] = (key, assoc["destinationNodeURI"]["identifier"].lower())
    return {k: v[1] for k, v in best.items()}


def rule_specs(data: dict, text: str) -> list[dict]:
    """The evidence rules of ``CFDocument.extensions.rules`` as import specs (short verb names
    such as ``completed`` become ADL IRIs, as in the CSV)."""
    from competency.operations.frameworks import verb_iri

    ext = data["CFDocument"].get("extensions") or {}
    rules = []
    lines = locate(text, [f"/CFDocument/extensions/rules/{n}" for n in range(len(ext.get("rules") or []))])
    for n, rule in enumerate(ext.get("rules") or []):
        pointer = f"/CFDocument/extensions/rules/{n}"
        rules.append({"unit": str(rule.get("unit") or "").lower(), "verbs": [verb_iri(v) for v in rule.get("verbs")
                                                                             or ["completed"]],
                      "match_kind": rule.get("matchKind") or "activity", "match_iri": rule.get("matchIri"),
                      "min_scaled": rule.get("minScaled"), "success_required": bool(rule.get("successRequired")),
                      "weight": rule["weight"] if rule.get("weight") is not None else 1.0,
                      "group": rule.get("group") or "", "operator": rule.get("operator") or "any",
                      "name": rule.get("name") or "", "line": lines.get(pointer), "pointer": pointer})
    return rules


# --- import of a framework without the overlay ------------------------------------------------


def occupation_code_for(identifier: str) -> str:
    """The occupation row code of a framework without the overlay (``CASE-`` + 15 hex digits)."""
    return "CASE-" + uuid.UUID(identifier).hex[:15]


def import_generic(text: str, data: dict, *, actor, owner_org_id):
    """Import a package without the vocational overlay (checked by :func:`load_package`)."""
    from competency.models import (Framework, FrameworkAssociation, FrameworkItem, FrameworkLevel, Occupation)
    from competency.operations.changes import framework_summary, log_change
    from competency.operations.frameworks import (NAMESPACE, FrameworkImportError, _write_rules, check_rules,
                                                  identifiers_taken)
    from competency.operations.reference import ensure_ladder

    doc = data["CFDocument"]
    items = data.get("CFItems") or []
    assocs = data.get("CFAssociations") or []
    doc_id = doc["identifier"].lower()
    level_id = str(uuid.uuid5(NAMESPACE, f"{doc_id}|level"))
    parents = first_parents(data)
    item_ids = {i["identifier"].lower() for i in items}
    has_children = {p for c, p in parents.items() if p in item_ids and c in item_ids}
    kinds = {i["identifier"].lower(): ("group" if i["identifier"].lower() in has_children else "unit") for i in items}
    rules = rule_specs(data, text)
    errors: list = []
    check_rules(rules, {k: {"kind": v} for k, v in kinds.items()}, errors)
    taken = identifiers_taken([doc_id, level_id, *item_ids])
    lines = locate(text, ["/CFDocument/identifier"] + [f"/CFItems/{n}/identifier" for n in range(len(items))])
    pointer_of = {doc_id: "/CFDocument/identifier", level_id: "/CFDocument/identifier",
                  **{i["identifier"].lower(): f"/CFItems/{n}/identifier" for n, i in enumerate(items)}}
    for ident in sorted(taken)[:5]:
        p = pointer_of.get(ident, "")
        errors.append((lines.get(p), f"identifier {ident} already exists on this platform", p))
    if len(taken) > 5:
        errors.append((None, f"{len(taken) - 5} more identifiers already exist on this platform", ""))
    assoc_taken = set(db.session.scalars(sa.select(FrameworkAssociation.identifier).where(
        FrameworkAssociation.identifier.in_([a["identifier"].lower() for a in assocs][:MAX_OBJECTS])))) if assocs else set()
    for n, a in enumerate(assocs):
        if a["identifier"].lower() in assoc_taken and len(errors) < 50:
            errors.append((None, f"association {a['identifier']} already exists on this platform",
                           f"/CFAssociations/{n}/identifier"))
    if errors:
        raise FrameworkImportError(errors)
    ensure_ladder()
    code = occupation_code_for(doc_id)
    occ = db.session.scalar(sa.select(Occupation).where(Occupation.code == code))
    if occ is None:
        occ = Occupation(code=code, name_zh=doc["title"][:100], name_en=doc["title"][:200])
        db.session.add(occ)
        db.session.flush()
    status = "retired" if (doc.get("adoptionStatus") or "").lower() in ("deprecated", "retired") else "active"
    fw = Framework(identifier=uuid.UUID(doc_id), occupation_id=occ.id, edition=doc.get("version") or "",
                   title=doc["title"], title_en="", publisher=doc.get("publisher") or doc.get("creator") or "",
                   description=doc.get("description") or "", status=status, vocational=False,
                   extensions=doc.get("extensions") or {}, case_document=doc,
                   case_package={"extra": {k: v for k, v in data.items() if k not in CORE_MEMBERS},
                                 "order": [i["identifier"].lower() for i in items]},
                   imported_by_id=getattr(actor, "id", None), owner_org_id=owner_org_id)
    db.session.add(fw)
    db.session.flush()
    level = FrameworkLevel(identifier=uuid.UUID(level_id), framework_id=fw.id, rung=1, name=doc["title"],
                           exams_required=False, review_required=False, prerequisites=[])
    db.session.add(level)
    db.session.flush()
    seq = {}
    for a in assocs:
        if a["associationType"] == "isChildOf" and a.get("sequenceNumber") is not None:
            seq.setdefault(a["originNodeURI"]["identifier"].lower(), a["sequenceNumber"])
    rows = {}
    for n, item in enumerate(items):
        ident = item["identifier"].lower()
        ext = item.get("extensions") or {}
        rows[ident] = FrameworkItem(
            identifier=uuid.UUID(ident), framework_id=fw.id, level_id=level.id, kind=kinds[ident],
            code=item.get("humanCodingScheme") or "", title=item["fullStatement"],
            title_en=ext.get("fullStatementEn") or "", position=seq.get(ident, n),
            weight=float(ext["weight"]) if ext.get("weight") is not None else 1.0,
            required=bool(ext.get("required")), case_item=item)
    db.session.add_all(rows.values())
    db.session.flush()
    for ident, row in rows.items():
        parent = rows.get(parents.get(ident))
        if parent is not None:
            row.parent_id = parent.id
    save_associations(fw, assocs)
    _write_rules(fw, rules, rows, actor)
    db.session.flush()
    log_change("framework", "create", actor=actor, framework_id=fw.id, owner_org_id=owner_org_id,
               after={**framework_summary(fw), "rules": len(rules), "format": "CASE"})
    return fw


def save_associations(fw, assocs: list[dict]) -> None:
    """Keep every ``CFAssociation`` of the package whole."""
    from competency.models import FrameworkAssociation

    db.session.add_all([FrameworkAssociation(
        identifier=a["identifier"].lower(), framework_id=fw.id, association_type=a["associationType"],
        origin_identifier=a["originNodeURI"]["identifier"].lower()[:64],
        destination_identifier=a["destinationNodeURI"]["identifier"].lower()[:64],
        sequence_number=a.get("sequenceNumber"), position=n, data=a) for n, a in enumerate(assocs)])
    db.session.flush()


# --- export ------------------------------------------------------------------------------------


def _stamp(fw) -> str:
    stamp = fw.created_at
    return stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00") if stamp else "2000-01-01T00:00:00+00:00"


def export_kept(fw, generated: dict) -> dict:
    """The export of a framework imported from CASE: the kept objects, in the file's order, with
    the framework's current titles, status and rules (see the module docstring). ``generated``
    is the platform's own rendering, used for objects the file did not have."""
    from competency.models import FrameworkAssociation, FrameworkItem

    doc = dict(fw.case_document)
    doc["title"] = fw.title
    for key, value in (("publisher", fw.publisher), ("description", fw.description)):
        if value or key in doc:
            doc[key] = value
    if fw.status == "retired":
        doc["adoptionStatus"] = "Deprecated"
    doc.setdefault("lastChangeDateTime", _stamp(fw))
    ext = doc.get("extensions")
    rules = (generated["CFDocument"].get("extensions") or {}).get("rules") or []
    if isinstance(ext, dict) and ("rules" in ext or rules):
        doc["extensions"] = {**ext, "rules": rules}
    elif ext is None and rules:
        doc["extensions"] = {"rules": rules}
    kept = {str(i.identifier): i.case_item for i in db.session.scalars(
        sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id))}
    levels = (fw.case_package or {}).get("levels") or {}
    order = (fw.case_package or {}).get("order") or []
    by_id = {**levels, **{k: v for k, v in kept.items() if v}}
    items = [by_id[i] for i in order if i in by_id]
    assocs = [a.data for a in db.session.scalars(sa.select(FrameworkAssociation).where(
        FrameworkAssociation.framework_id == fw.id).order_by(FrameworkAssociation.position))]
    package = {"CFDocument": doc, "CFItems": items, "CFAssociations": assocs}
    package.update((fw.case_package or {}).get("extra") or {})
    return package


__all__ = ["load_package", "import_generic", "export_kept", "is_vocational", "first_parents", "escape", "PACKAGE"]
