"""Outgoing SMS codes, like :mod:`lms.core.mail`: ``LMS_SMS_BACKEND`` chooses the backend.

* ``console`` (development): logs that a code was sent, without the code, at INFO; the code
  itself only at DEBUG, and keeps it in :data:`outbox` for tests. A production start refuses it.
* ``aliyun``: Alibaba Cloud SMS ``SendSms`` (API version 2017-05-25, RPC style), signed with
  HMAC-SHA1 over the sorted, percent-encoded parameters as Alibaba Cloud documents it.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid

from flask import current_app

log = logging.getLogger("lms.sms")

#: ``(mobile, code)`` sent with the console backend, newest last (tests read them).
outbox: list[tuple[str, str]] = []


class SmsError(RuntimeError):
    """The SMS provider refused or could not be reached."""


def mask_mobile(mobile: str) -> str:
    """``138****8000``: numbers are personal data and are not logged in full."""
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


def send_code(mobile: str, code: str) -> None:
    """Send ``code`` to ``mobile`` with the configured backend; raises :class:`SmsError`."""
    backend = current_app.config["LMS_SMS_BACKEND"]
    if backend == "aliyun":
        send_aliyun(current_app.config, mobile, code)
        log.info("sms code sent to %s", mask_mobile(mobile))
        return
    if backend != "console":
        raise SmsError(f"unknown LMS_SMS_BACKEND {backend!r}")
    outbox.append((mobile, code))
    del outbox[:-100]
    log.info("sms code sent to %s (console backend)", mask_mobile(mobile))
    log.debug("sms code for %s: %s", mask_mobile(mobile), code)


# --- Alibaba Cloud SendSms ---------------------------------------------------------------------

def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature needs it: only ``A-Z a-z 0-9 - _ . ~`` stay as they are
    (space is ``%20``, ``*`` is ``%2A``), UTF-8 for the rest."""
    return urllib.parse.quote(str(value), safe="-_.~", encoding="utf-8")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    """``METHOD&%2F&<percent-encoded canonical query>``, the query sorted by parameter name."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(access_key_secret: str, method: str, params: dict[str, str]) -> str:
    """Base64 of HMAC-SHA1 keyed with ``secret + "&"`` over :func:`string_to_sign`."""
    digest = hmac.new((access_key_secret + "&").encode(), string_to_sign(method, params).encode(),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def sendsms_params(cfg, mobile: str, code: str, *, nonce: str | None = None,
                   timestamp: dt.datetime | None = None) -> dict[str, str]:
    """The parameters of one SendSms call, without ``Signature``."""
    timestamp = timestamp or dt.datetime.now(dt.timezone.utc)
    return {
        "AccessKeyId": cfg["LMS_SMS_ACCESS_KEY_ID"],
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": mobile,
        "RegionId": "cn-hangzhou",
        "SignName": cfg["LMS_SMS_SIGN_NAME"],
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "TemplateCode": cfg["LMS_SMS_TEMPLATE_CODE"],
        "TemplateParam": json.dumps({"code": code}, separators=(",", ":")),
        "Timestamp": timestamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
    }


def send_aliyun(cfg, mobile: str, code: str, *, timeout: float = 10) -> dict:
    """Call SendSms (GET, signed); returns the decoded answer or raises :class:`SmsError`."""
    params = sendsms_params(cfg, mobile, code)
    query = "Signature=" + percent_encode(sign(cfg["LMS_SMS_ACCESS_KEY_SECRET"], "GET", params)) + "&" + "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    url = cfg["LMS_SMS_ENDPOINT"].rstrip("/") + "/?" + query
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (https endpoint from settings)
            answer = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read().decode("utf-8"))
        except ValueError:
            raise SmsError(f"SendSms failed with HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SmsError(f"SendSms could not be reached: {exc.__class__.__name__}") from None
    if answer.get("Code") != "OK":
        raise SmsError(f"SendSms refused: {answer.get('Code')} {answer.get('Message')}")
    return answer
