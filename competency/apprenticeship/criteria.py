"""Milestone criteria: predicates over an apprentice's evidence, combined with AND/OR.

A criteria tree is JSON::

    {"all": [node, ...]}            every node holds        (AND)
    {"any": [node, ...]}            at least one holds       (OR)
    {"type": "agreement_signed"}
    {"type": "activity_completed", "iri": IRI}              that activity completed
    {"type": "activity_completed", "parent": IRI, "min": 3} N completions under a parent/grouping
    {"type": "assessment_passed", "iri": IRI, "min_score": 0.6}
    {"type": "units_attained", "iris": [IRI, ...], "min": 2}   units achieved (default: all listed)
    {"type": "level_attained", "rung": 2}                   skill level reached (target level: "target")
    {"type": "level_coverage", "min": 0.8}                  share of the target level's units covered
    {"type": "certificate_issued"}
    {"type": "signoff", "task": CODE}                       a mentor signed that workplace task off
    {"type": "signoff", "min": 5}                           N workplace tasks signed off
    {"type": "practical_score", "min": 60, "task": CODE?}   a practical assessment scored at least
    {"type": "training_hours", "min": 600, "kind": "total" | "online" | "offline"}

:func:`evaluate` returns ``(met, progress)`` where progress in 0..1 is the share of the tree met
(partial for counts and hours), used for the at-risk estimate. Evidence comes from an
:class:`Evidence` object, so the predicates are tested without a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field

LEAF_TYPES = ("agreement_signed", "activity_completed", "assessment_passed", "units_attained", "level_attained",
              "level_coverage", "certificate_issued", "signoff", "practical_score", "training_hours")


class CriteriaError(ValueError):
    """A criteria tree is malformed; ``path`` says where."""

    def __init__(self, message: str, path: str = "$"):
        super().__init__(f"{path}: {message}")
        self.message = f"{path}: {message}"
        self.path = path


@dataclass
class Evidence:
    """What is known about one apprentice, gathered once per recompute."""

    #: Activity IRIs completed (objects of completed/passed statements).
    completed: set[str] = field(default_factory=set)
    #: Parent/grouping IRI -> number of completions under it.
    completed_under: dict[str, int] = field(default_factory=dict)
    #: Activity IRI -> best scaled score of a passed statement (None when no score).
    passed: dict[str, float | None] = field(default_factory=dict)
    #: IRIs of units/levels achieved (competency attainment statements or the competency engine).
    achieved: set[str] = field(default_factory=set)
    #: Highest skill rung attained (0 when none).
    rung: int = 0
    #: Weighted coverage (0..1) of the programme's target level, from the competency engine.
    coverage: float = 0.0
    #: A certificate was issued.
    certificate: bool = False
    #: Seconds of online learning: study time by the one rule of :mod:`lms.records.study_time`.
    online_seconds: float = 0.0
    #: Offline hours logged by mentors (workplace + classroom).
    offline_hours: float = 0.0
    #: Workplace task codes currently signed off (corrections applied).
    signed_tasks: set[str] = field(default_factory=set)
    #: Practical assessment scores currently valid: task code -> score.
    practical_scores: dict[str, float] = field(default_factory=dict)
    #: The agreement is signed.
    agreement_signed: bool = False

    @property
    def online_hours(self) -> float:
        return self.online_seconds / 3600.0

    @property
    def total_hours(self) -> float:
        return self.online_hours + self.offline_hours


def validate(tree, path: str = "$", *, _depth: int = 0) -> None:
    """Raise :class:`CriteriaError` unless ``tree`` is a well-formed criteria tree."""
    if _depth > 10:
        raise CriteriaError("nested too deeply", path)
    if not isinstance(tree, dict):
        raise CriteriaError("must be an object", path)
    for combinator in ("all", "any"):
        if combinator in tree:
            nodes = tree[combinator]
            if not isinstance(nodes, list) or not nodes:
                raise CriteriaError(f"'{combinator}' must be a non-empty list", path)
            for i, node in enumerate(nodes):
                validate(node, f"{path}.{combinator}[{i}]", _depth=_depth + 1)
            return
    kind = tree.get("type")
    if kind not in LEAF_TYPES:
        raise CriteriaError(f"unknown type {kind!r}; expected one of {', '.join(LEAF_TYPES)}", path)
    if kind == "activity_completed" and not (_is_str(tree.get("iri")) or _is_str(tree.get("parent"))):
        raise CriteriaError("activity_completed needs 'iri' or 'parent'", path)
    if kind == "assessment_passed" and not _is_str(tree.get("iri")):
        raise CriteriaError("assessment_passed needs 'iri'", path)
    if kind == "units_attained":
        iris = tree.get("iris")
        if not isinstance(iris, list) or not iris or not all(_is_str(i) for i in iris):
            raise CriteriaError("units_attained needs a non-empty list 'iris'", path)
    if kind == "level_attained" and not (tree.get("rung") == "target" or _is_int(tree.get("rung"))):
        raise CriteriaError("level_attained needs 'rung' (0..7 or \"target\")", path)
    if kind == "signoff" and not (_is_str(tree.get("task")) or _is_int(tree.get("min"))):
        raise CriteriaError("signoff needs 'task' or 'min'", path)
    if kind in ("training_hours", "practical_score", "level_coverage") and not _is_num(tree.get("min")):
        raise CriteriaError(f"{kind} needs a number 'min'", path)
    if kind == "training_hours" and tree.get("kind", "total") not in ("total", "online", "offline"):
        raise CriteriaError("training_hours 'kind' must be total, online or offline", path)
    for key in ("min", "min_score"):
        if key in tree and (not _is_num(tree[key]) or tree[key] < 0):
            raise CriteriaError(f"'{key}' must be a non-negative number", path)


def evaluate(tree: dict, ev: Evidence, *, target_rung: int = 0) -> tuple[bool, float]:
    """``(met, progress)`` of ``tree`` for evidence ``ev``. An empty tree is never met."""
    if not tree:
        return False, 0.0
    if "all" in tree:
        results = [evaluate(n, ev, target_rung=target_rung) for n in tree["all"]]
        return all(r[0] for r in results), sum(r[1] for r in results) / len(results)
    if "any" in tree:
        results = [evaluate(n, ev, target_rung=target_rung) for n in tree["any"]]
        return any(r[0] for r in results), max(r[1] for r in results)
    ratio = _leaf(tree, ev, target_rung)
    return ratio >= 1.0, min(max(ratio, 0.0), 1.0)


def _leaf(node: dict, ev: Evidence, target_rung: int) -> float:
    kind = node["type"]
    if kind == "agreement_signed":
        return 1.0 if ev.agreement_signed else 0.0
    if kind == "activity_completed":
        if node.get("iri"):
            return 1.0 if node["iri"] in ev.completed else 0.0
        need = max(int(node.get("min", 1)), 1)
        return min(ev.completed_under.get(node["parent"], 0) / need, 1.0)
    if kind == "assessment_passed":
        if node["iri"] not in ev.passed:
            return 0.0
        score, minimum = ev.passed[node["iri"]], node.get("min_score")
        return 1.0 if minimum is None or (score is not None and score >= minimum) else 0.5
    if kind == "units_attained":
        iris = node["iris"]
        need = min(int(node.get("min", len(iris))), len(iris)) or 1
        return min(sum(1 for i in iris if i in ev.achieved) / need, 1.0)
    if kind == "level_attained":
        rung = target_rung if node["rung"] == "target" else int(node["rung"])
        return 1.0 if ev.rung >= rung else (ev.rung / rung if rung else 1.0)
    if kind == "level_coverage":
        return min(ev.coverage / node["min"], 1.0) if node["min"] else 1.0
    if kind == "certificate_issued":
        return 1.0 if ev.certificate else 0.0
    if kind == "signoff":
        if node.get("task"):
            return 1.0 if node["task"] in ev.signed_tasks else 0.0
        need = max(int(node["min"]), 1)
        return min(len(ev.signed_tasks) / need, 1.0)
    if kind == "practical_score":
        scores = ([ev.practical_scores[node["task"]]] if node.get("task") in ev.practical_scores
                  else [] if node.get("task") else list(ev.practical_scores.values()))
        if not scores:
            return 0.0
        best = max(scores)
        return 1.0 if best >= node["min"] else (best / node["min"] if node["min"] else 1.0)
    if kind == "training_hours":
        have = {"total": ev.total_hours, "online": ev.online_hours, "offline": ev.offline_hours}[node.get("kind", "total")]
        return min(have / node["min"], 1.0) if node["min"] else 1.0
    raise CriteriaError(f"unknown type {kind!r}")  # pragma: no cover - validate() refuses it first


def referenced_iris(tree) -> set[str]:
    """Every activity IRI a criteria tree looks at (so evidence is read for those only)."""
    out: set[str] = set()
    if not isinstance(tree, dict):
        return out
    for key in ("all", "any"):
        for node in tree.get(key) or []:
            out |= referenced_iris(node)
    for key in ("iri", "parent"):
        if isinstance(tree.get(key), str):
            out.add(tree[key])
    if isinstance(tree.get("iris"), list):
        out |= {i for i in tree["iris"] if isinstance(i, str)}
    return out


def _is_str(v) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
