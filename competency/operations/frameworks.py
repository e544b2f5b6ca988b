"""Import and export of frameworks: 1EdTech CASE JSON packages and a CSV a standards office fills in.

Both formats are parsed into one neutral *spec*, validated as a whole (every problem reported
with its line number), and only then written: a file with any error imports nothing. A new
edition of a standard is a new framework; earlier editions and their attainments stay.

CASE JSON (``CFPackage`` shape)
-------------------------------
Any CASE 1.0 / 1.1 package imports (checked first against the CASE shape, problems located by
JSON pointer and line; see :mod:`competency.operations.case` and
:mod:`competency.operations.case_schema`). Without the vocational overlay below it becomes a
framework with one level named after the document whose leaf items are the units. With the
overlay, platform data goes into ``extensions``:

* ``CFDocument.extensions``: ``occupation`` ``{"code": "6-31-01-03", "name_zh", "name_en"}``,
  ``edition``, ``titleEn``, optional ``rules`` (see the CSV ``rule`` record, as objects with
  ``unit`` = item identifier, ``verbs``, ``matchKind``, ``matchIri``, ``minScaled``,
  ``successRequired``, ``weight``, ``group``, ``operator``).
* ``CFItemType`` ``Level`` items: ``rung``, ``coverageThreshold``, ``theoryPassMark``,
  ``practicalPassMark``, ``examValidityDays``, ``examsRequired``, ``reviewRequired``,
  ``prerequisites`` (list of alternative condition sets) and ``examActivities``
  (``[{"part": "theory", "iri": ...}]``).
* ``Function`` items: ``theoryWeight`` and ``skillWeight`` (percent, from the 比重表).
* ``SkillRequirement`` / ``Knowledge`` items (the units): ``weight``, ``required``.
* ``WorkContent`` items: nothing extra.

Tree: ``isChildOf`` associations (origin = child, destination = parent); a function is a child
of its level. An item's first ``isChildOf`` (lowest ``sequenceNumber``) is its tree parent; every
association is kept whole for the export. Rule ``verbs`` may be short names (``completed``).

CSV layout (UTF-8, optional BOM, first line the header)
-------------------------------------------------------
Columns: ``record, level, code, parent, title, title_en, weight, required, theory_weight,
skill_weight, options``. One line per record; ``record`` is one of:

``document``  code = occupation code (``6-31-01-03``), title = framework title, title_en;
              options ``edition=2019; occupation=电工; occupation_en=Electrician; publisher=...``
``level``     level = rung (0-7); options ``coverage=0.8; theory_pass=60; practical_pass=60;
              validity_days=1095; exams=yes; review=no``
``prerequisite`` level; code = a name for the alternative (A, B, ...); options, all of which
              must hold: ``level_held=2; years_in_occupation=4; years_since_level=3;
              school_qualification=any; apprenticeship_completed=yes``
``exam``      level; code = ``theory``, ``practical`` or ``review``; title = activity IRI whose
              ``passed``/``failed`` statements are the result
``function``  level; code (``1``); title; theory_weight; skill_weight
``work_content`` level; code (``1.1``); parent = function code; title
``skill`` / ``knowledge`` level; code (``1.1.1``); parent = work content code; title; weight
              (default 1); required (``yes``/``no``)
``rule``      level; code = unit code; title = IRI matched; options ``verbs=completed,passed;
              match=activity|type|parent; min_scaled=0.6; success=yes; weight=1; group=A;
              operator=any|all``

Codes are unique within a level. Identifiers of CSV items are derived (UUID v5) from the
occupation, edition, level and code, so re-importing a corrected file gives the same ones.
"""
from __future__ import annotations

import csv
import io
import re
import uuid

import sqlalchemy as sa

from competency.operations import CompetencyError
from lms.core.db import db

CSV_COLUMNS = ("record", "level", "code", "parent", "title", "title_en", "weight", "required", "theory_weight",
               "skill_weight", "options")
CASE_TYPES = {"Level": "level", "Function": "function", "WorkContent": "work_content",
              "SkillRequirement": "skill", "Knowledge": "knowledge"}
CASE_TYPE_OF = {v: k for k, v in CASE_TYPES.items()}
PARENT_KIND = {"function": None, "work_content": "function", "skill": "work_content", "knowledge": "work_content"}
PREREQ_KINDS = ("level_held", "years_in_occupation", "years_since_level", "school_qualification",
                "apprenticeship_completed")
VERB_SHORT = {"completed", "passed", "failed", "experienced", "attempted", "answered", "mastered", "progressed",
              "launched", "initialized", "terminated"}
NAMESPACE = uuid.UUID("8a5f5a8e-4a0c-4b39-9a43-6c1f0a4f2d11")


class FrameworkImportError(CompetencyError):
    """The file has problems; ``errors`` is a list of ``(line, message)`` or, for CASE JSON,
    ``(line, message, pointer)`` (a JSON pointer such as ``/CFItems/12/listEnumeration``; the
    line is None for a one-line file); nothing was imported."""

    code = "invalid_framework"

    def __init__(self, errors: list[tuple], *, status: int | None = None, code: str | None = None):
        self.errors = sorted(errors, key=lambda e: (e[0] or 0, e[2] if len(e) > 2 else ""))
        super().__init__("; ".join(format_error(e) for e in self.errors[:20]), status=status, code=code)

    @property
    def problems(self) -> list[dict]:
        """The errors as ``{"line", "pointer", "message", "text"}`` objects (the API's shape)."""
        return [{"line": e[0], "pointer": e[2] if len(e) > 2 else None, "message": e[1], "text": format_error(e)}
                for e in self.errors]


