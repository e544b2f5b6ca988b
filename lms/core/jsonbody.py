"""One JSON parser for request bodies: malformed, too deep or not valid Unicode is a clear error.

``json.loads`` accepts a lone surrogate (``"\\ud800"``, which no database or encoder can store) and
answers ``[`` × 100,000 with a ``RecursionError`` (a 500 wherever it is not caught). Everything
that reads JSON from a client (the app's JSON provider, so ``request.get_json``; the LRS body
parser) goes through :func:`loads`, which raises :class:`JSONBodyError` (a ``ValueError``) instead.

The depth is bounded too, so code that later walks the value recursively (validation,
canonical forms, merges) never runs out of stack. The check is one iterative pass over the parsed
value: linear, and cheap beside the parse itself even for large statement batches.
"""
from __future__ import annotations

import json

from flask.json.provider import DefaultJSONProvider

#: Deepest nesting of arrays and objects a client may send (xAPI extensions included).
MAX_DEPTH = 64


class JSONBodyError(ValueError):
    """The body is not JSON this platform accepts; ``str(exc)`` says why, in plain words."""


def _valid_text(s: str) -> bool:
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check(value, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JSONBodyError` if ``value`` nests deeper than ``max_depth`` or holds a lone
    surrogate in a key or a string."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _valid_text(item):
                raise JSONBodyError("the JSON text holds an invalid Unicode character (a lone surrogate)")
        elif isinstance(item, (list, dict)):
            if depth > max_depth:
                raise JSONBodyError(f"the JSON value is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for k, v in item.items():
                    if not _valid_text(k):
                        raise JSONBodyError("the JSON text holds an invalid Unicode character (a lone surrogate)")
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in item)


def loads(data, max_depth: int = MAX_DEPTH, **kwargs):
    """``json.loads`` that raises :class:`JSONBodyError` for anything malformed, too deep or
    holding a lone surrogate."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONBodyError("the body is not UTF-8 text") from None
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise JSONBodyError(f"the JSON value is nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise JSONBodyError(f"the body is not valid JSON ({exc})") from None
    check(value, max_depth)
    return value


class JSONProvider(DefaultJSONProvider):
    """The app's JSON provider: ``request.get_json`` parses with :func:`loads`, so a malformed,
    too deep or invalid-Unicode body is a 400 (``BadRequest`` naming the problem), never a 500."""

    def loads(self, s, **kwargs):
        return loads(s, **kwargs)
