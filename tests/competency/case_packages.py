"""CASE packages shaped like the ones other systems publish (OpenSALT-style maths and ACT-style
workplace frameworks, a Chinese one): several item types with ``CFItemTypeURI`` and
``CFDefinitions``, four levels deep, an item with two parents, every association type with
sequence numbers, nodes outside the package, dates, licences, subjects, concept keywords, notes,
abbreviated statements, education levels, a Draft adoption status. Written for these tests."""
from __future__ import annotations

import copy
import json
import uuid

NS = uuid.UUID("2f1d7c1e-9d59-4b8e-8f0e-5a2f6c1d3b77")
BASE = "https://case.example.org/uri/"
STAMP = "2024-03-01T08:30:00+00:00"


def uid(*parts) -> str:
    return str(uuid.uuid5(NS, "|".join(map(str, parts))))


def link(ident: str, title: str) -> dict:
    return {"title": title, "identifier": ident, "uri": BASE + ident}


def package(name: str = "math", lang: str = "en", version: str = "1.0") -> dict:
    """A package; ``name`` seeds every identifier, so two names never share one."""
    zh = lang == "zh"
    doc_id = uid(name, "doc")
    title = "高中数学课程标准 (示例)" if zh else "Mathematics Standards (sample)"
    doc_link = link(doc_id, title)
    types = {t: uid(name, "type", t) for t in ("Domain", "Cluster", "Standard", "Component")}
    lic = uid(name, "licence")
    concept = uid(name, "concept")
    subject = uid(name, "subject")
    grouping = uid(name, "grouping")
    doc = {"identifier": doc_id, "uri": BASE + doc_id, "creator": "Sample Standards Office" if not zh else "示例标准办公室",
           "title": title, "lastChangeDateTime": STAMP, "officialSourceURL": "https://standards.example.org/math",
           "publisher": "Sample Publisher", "description": "Grades 9-12." if not zh else "九至十二年级。",
           "subject": ["Mathematics"], "subjectURI": [link(subject, "Mathematics")], "language": lang,
           "version": "2024", "adoptionStatus": "Draft", "statusStartDate": "2024-01-01", "statusEndDate": None,
           "licenseURI": link(lic, "CC BY 4.0"), "notes": "Sample notes.",
           "extensions": {"vendor": {"kept": [1, 2, {"x": None}]}}}
    if version == "1.1":
        doc.update(caseVersion="1.1", frameworkType="Academic",
                   CFPackageURI=link(doc_id, title))
    items, assocs = [], []

    def item(key, statement, kind, code, parent_keys, level=("09", "10"), **extra):
        ident = uid(name, "item", key)
        obj = {"identifier": ident, "uri": BASE + ident, "fullStatement": statement, "CFItemType": kind,
               "CFItemTypeURI": link(types[kind], kind), "humanCodingScheme": code,
               "listEnumeration": f"{len(items) + 1}.", "educationLevel": list(level), "language": lang,
               "lastChangeDateTime": STAMP, "CFDocumentURI": doc_link, **extra}
        items.append(obj)
        for seq, parent in enumerate(parent_keys, start=1):
            dest = doc_link if parent is None else link(uid(name, "item", parent), parent)
            assoc("isChildOf", ident, code, dest, seq, key=f"{key}>{parent}")
        return ident

    def assoc(kind, origin, origin_title, dest, seq=None, key=None, **extra):
        ident = uid(name, "assoc", key or f"{kind}:{origin}:{dest['identifier']}")
        obj = {"identifier": ident, "uri": BASE + ident, "associationType": kind,
               "originNodeURI": {"title": origin_title, "identifier": origin, "uri": BASE + origin},
               "destinationNodeURI": dest, "lastChangeDateTime": STAMP, "CFDocumentURI": doc_link, **extra}
        if seq is not None:
            obj["sequenceNumber"] = seq
        assocs.append(obj)

    t = (lambda en, cn: cn if zh else en)
    item("A", t("Number and Quantity", "数与代数"), "Domain", "N", [None], abbreviatedStatement="N&Q",
         notes="Domain notes")
    item("A1", t("The Real Number System", "实数系"), "Cluster", "N.RN", ["A"], conceptKeywords=["exponents", "roots"],
         conceptKeywordsURI=link(concept, "Exponents"))
    s1 = item("A1a", t("Explain rational exponents", "解释有理指数"), "Standard", "N.RN.1", ["A1"],
              licenseURI=link(lic, "CC BY 4.0"), statusStartDate="2024-01-01", alternativeLabel="RN1")
    item("A1a-i", t("Rewrite expressions with radicals", "用根式改写表达式"), "Component", "N.RN.1.a", ["A1a"],
         extensions={"weight": 0.5, "required": True})
    item("A1a-ii", t("Rewrite expressions with exponents", "用指数改写表达式"), "Component", "N.RN.1.b", ["A1a"])
    s2 = item("A1b", t("Properties of rational numbers", "有理数的性质"), "Standard", "N.RN.3", ["A1"])
    # A long coding scheme (over the 40 characters the platform once stored; up to 200 are kept).
    item("B", t("Algebra", "代数"), "Domain", "CCSS.Math.Content.HSA.Seeing-Structure-In-Expressions.Domain", [None])
    item("B1", t("Seeing Structure in Expressions", "表达式的结构"), "Cluster", "A.SSE", ["B"])
    # Several parents: the same standard sits under two clusters (the first isChildOf is its tree parent).
    shared = item("B1a", t("Interpret parts of an expression", "解释表达式的各部分"), "Standard",
                  "A.SSE.1", ["B1", "A1"], level=("11",))
    ext_node = {"title": "CCSS.Math.Content.HSN.RN.A.1", "identifier": "CCSS.Math.Content.HSN.RN.A.1",
                "uri": "http://corestandards.org/Math/Content/HSN/RN/A/1/"}
    assoc("exactMatchOf", s1, "N.RN.1", ext_node, CFAssociationGroupingURI=link(grouping, "Crosswalk"))
    assoc("precedes", s1, "N.RN.1", link(s2, "N.RN.3"), seq=1)
    assoc("isRelatedTo", s2, "N.RN.3", link(shared, "A.SSE.1"))
    assoc("exemplar", s1, "N.RN.1", {"title": "Lesson", "identifier": uid(name, "lesson"),
                                      "uri": "https://lessons.example.org/rn1"})
    assoc("isPeerOf", shared, "A.SSE.1", link(s2, "N.RN.3"))
    assoc("isPartOf", s2, "N.RN.3", link(s1, "N.RN.1"))
    assoc("replacedBy", s2, "N.RN.3", link(uid(name, "new"), "N.RN.3 (2025)"))
    assoc("hasSkillLevel", s1, "N.RN.1", link(uid(name, "level"), "Proficient"))
    defs = {
        "CFItemTypes": [{"identifier": i, "uri": BASE + i, "title": k, "description": f"A {k.lower()}",
                         "hierarchyCode": str(n), "typeCode": k.lower(), "lastChangeDateTime": STAMP}
                        for n, (k, i) in enumerate(types.items())],
        "CFSubjects": [{"identifier": subject, "uri": BASE + subject, "title": "Mathematics", "hierarchyCode": "1",
                        "lastChangeDateTime": STAMP}],
        "CFConcepts": [{"identifier": concept, "uri": BASE + concept, "title": "Exponents", "keywords": "powers",
                        "hierarchyCode": "1", "lastChangeDateTime": STAMP}],
        "CFLicenses": [{"identifier": lic, "uri": BASE + lic, "title": "CC BY 4.0", "licenseText": "https://creativecommons.org/licenses/by/4.0/",
                        "lastChangeDateTime": STAMP}],
        "CFAssociationGroupings": [{"identifier": grouping, "uri": BASE + grouping, "title": "Crosswalk",
                                    "lastChangeDateTime": STAMP}],
    }
    return {"CFDocument": doc, "CFItems": items, "CFAssociations": assocs, "CFDefinitions": defs}


def with_rules(pkg: dict) -> dict:
    """The package with evidence rules in ``CFDocument.extensions`` (short verb names as in CSV)."""
    pkg = copy.deepcopy(pkg)
    unit = next(i["identifier"] for i in pkg["CFItems"] if i["humanCodingScheme"] == "N.RN.1.a")
    pkg["CFDocument"]["extensions"]["rules"] = [
        {"unit": unit, "verbs": ["completed", "passed"], "matchKind": "activity",
         "matchIri": "https://lessons.example.org/rn1", "minScaled": 0.6, "weight": 1}]
    return pkg


def dumps(pkg: dict, minified: bool = False) -> str:
    if minified:
        return json.dumps(pkg, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(pkg, ensure_ascii=False, indent=2)