def format_error(error: tuple) -> str:
    line, message = error[0], error[1]
    pointer = error[2] if len(error) > 2 else None
    where = " ".join(w for w in (pointer and f"at {pointer}", line and f"line {line}") if w)
    if pointer:
        return f"{where}: {message}"
    return f"line {line}: {message}" if line else message


# --- parsing -------------------------------------------------------------------------------------


def _bool(value, default=False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "yes", "y", "true", "是", "x")


def _options(text: str) -> dict[str, str]:
    out = {}
    for part in re.split(r"[;；]", text or ""):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        out[key.strip().lower()] = value.strip()
    return out


def verb_iri(v: str) -> str:
    """A verb IRI from a full IRI or a short name of the shared vocabulary (``completed``)."""
    from lms.xapi import vocab

    v = v.strip()
    for iri, verb in vocab.VERBS.items():
        if v == verb["display"].get("en-US"):
            return iri
    return "http://adlnet.gov/expapi/verbs/" + v if v in VERB_SHORT else v


_verb_iri = verb_iri


def parse_case(text: str, data: dict | None = None) -> dict:
    """Parse a CASE JSON package with the vocational overlay into a spec (errors collected in
    ``spec["errors"]``); the package is checked first (:func:`competency.operations.case.load_package`)."""
    from competency.operations.case import first_parents, rule_specs
    from competency.operations.case_schema import locate

    errors: list[tuple] = []
    if data is None:
        from competency.operations.case import load_package

        data = load_package(text)
    items = data.get("CFItems") or []
    pointers = ["/CFDocument/identifier"] + [f"/CFItems/{n}" for n in range(len(items))]
    lines = locate(text, pointers)
    where = {}
    for n, item in enumerate(items):
        where[item["identifier"].lower()] = (lines.get(f"/CFItems/{n}"), f"/CFItems/{n}")

    def line_of(identifier) -> int | None:
        return where.get(str(identifier or "").lower(), (None, ""))[0]

    doc = data["CFDocument"]
    ext = doc.get("extensions") or {}
    occ = ext.get("occupation") or {}
    spec = {"errors": errors, "document": {
        "identifier": doc.get("identifier"), "title": doc.get("title") or "", "title_en": ext.get("titleEn") or "",
        "edition": str(ext.get("edition") or doc.get("version") or ""), "publisher": doc.get("publisher") or "",
        "description": doc.get("description") or "", "line": lines.get("/CFDocument/identifier"),
        "pointer": "/CFDocument",
        "occupation": {"code": occ.get("code") or "", "name_zh": occ.get("name_zh") or occ.get("name") or "",
                       "name_en": occ.get("name_en") or ""}},
        "levels": [], "items": [], "rules": []}
    parents = first_parents(data)
    level_by_id = {}
    for n, item in enumerate(items):
        ident = item["identifier"].lower()
        line = line_of(ident)
        kind = CASE_TYPES.get(item.get("CFItemType") or "")
        iext = item.get("extensions") or {}
        if kind is None:
            errors.append((locate(text, [f"/CFItems/{n}/CFItemType"]).get(f"/CFItems/{n}/CFItemType"),
                           f"unknown CFItemType {item.get('CFItemType')!r} in a framework with the "
                                 f"vocational overlay (expected one of {', '.join(CASE_TYPES)})",
                           f"/CFItems/{n}/CFItemType"))
            continue
        if kind == "level":
            lv = {"identifier": ident, "rung": iext.get("rung"), "line": line, "pointer": f"/CFItems/{n}",
                  "name": iext.get("levelName") or item.get("fullStatement") or "",
                  "coverage_threshold": iext.get("coverageThreshold", 0.8),
                  "theory_pass_mark": iext.get("theoryPassMark", 60), "practical_pass_mark": iext.get("practicalPassMark", 60),
                  "exam_validity_days": iext.get("examValidityDays", 1095),
                  "exams_required": iext.get("examsRequired", True), "review_required": iext.get("reviewRequired"),
                  "prerequisites": iext.get("prerequisites") or [],
                  "exams": [{"part": e.get("part"), "iri": e.get("iri"), "line": line}
                            for e in (iext.get("examActivities") or []) if isinstance(e, dict)]}
            spec["levels"].append(lv)
            level_by_id[ident] = lv
            continue
        spec["items"].append({
            "identifier": ident, "kind": kind, "code": item.get("humanCodingScheme") or "", "line": line,
            "pointer": f"/CFItems/{n}",
            "title": item.get("fullStatement") or "", "title_en": iext.get("fullStatementEn") or "",
            "parent": parents.get(ident), "position": n,
            "weight": iext.get("weight", 1.0), "required": iext.get("required", False),
            "theory_weight": iext.get("theoryWeight"), "skill_weight": iext.get("skillWeight"),
        })
    # A function's parent is its level; everything else inherits the level from its ancestors.
    by_id = {i["identifier"]: i for i in spec["items"]}
    for item in spec["items"]:
        node, seen = item, set()
        while node is not None and node["identifier"] not in seen:
            seen.add(node["identifier"])
            parent = node.get("parent")
            if parent in level_by_id:
                item["level"] = level_by_id[parent]["rung"]
                break
            node = by_id.get(parent)
        else:
            item.setdefault("level", None)
        item.setdefault("level", None)
    for item in spec["items"]:
        if item["kind"] == "function" and item["parent"] in level_by_id:
            item["parent"] = None
    spec["rules"] = rule_specs(data, text)
    spec["package"] = data
    return spec


