"""Score normalisation: one scaled score (-1..1, as xAPI ``score.scaled``) for every statement.

``scaled`` when the statement gives a number; otherwise ``(raw - min) / (max - min)`` with ``min``
defaulting to 0 when only ``raw`` and ``max`` are given (the usual "85 of 100"). Anything else
(no score, raw without max, max <= min, non-numbers) has no score.
"""
from __future__ import annotations

import math


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def scaled_score(score) -> float | None:
    """The scaled score of a ``result.score`` object, clamped to -1..1; ``None`` when unknown."""
    if not isinstance(score, dict):
        return None
    scaled = _number(score.get("scaled"))
    if scaled is not None:
        return max(-1.0, min(1.0, scaled))
    raw, high = _number(score.get("raw")), _number(score.get("max"))
    low = _number(score.get("min"))
    if raw is None or high is None:
        return None
    low = 0.0 if low is None else low
    if high <= low:
        return None
    return max(-1.0, min(1.0, (raw - low) / (high - low)))


def result_scaled(result) -> float | None:
    """:func:`scaled_score` of a statement's ``result`` (any shape)."""
    return scaled_score(result.get("score")) if isinstance(result, dict) else None
