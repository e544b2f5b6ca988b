"""Chinese resident identity card numbers (公民身份号码, GB 11643-1999).

18 characters: 6-digit area code, 8-digit birth date, 3-digit sequence, and a check character
computed with ISO 7064 MOD 11-2. The number is personal data: it is shown masked to everyone but
its owner and administrators, and never written to a log.
"""
from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def normalise(number: str) -> str:
    return (number or "").strip().upper()


def is_valid(number: str) -> bool:
    """True when ``number`` has the right shape, a real birth date and a matching check character."""
    number = normalise(number)
    if not _PATTERN.match(number):
        return False
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if birth.year < 1900 or birth > dt.date.today():
        return False
    return check_character(number[:17]) == number[17]


def mask(number: str | None) -> str:
    """``110105********123X`` style: area code and last four kept."""
    if not number:
        return ""
    number = normalise(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
