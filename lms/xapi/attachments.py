"""Attachments (Data 2.4.11, Communication 1.5): multipart/mixed in and out, stored once per SHA-2.

A request with attachments is ``multipart/mixed``: the first part is the statement(s) as
``application/json``, each further part one attachment's raw bytes with an
``X-Experience-API-Hash`` header (its SHA-2) and ``Content-Transfer-Encoding: binary``. Every
attachment a statement declares without a ``fileUrl`` needs its part; every part must be declared;
the hash must be the content's real SHA-2 (224/256/384/512, chosen by the hash's length).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.xapi.errors import XAPIValidationError
from lms.xapi.models import Attachment

_HASH_BY_LENGTH = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}
SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"


@dataclass
class Part:
    headers: dict
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")


def boundary_of(content_type_header: str) -> str:
    for param in content_type_header.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary":
            return value.strip().strip('"')
    raise XAPIValidationError("multipart/mixed needs a boundary parameter", path="Content-Type")


def parse_multipart(body: bytes, content_type_header: str) -> list[Part]:
    """Split a multipart/mixed body into its parts (headers lower-cased)."""
    boundary = boundary_of(content_type_header).encode("latin-1")
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise XAPIValidationError("the multipart body has no parts", path=None)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            raise XAPIValidationError("a multipart part has no header block", path=None)
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        headers = {}
        for line in head.decode("latin-1").splitlines():
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        parts.append(Part(headers, content))
    else:
        raise XAPIValidationError("the multipart body is not closed", path=None)
    if not parts:
        raise XAPIValidationError("the multipart body has no parts", path=None)
    return parts


def check_and_collect(statements: list[dict], parts: list[Part], *, batch: bool) -> dict[str, Part]:
    """Match the attachment parts with the statements' declarations; ``{sha2: part}``."""
    by_hash: dict[str, Part] = {}
    for part in parts:
        digest = (part.headers.get("x-experience-api-hash") or "").lower()
        if not digest:
            raise XAPIValidationError("an attachment part lacks the X-Experience-API-Hash header",
                                      path="X-Experience-API-Hash")
        encoding = part.headers.get("content-transfer-encoding")
        if encoding is not None and encoding.lower() != "binary":
            raise XAPIValidationError("attachment parts must use Content-Transfer-Encoding: binary",
                                      path="Content-Transfer-Encoding")
        algorithm = _HASH_BY_LENGTH.get(len(digest))
        if algorithm is None or algorithm(part.body).hexdigest() != digest:
            raise XAPIValidationError(f"the attachment part's content does not match its hash {digest}",
                                      path="X-Experience-API-Hash")
        by_hash[digest] = part
    declared: set[str] = set()
    for i, stmt in enumerate(statements):
        for j, attachment in enumerate(stmt.get("attachments") or ()):
            if not isinstance(attachment, dict):
                continue
            sha2 = str(attachment.get("sha2", "")).lower()
            declared.add(sha2)
            if sha2 not in by_hash and "fileUrl" not in attachment:
                raise XAPIValidationError(f"no multipart part carries the attachment with sha2 {sha2}",
                                          path=f"attachments[{j}].sha2", statement_index=i if batch else None)
    extra = set(by_hash) - declared
    if extra:
        raise XAPIValidationError(f"a multipart part ({sorted(extra)[0]}) is not declared by any statement",
                                  path="attachments")
    return by_hash


def signature_checks(statements: list[dict], by_hash: dict[str, Part], *, batch: bool) -> None:
    """Data 2.6: every signature attachment must verify against its statement."""
    try:
        from lms.xapi.signature import verify_signed_statement
    except ModuleNotFoundError:  # pragma: no cover - the module is part of the package
        return
    for i, stmt in enumerate(statements):
        for attachment in stmt.get("attachments") or ():
            if isinstance(attachment, dict) and attachment.get("usageType") == SIGNATURE_USAGE_TYPE:
                part = by_hash.get(str(attachment.get("sha2", "")).lower())
                if part is None:
                    continue
                try:
                    verify_signed_statement(stmt, part.body)
                except XAPIValidationError as exc:
                    exc.statement_index = i if batch else None
                    raise


def store_parts(by_hash: dict[str, Part]) -> None:
    """Store each attachment once per SHA-2 (insert-on-conflict, sorted)."""
    if not by_hash:
        return
    existing = set(db.session.scalars(sa.select(Attachment.sha2).where(Attachment.sha2.in_(list(by_hash)))))
    rows = [{"sha2": h, "content_type": by_hash[h].content_type[:255], "length": len(by_hash[h].body),
             "content": by_hash[h].body, "created_at": utcnow()} for h in sorted(by_hash) if h not in existing]
    if rows:
        from lms.xapi.shared_rows import _dialect_insert

        db.session.execute(_dialect_insert(Attachment.__table__).on_conflict_do_nothing(index_elements=["sha2"]),
                           rows)


def load(sha2s: list[str]) -> dict[str, Attachment]:
    if not sha2s:
        return {}
    rows = db.session.scalars(sa.select(Attachment).where(Attachment.sha2.in_(sorted(set(sha2s)))))
    return {r.sha2: r for r in rows}


def multipart_body(json_bytes: bytes, statements: list[dict]) -> tuple[bytes, str]:
    """A multipart/mixed response: the JSON part, then each attachment stored for the statements."""
    wanted = []
    for stmt in statements:
        for attachment in stmt.get("attachments") or ():
            if isinstance(attachment, dict) and attachment.get("sha2"):
                wanted.append(str(attachment["sha2"]).lower())
    stored = load(wanted)
    boundary = "xapi-" + secrets.token_hex(12)
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), json_bytes, b"\r\n"]
    for sha2 in dict.fromkeys(wanted):
        row = stored.get(sha2)
        if row is None:
            continue
        out.append(f"--{boundary}\r\nContent-Type: {row.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode())
        out.append(row.content)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'
