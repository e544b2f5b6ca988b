"""ISO 8601 durations (xAPI ``result.duration``) and study hours (学时).

Study time credited to a learner is *derived from statements* (see
:func:`courses.delivery.progress.study_seconds`); this module only holds the arithmetic.
One study hour (学时) is 45 minutes of learning by default -- the usual class hour of
vocational training in China -- and can be changed with ``COURSES_STUDY_HOUR_MINUTES``.
"""
from __future__ import annotations

import math
import re
from decimal import ROUND_DOWN, Decimal

#: Minutes of learning that make one study hour (学时), unless configured otherwise.
DEFAULT_STUDY_HOUR_MINUTES = 45

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
_UNIT_SECONDS = {"years": 365 * 86400, "months": 30 * 86400, "weeks": 7 * 86400, "days": 86400,
                 "hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str | None) -> float:
    """Seconds in an ISO 8601 duration such as ``PT1H2M3.5S``; 0 for ``None``.

    Years and months count as 365 and 30 days (xAPI durations of learning never use them).
    Raises ``ValueError`` for text that is not a duration.
    """
    if text is None:
        return 0.0
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    total = 0.0
    for unit, value in m.groupdict().items():
        if value:
            total += float(value.replace(",", ".")) * _UNIT_SECONDS[unit]
    return total


def safe_parse_duration(text) -> float:
    """Like :func:`parse_duration`, but 0 for anything unparsable (durations from other systems)."""
    if not isinstance(text, str):
        return 0.0
    try:
        return parse_duration(text)
    except ValueError:
        return 0.0


def format_duration(seconds: float) -> str:
    """An ISO 8601 duration for ``seconds`` (hundredths kept, as xAPI allows): ``PT1H2M3.25S``."""
    if seconds < 0 or math.isnan(seconds) or math.isinf(seconds):
        raise ValueError("a duration must be a finite number of seconds >= 0")
    centis = int(round(seconds * 100))
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    secs, hundredths = divmod(rest, 100)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or hundredths or out == "PT":
        out += f"{secs}.{hundredths:02d}S" if hundredths else f"{secs}S"
    return out


def study_hours(seconds: float, minutes_per_hour: int = DEFAULT_STUDY_HOUR_MINUTES) -> Decimal:
    """Study hours (学时) for ``seconds`` of learning, rounded *down* to one decimal.

    Rounding down means a learner is never credited with time not spent (subsidies are paid on it).
    """
    if minutes_per_hour <= 0:
        raise ValueError("minutes_per_hour must be positive")
    hours = Decimal(str(max(seconds, 0.0))) / Decimal(minutes_per_hour * 60)
    return hours.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def format_clock(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss``) for showing a duration to people."""
    total = int(max(seconds, 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
