"""RFC 5646 (BCP 47) language tags: well-formedness, as xAPI language maps require.

xAPI 1.0.3 Data 4.2 "Language Maps" and IEEE 9274.1.1 say a language map's keys are RFC 5646
language tags. This module checks the ABNF of RFC 5646 section 2.1 (``Language-Tag``: a
``langtag``, a ``privateuse`` tag or a ``grandfathered`` tag, case-insensitively) plus the two
cheap rules of section 2.2.5 / 2.2.6 that the ABNF cannot express: no variant subtag twice and
no extension singleton twice. It does not consult the IANA subtag registry (that would make
"valid" rather than "well-formed" tags, and would refuse tags registered after our copy).
"""
from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["is_well_formed"]

_ALNUM = "[A-Za-z0-9]"
# RFC 5646 2.1: langtag = language ["-" script] ["-" region] *("-" variant) *("-" extension) ["-" privateuse]
_LANGTAG = (
    r"(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    rf"(?P<variants>(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*)"
    rf"(?P<extensions>(?:-[0-9A-WYZa-wyz](?:-{_ALNUM}{{2,8}})+)*)"
    rf"(?:-(?P<privateuse>[xX](?:-{_ALNUM}{{1,8}})+))?"
)
_LANGTAG_RE = re.compile(rf"^{_LANGTAG}\Z")
_PRIVATEUSE_RE = re.compile(rf"^[xX](?:-{_ALNUM}{{1,8}})+\Z")
# extlang is written above as 3ALPHA *2("-" 3ALPHA) after a 2-3 letter language: up to three.
_GRANDFATHERED = frozenset(
    t.lower()
    for t in (
        # irregular
        "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux",
        "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL",
        "sgn-CH-DE",
        # regular
        "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min",
        "zh-min-nan", "zh-xiang",
    )
)


@lru_cache(maxsize=4096)
def is_well_formed(tag: str) -> bool:
    """True if ``tag`` is a well-formed RFC 5646 language tag (e.g. ``"zh-CN"``, ``"en-US"``).

    Results are cached: an LRS sees the same handful of tags over and over.
    """
    if not isinstance(tag, str) or not tag or len(tag) > 256 or not tag.isascii():
        return False
    if tag.lower() in _GRANDFATHERED or _PRIVATEUSE_RE.match(tag):
        return True
    m = _LANGTAG_RE.match(tag)
    if m is None:
        return False
    variants = m.group("variants")
    if variants:
        seen = variants.lower().split("-")[1:]
        if len(seen) != len(set(seen)):
            return False  # 2.2.5: the same variant subtag MUST NOT appear twice
    extensions = m.group("extensions")
    if extensions:
        singletons = [s for s in extensions.lower().split("-")[1:] if len(s) == 1]
        if len(singletons) != len(set(singletons)):
            return False  # 2.2.6: each singleton MUST appear at most once
    return True