def parse_csv(text: str) -> dict:
    """Parse the CSV layout (see the module docstring) into a spec."""
    errors: list[tuple[int | None, str]] = []
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise FrameworkImportError([(1, "the file is empty")]) from None
    missing = [c for c in ("record", "level", "code", "parent", "title") if c not in header]
    if missing:
        raise FrameworkImportError([(1, f"header lacks the column(s) {', '.join(missing)}; expected "
                                        f"{', '.join(CSV_COLUMNS)}")])
    spec = {"errors": errors, "document": None, "levels": [], "items": [], "rules": []}
    levels: dict[int, dict] = {}
    rows = []
    for lineno, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw):
            continue
        row = {h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header)}
        row["line"] = lineno
        rows.append(row)

    def rung_of(row) -> int | None:
        try:
            rung = int(row["level"])
        except ValueError:
            errors.append((row["line"], f"level {row['level']!r} is not a rung number 0-7"))
            return None
        return rung

    def number(row, col, default=None):
        value = row.get(col, "")
        if value == "":
            return default
        try:
            return float(value)
        except ValueError:
            errors.append((row["line"], f"{col} {value!r} is not a number"))
            return default

    for row in rows:
        record, line = row["record"].lower(), row["line"]
        if record == "document":
            if spec["document"] is not None:
                errors.append((line, "a second document line; a file holds one framework"))
                continue
            opts = _options(row.get("options", ""))
            spec["document"] = {"identifier": None, "title": row["title"], "title_en": row.get("title_en", ""),
                                "edition": opts.get("edition", ""), "publisher": opts.get("publisher", ""),
                                "description": opts.get("description", ""), "line": line,
                                "occupation": {"code": row["code"], "name_zh": opts.get("occupation", ""),
                                               "name_en": opts.get("occupation_en", "")}}
        elif record == "level":
            rung = rung_of(row)
            if rung is None:
                continue
            opts = _options(row.get("options", ""))
            try:
                lv = {"identifier": None, "rung": rung, "line": line,
                      "coverage_threshold": float(opts.get("coverage", 0.8)),
                      "theory_pass_mark": float(opts.get("theory_pass", 60)),
                      "practical_pass_mark": float(opts.get("practical_pass", 60)),
                      "exam_validity_days": int(opts.get("validity_days", 1095)),
                      "exams_required": _bool(opts.get("exams"), True),
                      "review_required": _bool(opts["review"]) if "review" in opts else None,
                      "prerequisites": [], "exams": []}
            except ValueError as exc:
                errors.append((line, f"level options: {exc}"))
                continue
            if rung in levels:
                errors.append((line, f"level {rung} is defined twice"))
                continue
            levels[rung] = lv
            spec["levels"].append(lv)
    for row in rows:
        record, line = row["record"].lower(), row["line"]
        if record in ("document", "level"):
            continue
        rung = rung_of(row)
        if rung is None:
            continue
        if record in ("prerequisite", "exam") and rung not in levels:
            errors.append((line, f"level {rung} has no level line"))
            continue
        if record == "prerequisite":
            conditions = []
            for key, value in _options(row.get("options", "")).items():
                if key not in PREREQ_KINDS:
                    errors.append((line, f"unknown prerequisite {key!r} (expected {', '.join(PREREQ_KINDS)})"))
                    continue
                if key in ("level_held",):
                    conditions.append({"kind": key, "rung": int(value) if value.isdigit() else value})
                elif key in ("years_in_occupation", "years_since_level"):
                    try:
                        conditions.append({"kind": key, "years": float(value)})
                    except ValueError:
                        errors.append((line, f"{key} {value!r} is not a number of years"))
                else:
                    conditions.append({"kind": key, "value": value or "any"})
            levels[rung]["prerequisites"].append({"name": row["code"], "conditions": conditions, "line": line})
        elif record == "exam":
            levels[rung]["exams"].append({"part": row["code"], "iri": row["title"], "line": line})
        elif record in PARENT_KIND:
            spec["items"].append({"identifier": None, "kind": record, "code": row["code"], "level": rung,
                                  "parent_code": row["parent"], "title": row["title"], "line": line,
                                  "title_en": row.get("title_en", ""), "position": line,
                                  "weight": number(row, "weight", 1.0), "required": _bool(row.get("required")),
                                  "theory_weight": number(row, "theory_weight"),
                                  "skill_weight": number(row, "skill_weight")})
        elif record == "rule":
            opts = _options(row.get("options", ""))
            try:
                min_scaled = float(opts["min_scaled"]) if opts.get("min_scaled") else None
                weight = float(opts.get("weight", 1))
            except ValueError as exc:
                errors.append((line, f"rule options: {exc}"))
                continue
            spec["rules"].append({"unit_code": (rung, row["code"]), "line": line, "match_iri": row["title"],
                                  "verbs": [_verb_iri(v) for v in re.split(r"[,| ]+", opts.get("verbs", "completed")) if v.strip()],
                                  "match_kind": opts.get("match", "activity"), "min_scaled": min_scaled,
                                  "success_required": _bool(opts.get("success")), "weight": weight,
                                  "group": opts.get("group", ""), "operator": opts.get("operator", "any"),
                                  "name": row.get("title_en", "")})
        else:
            errors.append((line, f"unknown record {row['record']!r} (expected document, level, prerequisite, "
                                 f"exam, function, work_content, skill, knowledge or rule)"))
    if spec["document"] is None:
        errors.append((2, "no document line (record=document with the occupation code and the title)"))
        return spec
    # Derive stable identifiers from occupation, edition, level and code; resolve parents.
    doc = spec["document"]
    base = f"{doc['occupation']['code']}|{doc['edition']}"
    doc["identifier"] = str(uuid.uuid5(NAMESPACE, base))
    for lv in spec["levels"]:
        lv["identifier"] = str(uuid.uuid5(NAMESPACE, f"{base}|L{lv['rung']}"))
        # CSV prerequisites are named rows; keep only the condition lists.
        lv["prerequisites"] = [p["conditions"] for p in lv["prerequisites"]]
    by_code = {}
    for item in spec["items"]:
        item["identifier"] = str(uuid.uuid5(NAMESPACE, f"{base}|L{item['level']}|{item['code']}"))
        key = (item["level"], item["code"])
        if key in by_code:
            errors.append((item["line"], f"code {item['code']!r} is used twice in level {item['level']} "
                                         f"(first on line {by_code[key]['line']})"))
        else:
            by_code[key] = item
    for item in spec["items"]:
        pc = item.pop("parent_code")
        if item["kind"] == "function":
            item["parent"] = None
            if pc:
                errors.append((item["line"], "a function has no parent"))
        else:
            parent = by_code.get((item["level"], pc))
            item["parent"] = parent["identifier"] if parent else ("missing:" + pc)
    for rule in spec["rules"]:
        unit = by_code.get(rule.pop("unit_code"))
        rule["unit"] = unit["identifier"] if unit else None
    return spec


