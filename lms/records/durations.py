"""ISO 8601 durations (xAPI ``result.duration``) and study hours (学时): the one parser.

Study time credited to a learner is derived from statements by :mod:`lms.records.study_time`;
this module only holds the arithmetic. One study hour (学时) is 45 minutes of learning by default
-- the usual class hour of vocational training in China -- set by ``LMS_STUDY_HOUR_MINUTES``.
Parsing uses ``aniso8601``.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_DOWN, Decimal

import aniso8601

#: Minutes of learning that make one study hour (学时), unless configured otherwise.
DEFAULT_STUDY_HOUR_MINUTES = 45

#: Years and months have no fixed length; xAPI durations of learning never use them, and they
#: count as 365 and 30 days.
_YEAR, _MONTH = 365 * 86400, 30 * 86400


def parse_duration(text: str | None) -> float:
    """Seconds in an ISO 8601 duration such as ``PT1H2M3.5S``; 0 for ``None``.

    Raises ``ValueError`` for text that is not a duration (or is negative).
    """
    if text is None:
        return 0.0
    if not isinstance(text, str) or not text.strip().startswith("P") or len(text) > 64:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    try:
        value = aniso8601.parse_duration(text.strip())
    except (aniso8601.exceptions.ISOFormatError, ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"not an ISO 8601 duration: {text!r}") from exc
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    else:  # pragma: no cover - relative=False always gives a timedelta
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    if seconds < 0 or math.isnan(seconds):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    return seconds


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
