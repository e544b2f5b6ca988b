"""Quiz grading: pure functions, no database, no Flask.

A question is described to the grader by a :class:`QuestionKey` (its kind, points, the ids of the
correct choices or the accepted fill-in answers). Responses come from the form as lists of
strings. Grading is all-or-nothing per question: a multiple-choice answer scores only when it
selects exactly the correct choices (the rule of Chinese vocational theory exams, 多选题 多选少选均不得分).
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

#: Question kinds and the xAPI ``interactionType`` each one is reported as.
INTERACTION_TYPES = {
    "single": "choice",
    "multiple": "choice",
    "truefalse": "true-false",
    "fillin": "fill-in",
}


class ResponseError(ValueError):
    """A response that no honest form could have sent (unknown choice, two answers to a single choice)."""


@dataclass(frozen=True)
class QuestionKey:
    """What the grader needs to know about one question."""

    id: int
    kind: str
    points: float
    #: ids (as strings) of every choice, for choice questions
    choice_ids: tuple[str, ...] = ()
    #: ids (as strings) of the correct choices
    correct_choice_ids: frozenset[str] = frozenset()
    #: for true/false: the correct value
    correct_bool: bool | None = None
    #: for fill-in: accepted answers (compared after :func:`normalise_text`)
    accepted_answers: tuple[str, ...] = ()
    case_sensitive: bool = False


@dataclass(frozen=True)
class GradedAnswer:
    """The result of grading one response."""

    question_id: int
    #: the response in xAPI form: "3[,]5" for choices, "true"/"false", or the text typed
    response: str
    correct: bool
    points: float
    #: whether the learner answered at all
    answered: bool = True


@dataclass
class QuizScore:
    raw: float
    max: float
    scaled: float
    passed: bool
    answers: list[GradedAnswer] = field(default_factory=list)


def normalise_text(text: str, case_sensitive: bool = False) -> str:
    """Fill-in answers are compared after NFKC (full-width -> half-width), trimming and collapsing spaces."""
    text = " ".join(unicodedata.normalize("NFKC", text or "").split())
    return text if case_sensitive else text.casefold()


def grade(key: QuestionKey, values: list[str]) -> GradedAnswer:
    """Grade the form ``values`` posted for one question.

    Raises :class:`ResponseError` when the values could not come from the question's form.
    """
    values = [v for v in (values or []) if v is not None]
    if key.kind in ("single", "multiple"):
        chosen = [v.strip() for v in values if v.strip()]
        unknown = [v for v in chosen if v not in key.choice_ids]
        if unknown:
            raise ResponseError(f"question {key.id}: no such choice {unknown[0]!r}")
        if key.kind == "single" and len(chosen) > 1:
            raise ResponseError(f"question {key.id}: a single-choice question takes one answer")
        if len(set(chosen)) != len(chosen):
            raise ResponseError(f"question {key.id}: a choice was sent twice")
        ordered = [c for c in key.choice_ids if c in set(chosen)]
        correct = bool(chosen) and set(chosen) == set(key.correct_choice_ids)
        return GradedAnswer(key.id, "[,]".join(ordered), correct, key.points if correct else 0.0, bool(chosen))
    if key.kind == "truefalse":
        chosen = [v.strip().lower() for v in values if v.strip()]
        if len(chosen) > 1 or (chosen and chosen[0] not in ("true", "false")):
            raise ResponseError(f"question {key.id}: a true/false answer must be 'true' or 'false'")
        if not chosen:
            return GradedAnswer(key.id, "", False, 0.0, False)
        correct = (chosen[0] == "true") == bool(key.correct_bool)
        return GradedAnswer(key.id, chosen[0], correct, key.points if correct else 0.0)
    if key.kind == "fillin":
        if len(values) > 1:
            raise ResponseError(f"question {key.id}: a fill-in question takes one answer")
        text = (values[0] if values else "").strip()
        if len(text) > 1000:
            raise ResponseError(f"question {key.id}: the answer is too long")
        given = normalise_text(text, key.case_sensitive)
        correct = bool(text) and any(given == normalise_text(a, key.case_sensitive) for a in key.accepted_answers)
        return GradedAnswer(key.id, text, correct, key.points if correct else 0.0, bool(text))
    raise ValueError(f"unknown question kind {key.kind!r}")


def correct_responses_pattern(key: QuestionKey) -> list[str]:
    """The xAPI ``correctResponsesPattern`` of a question."""
    if key.kind in ("single", "multiple"):
        return ["[,]".join(c for c in key.choice_ids if c in key.correct_choice_ids)]
    if key.kind == "truefalse":
        return ["true" if key.correct_bool else "false"]
    if key.kind == "fillin":
        prefix = "{case_matters=true}" if key.case_sensitive else "{case_matters=false}"
        return [prefix + a for a in key.accepted_answers]
    raise ValueError(f"unknown question kind {key.kind!r}")


def score(answers: list[GradedAnswer], max_points: float, pass_mark_percent: float) -> QuizScore:
    """Total the graded answers; the quiz is passed when raw/max reaches the pass mark (percent)."""
    raw = float(sum(a.points for a in answers))
    scaled = (raw / max_points) if max_points > 0 else 0.0
    scaled = float(Decimal(str(scaled)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
    passed = max_points > 0 and raw * 100 >= pass_mark_percent * max_points - 1e-9
    return QuizScore(raw=raw, max=float(max_points), scaled=min(max(scaled, 0.0), 1.0), passed=passed,
                     answers=answers)


def shuffled(ids: list, seed: int | str | None = None) -> list:
    """``ids`` in a random order (reproducible for a given ``seed``)."""
    out = list(ids)
    random.Random(seed).shuffle(out)
    return out
