"""Identifiers: agents' inverse functional identifiers (IFI), hashing, UUIDs and timestamps."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid

from lms.xapi.errors import XAPIValidationError

IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def ifi_of(agent) -> str | None:
    """The IFI of an agent or identified group as one string, or ``None`` (anonymous group)."""
    if not isinstance(agent, dict):
        return None
    if isinstance(agent.get("mbox"), str):
        return "mbox:" + agent["mbox"]
    if isinstance(agent.get("mbox_sha1sum"), str):
        return "mbox_sha1sum:" + agent["mbox_sha1sum"].lower()
    if isinstance(agent.get("openid"), str):
        return "openid:" + agent["openid"]
    account = agent.get("account")
    if isinstance(account, dict) and isinstance(account.get("homePage"), str) and isinstance(account.get("name"), str):
        return f"account:{account['homePage']} {account['name']}"
    return None


def agent_from_ifi(ifi: str, object_type: str = "Agent") -> dict:
    """The minimal agent object (``format=ids``) for an IFI string."""
    kind, _, value = ifi.partition(":")
    if kind == "account":
        home, _, name = value.partition(" ")
        return {"objectType": object_type, "account": {"homePage": home, "name": name}}
    return {"objectType": object_type, kind: value}


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_uuid(value, what: str = "id") -> uuid.UUID:
    """A UUID from its string form (any case), or a 400 naming ``what``."""
    try:
        if isinstance(value, uuid.UUID):
            return value
        if not isinstance(value, str) or len(value) != 36:
            raise ValueError
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise XAPIValidationError(f"{what} is not a UUID", path=what) from None


_FRACTION = re.compile(r"(\.\d+)")


def parse_timestamp(value, what: str = "timestamp") -> dt.datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive ones are taken as UTC)."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise XAPIValidationError(f"{what} is not an ISO 8601 timestamp", path=what)
    text = value.strip()
    # More than microsecond precision is allowed by ISO 8601 but not by fromisoformat.
    text = _FRACTION.sub(lambda m: m.group(1)[:7], text, count=1)
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise XAPIValidationError(f"{what} is not an ISO 8601 timestamp", path=what) from None
    if "T" not in text.upper() and " " not in text:
        raise XAPIValidationError(f"{what} needs a date and a time", path=what)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:
        raise XAPIValidationError(f"{what} is out of range", path=what) from None


def format_timestamp(value: dt.datetime) -> str:
    """UTC with millisecond precision and ``Z``, as the LRS writes ``stored``."""
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def now_ms() -> dt.datetime:
    """The current UTC time truncated to milliseconds (``stored`` precision)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)
