"""Quiz grading rules (pure functions)."""
import pytest
from hypothesis import given, strategies as st

from courses.delivery.grading import (QuestionKey, ResponseError, correct_responses_pattern, grade, normalise_text,
                                      score, shuffled)

SINGLE = QuestionKey(1, "single", 2, choice_ids=("10", "11", "12"), correct_choice_ids=frozenset({"11"}))
MULTI = QuestionKey(2, "multiple", 3, choice_ids=("20", "21", "22"), correct_choice_ids=frozenset({"20", "22"}))
TF = QuestionKey(3, "truefalse", 1, correct_bool=False)
FILL = QuestionKey(4, "fillin", 4, accepted_answers=("欧姆定律", "Ohm's law"))


def test_single_choice_scores_only_the_correct_choice():
    assert grade(SINGLE, ["11"]).points == 2 and grade(SINGLE, ["11"]).correct
    wrong = grade(SINGLE, ["10"])
    assert (wrong.correct, wrong.points, wrong.response) == (False, 0, "10")


def test_unanswered_question_scores_zero_and_is_marked_unanswered():
    blank = grade(SINGLE, [])
    assert (blank.correct, blank.points, blank.answered, blank.response) == (False, 0, False, "")


def test_choice_ids_that_do_not_belong_to_the_question_are_refused():
    with pytest.raises(ResponseError):
        grade(SINGLE, ["20"])
    with pytest.raises(ResponseError):
        grade(SINGLE, ["10", "11"])  # two answers to a single choice
    with pytest.raises(ResponseError):
        grade(MULTI, ["20", "20"])


def test_multiple_choice_is_all_or_nothing_and_response_in_choice_order():
    assert grade(MULTI, ["22", "20"]).correct
    assert grade(MULTI, ["22", "20"]).response == "20[,]22"
    assert not grade(MULTI, ["20"]).correct  # 少选
    assert not grade(MULTI, ["20", "21", "22"]).correct  # 多选


def test_true_false():
    assert grade(TF, ["false"]).correct and not grade(TF, ["true"]).correct
    with pytest.raises(ResponseError):
        grade(TF, ["maybe"])


def test_fill_in_ignores_case_width_and_spacing():
    assert grade(FILL, ["  欧姆定律 "]).correct
    assert grade(FILL, ["OHM'S   LAW"]).correct
    assert grade(FILL, ["ＯＨＭ'Ｓ LAW"]).correct  # full-width letters
    assert not grade(FILL, ["基尔霍夫定律"]).correct
    case = QuestionKey(5, "fillin", 1, accepted_answers=("NaCl",), case_sensitive=True)
    assert grade(case, ["NaCl"]).correct and not grade(case, ["nacl"]).correct


def test_correct_responses_patterns_follow_xapi():
    assert correct_responses_pattern(MULTI) == ["20[,]22"]
    assert correct_responses_pattern(TF) == ["false"]
    assert correct_responses_pattern(FILL) == ["{case_matters=false}欧姆定律", "{case_matters=false}Ohm's law"]


def test_score_totals_and_pass_mark():
    answers = [grade(SINGLE, ["11"]), grade(MULTI, ["20"]), grade(TF, ["false"]), grade(FILL, ["欧姆定律"])]
    s = score(answers, 10, 60)
    assert (s.raw, s.max, s.scaled, s.passed) == (7, 10, 0.7, True)
    assert not score(answers, 10, 80).passed
    assert score([grade(SINGLE, ["11"])], 2, 100).passed  # exactly at the mark passes
    assert not score([], 0, 0).passed


@given(st.lists(st.integers(), max_size=30), st.integers())
def test_shuffle_is_a_reproducible_permutation(ids, seed):
    out = shuffled(ids, seed)
    assert sorted(out) == sorted(ids)
    assert out == shuffled(ids, seed)


@given(st.text(max_size=50))
def test_normalising_is_idempotent(text):
    assert normalise_text(normalise_text(text)) == normalise_text(text)