# --- validation --------------------------------------------------------------------------------


def validate(spec: dict) -> None:
    """Check a spec as a whole; raise :class:`FrameworkImportError` listing every problem."""
    from competency.models import Framework, FrameworkItem, FrameworkLevel, Occupation
    from competency.operations.reference import OCCUPATION_CODE

    errors = spec["errors"]
    doc = spec["document"]
    if doc is None:
        raise FrameworkImportError(errors)

    def at(obj, message):
        """One problem of a document, level or item spec (with its JSON pointer for CASE)."""
        errors.append((obj.get("line"), message, obj["pointer"]) if obj.get("pointer")
                      else (obj.get("line"), message))

    for key, limit in (("title", 300), ("title_en", 300), ("publisher", 200), ("edition", 40)):
        if len(doc.get(key) or "") > limit:
            at(doc, f"the {key.replace('_', ' ')} is longer than {limit} characters")
    if len(doc["occupation"]["name_zh"]) > 100 or len(doc["occupation"]["name_en"]) > 200:
        at(doc, "the occupation name is too long (100 characters; English 200)")
    for item in spec["items"]:
        if len(item["code"] or "") > 200:
            at(item, f"code {item['code'][:40]!r}... is longer than 200 characters")
    for rule in spec["rules"]:
        if len(rule.get("name") or "") > 300 or len(rule.get("group") or "") > 200 \
                or len(rule.get("match_iri") or "") > 1000 or any(len(v) > 1000 for v in rule["verbs"]):
            errors.append((rule["line"], "a rule's name, group, IRI or verb is too long"))
    dl = doc["line"]
    occ = doc["occupation"]
    if not OCCUPATION_CODE.match(occ["code"] or ""):
        at(doc, f"occupation code {occ['code']!r} is not of the form 6-31-01-03")
    if not doc["title"]:
        at(doc, "the framework has no title")
    if not doc["edition"]:
        at(doc, "the framework has no edition (e.g. edition=2019)")
    existing_occ = db.session.scalar(sa.select(Occupation).where(Occupation.code == occ["code"]))
    if existing_occ is None and not occ["name_zh"]:
        at(doc, f"occupation {occ['code']} is new: give its name (occupation=...)")
    if existing_occ is not None and doc["edition"] and db.session.scalar(
            sa.select(Framework.id).where(Framework.occupation_id == existing_occ.id,
                                          Framework.edition == doc["edition"])):
        at(doc, f"edition {doc['edition']} of occupation {occ['code']} is already imported; "
                           f"a new edition needs a new edition name")
    idents: dict[str, int | None] = {}

    def check_identifier(ident, line, what):
        try:
            uuid.UUID(str(ident))
        except ValueError:
            errors.append((line, f"{what}: identifier {ident!r} is not a UUID"))
            return
        if str(ident) in idents:
            errors.append((line, f"{what}: identifier {ident} is used twice"))
        idents[str(ident)] = line

    check_identifier(doc["identifier"], dl, "document")
    rungs = set()
    if not spec["levels"]:
        at(doc, "the framework covers no level")
    for lv in spec["levels"]:
        line = lv["line"]
        check_identifier(lv["identifier"], line, "level")
        rung = lv["rung"]
        if not isinstance(rung, int) or not 0 <= rung <= 7:
            at(lv, f"level rung {rung!r} must be 0 to 7")
            continue
        if rung in rungs:
            at(lv, f"level {rung} is defined twice")
        rungs.add(rung)
        if lv["review_required"] is None:
            lv["review_required"] = rung >= 4
        try:
            if not 0 < float(lv["coverage_threshold"]) <= 1:
                at(lv, "coverage must be above 0 and at most 1")
            for key in ("theory_pass_mark", "practical_pass_mark"):
                if not 0 <= float(lv[key]) <= 100:
                    at(lv, f"{key.replace('_', ' ')} must be 0 to 100")
            if int(lv["exam_validity_days"]) <= 0:
                at(lv, "validity_days must be positive")
        except (TypeError, ValueError):
            at(lv, "level settings must be numbers")
        if not isinstance(lv["prerequisites"], list):
            at(lv, "prerequisites must be a list of alternative condition sets")
        else:
            for alt in lv["prerequisites"]:
                if not isinstance(alt, list):
                    at(lv, "each prerequisite alternative must be a list of conditions")
                    continue
                for cond in alt:
                    if not isinstance(cond, dict) or cond.get("kind") not in PREREQ_KINDS:
                        at(lv, f"unknown prerequisite condition {cond!r}")
                    elif cond["kind"] == "level_held" and not (isinstance(cond.get("rung"), int)
                                                               and 0 <= cond["rung"] <= 7):
                        at(lv, "level_held needs a rung 0-7")
        for exam in lv["exams"]:
            if exam["part"] not in ("theory", "practical", "review"):
                at(exam, f"exam part {exam['part']!r} must be theory, practical or review")
            if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", exam["iri"] or ""):
                at(exam, f"exam activity {exam['iri']!r} is not an IRI")
    by_ident = {}
    for item in spec["items"]:
        line = item["line"]
        check_identifier(item["identifier"], line, f"item {item['code']}")
        by_ident[str(item["identifier"])] = item
        if not item["title"]:
            at(item, f"item {item['code']!r} has no title")
        if item.get("level") is None:
            at(item, f"item {item['code']!r} is under no level (its parents do not lead to a level)")
        elif item.get("level") not in rungs:
            at(item, f"item {item['code']!r} belongs to level {item.get('level')!r}, which the "
                                 f"framework does not define")
        for key in ("weight", "theory_weight", "skill_weight"):
            value = item.get(key)
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                at(item, f"{key.replace('_', ' ')} of {item['code']!r} must be a number >= 0")
    for item in spec["items"]:
        want = PARENT_KIND[item["kind"]]
        parent = by_ident.get(str(item["parent"])) if item["parent"] else None
        if want is None:
            continue
        if parent is None:
            ref = str(item["parent"] or "").removeprefix("missing:")
            at(item, f"{item['kind'].replace('_', ' ')} {item['code']!r} needs a parent "
                                         f"{want.replace('_', ' ')}" + (f"; {ref!r} is not defined in its level"
                                                                         if ref else ""))
        elif parent["kind"] != want:
            at(item, f"the parent of {item['kind'].replace('_', ' ')} {item['code']!r} must be "
                                         f"a {want.replace('_', ' ')}, not a {parent['kind'].replace('_', ' ')}")
        elif parent.get("level") != item.get("level"):
            at(item, f"item {item['code']!r} and its parent are in different levels")
    for rung in rungs:
        units = [i for i in spec["items"] if i.get("level") == rung and i["kind"] in ("skill", "knowledge")]
        if not units:
            line = next(lv["line"] for lv in spec["levels"] if lv["rung"] == rung)
            errors.append((line, f"level {rung} has no skill or knowledge units"))
        total = sum(i["theory_weight"] or 0 for i in spec["items"] if i.get("level") == rung and i["kind"] == "function")
        if total > 100:
            errors.append((None, f"level {rung}: theory weights of the functions add up to {total:g} (over 100)"))
    check_rules(spec["rules"], by_ident, errors)
    # Identifiers must be new to the platform (a new edition needs new identifiers).
    duplicate_edition = any("already imported" in e[1] for e in errors)
    ids = [i for i in idents if _is_uuid(i)] if not duplicate_edition else []
    if ids:
        taken = identifiers_taken(ids)
        clashes = sorted(taken, key=lambda i: idents[i] or 0)
        for ident in clashes[:5]:
            errors.append((idents[ident], f"identifier {ident} already exists on this platform"))
        if len(clashes) > 5:
            errors.append((None, f"{len(clashes) - 5} more identifiers already exist on this platform"))
    if errors:
        raise FrameworkImportError(errors)


