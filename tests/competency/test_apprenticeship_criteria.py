"""Milestone criteria and status rules, tested on fake evidence (no database)."""
import datetime as dt

import pytest

from competency.apprenticeship import criteria as crit
from competency.apprenticeship.criteria import Evidence
from competency.apprenticeship.evidence import months_between


def test_and_or_combination_of_evidence_predicates():
    tree = {"all": [{"type": "agreement_signed"},
                    {"any": [{"type": "activity_completed", "iri": "http://x/a"},
                             {"type": "signoff", "task": "wiring-1"}]}]}
    ev = Evidence(agreement_signed=True)
    assert crit.evaluate(tree, ev) == (False, 0.5)
    ev.signed_tasks.add("wiring-1")
    assert crit.evaluate(tree, ev) == (True, 1.0)
    ev.agreement_signed = False
    assert crit.evaluate(tree, ev)[0] is False


def test_counts_hours_scores_levels_and_certificates_give_partial_progress():
    ev = Evidence(completed_under={"http://x/course": 2}, online_seconds=3600 * 30, offline_hours=30,
                  practical_scores={"mid": 55.0}, rung=2, coverage=0.4)
    assert crit.evaluate({"type": "activity_completed", "parent": "http://x/course", "min": 4}, ev) == (False, 0.5)
    assert crit.evaluate({"type": "training_hours", "min": 60}, ev) == (True, 1.0)
    assert crit.evaluate({"type": "training_hours", "min": 60, "kind": "online"}, ev) == (False, 0.5)
    assert crit.evaluate({"type": "practical_score", "min": 60}, ev)[0] is False
    assert crit.evaluate({"type": "level_attained", "rung": "target"}, ev, target_rung=3)[0] is False
    assert crit.evaluate({"type": "level_attained", "rung": "target"}, ev, target_rung=2)[0] is True
    assert crit.evaluate({"type": "level_coverage", "min": 0.8}, ev) == (False, 0.5)
    assert crit.evaluate({"type": "certificate_issued"}, ev)[0] is False
    ev.passed["http://x/exam"] = 0.5
    assert crit.evaluate({"type": "assessment_passed", "iri": "http://x/exam", "min_score": 0.6}, ev)[0] is False
    assert crit.evaluate({"type": "assessment_passed", "iri": "http://x/exam"}, ev)[0] is True
    assert crit.evaluate({}, ev) == (False, 0.0)


@pytest.mark.parametrize("tree, where", [
    ([], "$"),
    ({"all": []}, "$"),
    ({"type": "nope"}, "$"),
    ({"any": [{"type": "activity_completed"}]}, "$.any[0]"),
    ({"all": [{"type": "training_hours", "min": -1}]}, "$.all[0]"),
    ({"type": "units_attained", "iris": []}, "$"),
    ({"type": "level_attained", "rung": "high"}, "$"),
])
def test_malformed_criteria_are_refused_with_their_path(tree, where):
    with pytest.raises(crit.CriteriaError) as info:
        crit.validate(tree)
    assert info.value.path == where


def test_months_enrolled():
    assert months_between(dt.date(2026, 1, 15), dt.date(2026, 3, 10)) == 2
    assert months_between(dt.date(2026, 1, 15), dt.date(2026, 3, 20)) == 3
    assert months_between(dt.date(2026, 3, 1), dt.date(2026, 1, 1)) == 0


def test_status_rules():
    from competency.apprenticeship.operations import status_for

    base, due = dt.date(2026, 1, 1), dt.date(2026, 7, 1)
    assert status_for(met=True, progress=1, due=due, base=base, today=dt.date(2027, 1, 1)) == "done"
    assert status_for(met=False, progress=0.9, due=due, base=base, today=dt.date(2026, 7, 2)) == "overdue"
    assert status_for(met=False, progress=0.9, due=due, base=base, today=dt.date(2026, 6, 25)) == "at_risk"
    assert status_for(met=False, progress=0.0, due=due, base=base, today=dt.date(2026, 6, 1)) == "at_risk"
    assert status_for(met=False, progress=0.5, due=due, base=base, today=dt.date(2026, 3, 1)) == "on_track"
    assert status_for(met=False, progress=0.0, due=due, base=base, today=dt.date(2025, 12, 1)) == "pending"


def test_referenced_iris_lists_every_activity_a_tree_looks_at():
    tree = {"all": [{"type": "activity_completed", "parent": "http://x/p"},
                    {"any": [{"type": "assessment_passed", "iri": "http://x/e"},
                             {"type": "units_attained", "iris": ["http://x/u1", "http://x/u2"]}]},
                    {"type": "training_hours", "min": 10}]}
    assert crit.referenced_iris(tree) == {"http://x/p", "http://x/e", "http://x/u1", "http://x/u2"}