def identifiers_taken(ids) -> set[str]:
    """Which of ``ids`` a framework, level or item of the platform already has."""
    from competency.models import Framework, FrameworkItem, FrameworkLevel

    uuids = [uuid.UUID(str(i)) for i in ids]
    taken: set[str] = set()
    for n in range(0, len(uuids), 500):
        chunk = uuids[n:n + 500]
        for model in (Framework, FrameworkLevel, FrameworkItem):
            taken |= {str(v) for v in db.session.scalars(sa.select(model.identifier).where(model.identifier.in_(chunk)))}
    return taken


def check_rules(rules: list[dict], by_ident: dict, errors: list) -> None:
    """Check evidence rule specs against the framework's items (``by_ident``: identifier -> item
    spec with its ``kind``); problems go to ``errors``."""
    from competency.models.frameworks import UNIT_KINDS

    def err(rule, message):
        errors.append((rule["line"], message, rule["pointer"]) if rule.get("pointer") else (rule["line"], message))

    group_ops: dict = {}
    for rule in rules:
        line = rule["line"]
        unit = by_ident.get(str(rule["unit"])) if rule["unit"] else None
        if unit is None or unit["kind"] not in UNIT_KINDS:
            err(rule, "the rule's unit is not a unit (skill, knowledge or leaf item) of this framework")
            continue
        if rule["match_kind"] not in ("activity", "type", "parent"):
            err(rule, f"match {rule['match_kind']!r} must be activity, type or parent")
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", rule["match_iri"] or ""):
            err(rule, f"{rule['match_iri']!r} is not an IRI")
        if not rule["verbs"] or not all(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", v or "") for v in rule["verbs"]):
            err(rule, "the rule needs verb IRIs (or short ADL names such as completed, passed)")
        if rule["min_scaled"] is not None and not -1 <= float(rule["min_scaled"]) <= 1:
            err(rule, "min_scaled must be between -1 and 1")
        if rule["operator"] not in ("any", "all"):
            err(rule, "operator must be any or all")
        try:
            if not 0 < float(rule["weight"]) <= 1:
                err(rule, "the rule's weight must be above 0 and at most 1")
        except (TypeError, ValueError):
            err(rule, "the rule's weight must be a number")
        gkey = (str(rule["unit"]), rule["group"] or ("all" if rule["operator"] == "all" else ""))
        if gkey in group_ops and group_ops[gkey] != rule["operator"]:
            err(rule, f"criteria group {gkey[1]!r} mixes the operators any and all")
        group_ops.setdefault(gkey, rule["operator"])


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


# --- import ----------------------------------------------------------------------------------


def parse(text: str, filename: str = "") -> dict:
    """Parse ``text`` as CASE JSON or CSV (by file name, else by content). A CASE package without
    the vocational overlay gives ``{"generic": package}`` (see :mod:`competency.operations.case`)."""
    from competency.operations.case import is_vocational, load_package

    stripped = text.lstrip("\ufeff \r\n\t")
    if filename.lower().endswith(".json") or stripped.startswith(("{", "[")):
        data = load_package(text)
        if not is_vocational(data):
            return {"generic": data}
        return parse_case(text, data)
    return parse_csv(text)


def import_framework(text: str, filename: str = "", *, actor=None, owner_org_id: int | None = None):
    """Validate and import a framework file; returns the new :class:`Framework`.

    ``owner_org_id`` is the organisation that owns the framework and its imported rules (None =
    the system: national standards). Raises :class:`FrameworkImportError` (and writes nothing)
    when anything is wrong.
    """
    spec = parse(text, filename)
    try:
        # A savepoint: an identifier taken by an import running at the same time is a conflict
        # (409) and leaves the caller's transaction usable.
        with db.session.begin_nested():
            if "generic" in spec:
                from competency.operations.case import import_generic

                return import_generic(text, spec["generic"], actor=actor, owner_org_id=owner_org_id)
            validate(spec)
            return _import_spec(spec, actor=actor, owner_org_id=owner_org_id)
    except sa.exc.IntegrityError:
        raise FrameworkImportError([(None, "this framework (or one with the same identifiers or edition) was "
                                           "imported at the same time; nothing was imported", "")],
                                   status=409, code="conflict") from None
    except sa.exc.OperationalError as exc:
        # SQLite refuses a second writer outright ("database is locked"): the same conflict.
        if "locked" not in str(exc.orig):
            raise
        raise FrameworkImportError([(None, "another import was writing at the same time; nothing was imported, "
                                           "try again", "")], status=409, code="conflict") from None


def _import_spec(spec: dict, *, actor, owner_org_id):
    """Write a validated vocational spec (CSV, or CASE with the overlay)."""
    from competency.operations.changes import framework_summary, log_change

    from competency.models import Framework, FrameworkItem, FrameworkLevel, LevelExamActivity
    from competency.operations.reference import ensure_ladder, get_or_create_occupation

    ensure_ladder()
    doc = spec["document"]
    occ = get_or_create_occupation(doc["occupation"]["code"], doc["occupation"]["name_zh"],
                                   doc["occupation"]["name_en"])
    package = spec.get("package")
    kept = {}
    if package is not None:
        items = package.get("CFItems") or []
        kept = {"extra": {k: v for k, v in package.items() if k not in ("CFDocument", "CFItems", "CFAssociations")},
                "order": [i["identifier"].lower() for i in items],
                "levels": {i["identifier"].lower(): i for i in items if i.get("CFItemType") == "Level"}}
    fw = Framework(identifier=uuid.UUID(str(doc["identifier"])), occupation_id=occ.id, edition=doc["edition"],
                   title=doc["title"], title_en=doc["title_en"], publisher=doc["publisher"],
                   description=doc["description"], imported_by_id=getattr(actor, "id", None),
                   owner_org_id=owner_org_id, vocational=True,
                   case_document=package["CFDocument"] if package is not None else {},
                   extensions=(package["CFDocument"].get("extensions") or {}) if package is not None else {},
                   case_package=kept)
    db.session.add(fw)
    db.session.flush()
    level_rows = {}
    for lv in spec["levels"]:
        row = FrameworkLevel(identifier=uuid.UUID(str(lv["identifier"])), framework_id=fw.id, rung=lv["rung"],
                             name=(lv.get("name") or "")[:300],
                             coverage_threshold=float(lv["coverage_threshold"]),
                             theory_pass_mark=float(lv["theory_pass_mark"]),
                             practical_pass_mark=float(lv["practical_pass_mark"]),
                             exam_validity_days=int(lv["exam_validity_days"]),
                             exams_required=_bool(lv["exams_required"], True),
                             review_required=bool(lv["review_required"]), prerequisites=lv["prerequisites"])
        db.session.add(row)
        level_rows[lv["rung"]] = row
    db.session.flush()
    for lv in spec["levels"]:
        for exam in lv["exams"]:
            db.session.add(LevelExamActivity(level_id=level_rows[lv["rung"]].id, part=exam["part"],
                                             activity_iri=exam["iri"]))
    raw_items = {i["identifier"].lower(): i for i in (package.get("CFItems") or [])} if package is not None else {}
    item_rows = {}
    # One flush per tree depth: parents get their ids before their children are written.
    for kinds in (("function",), ("work_content",), ("skill", "knowledge")):
        for item in spec["items"]:
            if item["kind"] not in kinds:
                continue
            parent = item_rows.get(str(item["parent"])) if item["parent"] else None
            row = FrameworkItem(identifier=uuid.UUID(str(item["identifier"])), framework_id=fw.id,
                                level_id=level_rows[item["level"]].id, parent_id=parent.id if parent else None,
                                kind=item["kind"], code=item["code"], title=item["title"],
                                title_en=item["title_en"] or "", position=int(item.get("position") or 0),
                                weight=float(item["weight"] if item["weight"] is not None else 1.0),
                                required=_bool(item["required"]), theory_weight=item["theory_weight"],
                                skill_weight=item["skill_weight"], case_item=raw_items.get(str(item["identifier"]), {}))
            db.session.add(row)
            item_rows[str(item["identifier"])] = row
        db.session.flush()
    if package is not None:
        from competency.operations.case import save_associations

        save_associations(fw, package.get("CFAssociations") or [])
    _write_rules(fw, spec["rules"], item_rows, actor)
    db.session.flush()
    log_change("framework", "create", actor=actor, framework_id=fw.id, owner_org_id=owner_org_id,
               after={**framework_summary(fw), "rules": len(spec["rules"])})
    return fw


def _write_rules(fw, rules: list[dict], item_rows: dict, actor) -> None:
    """The imported rules, their criteria groups and index rows, in three bulk flushes
    (the spec is validated already; :func:`competency.operations.rules.create_rule` is the
    one-rule path with the same checks)."""
    from competency.models import CriteriaGroup, EvidenceRule, RuleIndexEntry
    from competency.models.rules import index_key

    groups: dict = {}
    for rule in rules:
        unit = item_rows[str(rule["unit"])]
        operator = rule["operator"]
        name = rule["group"] or ("all" if operator == "all" else "")
        if (unit.id, name) not in groups:
            groups[(unit.id, name)] = CriteriaGroup(unit_id=unit.id, operator=operator, name=name)
            db.session.add(groups[(unit.id, name)])
    db.session.flush()
    rows = []
    for rule in rules:
        unit = item_rows[str(rule["unit"])]
        name = rule["group"] or ("all" if rule["operator"] == "all" else "")
        row = EvidenceRule(framework_id=fw.id, unit_id=unit.id, group_id=groups[(unit.id, name)].id,
                           name=rule.get("name") or "", verbs=[v.strip() for v in rule["verbs"]],
                           match_kind=rule["match_kind"], match_iri=rule["match_iri"].strip(),
                           min_scaled=float(rule["min_scaled"]) if rule["min_scaled"] is not None else None,
                           success_required=_bool(rule["success_required"]), weight=float(rule["weight"]),
                           created_by_id=getattr(actor, "id", None), owner_org_id=fw.owner_org_id)
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    for row in rows:
        for verb in sorted(set(row.verbs)):
            db.session.add(RuleIndexEntry(rule_id=row.id, lookup_key=index_key(row.match_kind, verb, row.match_iri)))


# --- editing ---------------------------------------------------------------------------------

#: Fields of a framework :func:`update_framework` may change (its tree is the standard's: a new
#: edition is a new import).
FRAMEWORK_FIELDS = ("title", "title_en", "publisher", "description", "status", "published")
FRAMEWORK_STATUSES = ("active", "retired")


def check_may_edit_framework(fw, actor) -> None:
    """Raise 403 unless ``actor`` (None = the system) may edit or delete ``fw``."""
    from competency.operations.access import may_edit_framework
    from competency.operations.rules import _forbidden

    if actor is not None and not may_edit_framework(actor, fw):
        raise _forbidden()


def update_framework(fw, *, actor, **changes):
    """Change a framework's titles, publisher, description or status (``active``/``retired``)."""
    from competency.operations.changes import framework_summary, log_change

    check_may_edit_framework(fw, actor)
    unknown = sorted(set(changes) - set(FRAMEWORK_FIELDS))
    if unknown:
        raise CompetencyError(f"these fields cannot be changed: {', '.join(unknown)}", field=unknown[0])
    limits = {"title": 300, "title_en": 300, "publisher": 200, "description": 20000}
    for key, value in changes.items():
        if key == "published":
            if not isinstance(value, bool):
                raise CompetencyError("published must be true or false", field=key)
            continue
        if not isinstance(value, str):
            raise CompetencyError(f"{key} must be text", field=key)
        value = value.strip()
        if key == "status" and value not in FRAMEWORK_STATUSES:
            raise CompetencyError("status must be active or retired", field="status")
        if key == "title" and not value:
            raise CompetencyError("the framework needs a title", field="title")
        if key in limits and len(value) > limits[key]:
            raise CompetencyError(f"{key} is longer than {limits[key]} characters", field=key)
        changes[key] = value
    before = framework_summary(fw)
    for key, value in changes.items():
        setattr(fw, key, value)
    db.session.flush()
    after = framework_summary(fw)
    if after != before and fw.case_document:
        # The CASE document changed: its lastChangeDateTime says so to those who pull it.
        from lms.core.db import utcnow

        fw.case_document = {**fw.case_document,
                            "lastChangeDateTime": utcnow().strftime("%Y-%m-%dT%H:%M:%S+00:00")}
        db.session.flush()
    if after != before:
        log_change("framework", "update", actor=actor, framework_id=fw.id, owner_org_id=fw.owner_org_id,
                   before=before, after=after)
    return fw


def delete_framework(fw, *, actor) -> None:
    """Delete a framework with its tree and rules. Refused while any learner holds an awarded
    or certified level of it (retire it instead: a retired edition keeps its attainments)."""
    from competency.models import Framework, LevelAttainment
    from competency.operations.changes import framework_summary, log_change

    check_may_edit_framework(fw, actor)
    if db.session.scalar(sa.select(LevelAttainment.id).where(LevelAttainment.framework_id == fw.id,
                                                             LevelAttainment.status.in_(("awarded", "certified")))
                         .limit(1)):
        raise CompetencyError("learners hold levels of this framework: retire it instead of deleting it",
                              status=409, code="in_use")
    fw_id, before = fw.id, framework_summary(fw)
    log_change("framework", "delete", actor=actor, framework_id=fw_id, owner_org_id=fw.owner_org_id, before=before)
    deleted = db.session.execute(sa.delete(Framework).where(Framework.id == fw_id)
                                 .execution_options(synchronize_session=False)).rowcount
    if deleted != 1:
        raise CompetencyError("the framework does not exist (any more)", status=404, code="not_found")
    db.session.expunge(fw)


# --- export ----------------------------------------------------------------------------------


def framework_uri(fw, *parts) -> str:
    from lms.xapi.vocab import platform_iri

    return platform_iri("competency", "frameworks", str(fw.identifier), *[str(p) for p in parts])


def export_case(fw) -> dict:
    """The framework as a CASE JSON package (identifiers and URIs stable). A framework imported
    from CASE gives back the package it came from (see :mod:`competency.operations.case` for the
    documented differences); one made from CSV is rendered by the platform."""
    from competency.operations.case import export_kept

    generated = _export_generated(fw)
    if fw.case_document:
        return export_kept(fw, generated)
    return generated


def _export_generated(fw) -> dict:
    from competency.models import EvidenceRule, FrameworkItem, LevelExamActivity
    from competency.operations.case import _stamp

    stamp = _stamp(fw)

    def node(identifier, title, uri):
        return {"identifier": str(identifier), "uri": uri, "title": title}

    doc_uri = framework_uri(fw)
    items_out, assocs = [], []
    level_by_id = {}
    for lv in fw.levels:
        uri = framework_uri(fw, "levels", lv.rung)
        level_by_id[lv.id] = (lv, uri)
        exams = db.session.scalars(sa.select(LevelExamActivity).where(LevelExamActivity.level_id == lv.id)).all()
        items_out.append({
            "identifier": str(lv.identifier), "uri": uri, "CFItemType": "Level",
            "fullStatement": lv.skill_level.name_zh if lv.skill_level else str(lv.rung),
            "humanCodingScheme": f"L{lv.rung}", "CFDocumentURI": node(fw.identifier, fw.title, doc_uri),
            "lastChangeDateTime": stamp,
            "extensions": {"rung": lv.rung, "coverageThreshold": lv.coverage_threshold,
                           "theoryPassMark": lv.theory_pass_mark, "practicalPassMark": lv.practical_pass_mark,
                           "examValidityDays": lv.exam_validity_days, "examsRequired": lv.exams_required,
                           "reviewRequired": lv.review_required, "prerequisites": lv.prerequisites,
                           "examActivities": [{"part": e.part, "iri": e.activity_iri} for e in exams]}})
    items = db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id)
                               .order_by(FrameworkItem.level_id, FrameworkItem.position, FrameworkItem.id)).all()
    by_id = {i.id: i for i in items}
    for item in items:
        uri = framework_uri(fw, "items", item.identifier)
        ext = {"fullStatementEn": item.title_en}
        if item.kind == "function":
            ext.update(theoryWeight=item.theory_weight, skillWeight=item.skill_weight)
        elif item.is_unit:
            ext.update(weight=item.weight, required=item.required)
        items_out.append({"identifier": str(item.identifier), "uri": uri, "CFItemType": CASE_TYPE_OF.get(item.kind, item.kind),
                          "fullStatement": item.title, "humanCodingScheme": item.code,
                          "listEnumeration": str(item.position), "language": "zh", "lastChangeDateTime": stamp,
                          "CFDocumentURI": node(fw.identifier, fw.title, doc_uri), "extensions": ext})
        if item.parent_id:
            parent = by_id[item.parent_id]
            dest = node(parent.identifier, parent.code, framework_uri(fw, "items", parent.identifier))
        else:
            lv, luri = level_by_id[item.level_id]
            dest = node(lv.identifier, f"L{lv.rung}", luri)
        assoc_id = uuid.uuid5(NAMESPACE, f"{item.identifier}|isChildOf")
        assocs.append({"identifier": str(assoc_id), "uri": framework_uri(fw, "associations", assoc_id),
                       "associationType": "isChildOf", "CFDocumentURI": node(fw.identifier, fw.title, doc_uri),
                       "lastChangeDateTime": stamp,
                       "originNodeURI": node(item.identifier, item.code, uri), "destinationNodeURI": dest})
    rules = db.session.scalars(sa.select(EvidenceRule).where(EvidenceRule.framework_id == fw.id)
                               .order_by(EvidenceRule.id)).all()
    return {
        "CFDocument": {
            "identifier": str(fw.identifier), "uri": doc_uri, "title": fw.title, "creator": fw.publisher or "",
            "publisher": fw.publisher, "description": fw.description, "version": fw.edition, "language": "zh",
            "lastChangeDateTime": stamp,
            "adoptionStatus": "Adopted" if fw.status == "active" else "Deprecated",
            "subject": [fw.occupation.name_zh],
            "extensions": {"occupation": {"code": fw.occupation.code, "name_zh": fw.occupation.name_zh,
                                          "name_en": fw.occupation.name_en},
                           "edition": fw.edition, "titleEn": fw.title_en,
                           "rules": [{"unit": str(by_id[r.unit_id].identifier), "verbs": r.verbs,
                                      "matchKind": r.match_kind, "matchIri": r.match_iri, "minScaled": r.min_scaled,
                                      "successRequired": r.success_required, "weight": r.weight,
                                      "group": r.group.name, "operator": r.group.operator, "name": r.name}
                                     | ({"minSource": r.min_source} if r.min_source not in (None, "any") else {})
                                     for r in rules if r.active]}},
        "CFItems": items_out,
        "CFAssociations": assocs,
    }
