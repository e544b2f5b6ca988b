"""Files uploaded for courses: checked, stored under ``LMS_UPLOAD_DIR``, served with access checks.

A file is stored at ``courses/<course uuid>/<random hex>.<ext>`` and recorded as a
:class:`~courses.models.CourseFile`. Its URL (:func:`file_url`) goes through a view that checks
the viewer may see the course. Only a short list of types is accepted, and the first bytes must
match the extension, so nobody can upload HTML or SVG and have it run in our origin.
"""
from __future__ import annotations

import mimetypes
import os
import secrets

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from courses.models import CourseFile
from courses.operations.errors import CourseError
from lms.core.db import db

#: Accepted extensions per category.
EXTENSIONS = {
    "image": {"png", "jpg", "jpeg", "gif", "webp"},
    "video": {"mp4", "webm", "m4v", "ogv"},
    "document": {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "txt"},
}
#: Largest accepted size per category, in bytes.
MAX_BYTES = {"image": 10 * 2**20, "video": 512 * 2**20, "document": 50 * 2**20}

_MAGIC = {
    "png": [b"\x89PNG\r\n\x1a\n"],
    "jpg": [b"\xff\xd8\xff"], "jpeg": [b"\xff\xd8\xff"],
    "gif": [b"GIF87a", b"GIF89a"],
    "pdf": [b"%PDF-"],
    "webm": [b"\x1a\x45\xdf\xa3"],
    "ogv": [b"OggS"],
    "docx": [b"PK\x03\x04"], "xlsx": [b"PK\x03\x04"], "pptx": [b"PK\x03\x04"],
    "odt": [b"PK\x03\x04"], "ods": [b"PK\x03\x04"], "odp": [b"PK\x03\x04"],
    "doc": [b"\xd0\xcf\x11\xe0"], "xls": [b"\xd0\xcf\x11\xe0"], "ppt": [b"\xd0\xcf\x11\xe0"],
}


def upload_dir() -> str:
    return current_app.config["LMS_UPLOAD_DIR"]


def _extension(name: str) -> str:
    return os.path.splitext(name or "")[1].lower().lstrip(".")


def _content_matches(ext: str, head: bytes) -> bool:
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in ("mp4", "m4v"):
        return head[4:8] == b"ftyp"
    if ext == "txt":
        return b"\x00" not in head and not head.lstrip().lower().startswith((b"<!doctype", b"<html", b"<svg"))
    return any(head.startswith(m) for m in _MAGIC.get(ext, []))


def check_file(name: str, data: bytes, category: str) -> str:
    """The checked extension of an upload, or :class:`CourseError`."""
    ext = _extension(name)
    if category not in EXTENSIONS:
        raise CourseError(_l("Unknown file category."))
    if ext not in EXTENSIONS[category]:
        raise CourseError(_l("This type of file is not accepted here. Accepted: %(types)s.",
                             types=", ".join(sorted(EXTENSIONS[category]))), "file")
    if not data:
        raise CourseError(_l("The file is empty."), "file")
    if len(data) > MAX_BYTES[category]:
        raise CourseError(_l("The file is too large (at most %(mb)s MB).", mb=MAX_BYTES[category] // 2**20), "file")
    if not _content_matches(ext, data[:16]):
        raise CourseError(_l("The file's content does not match its type."), "file")
    return ext


def store_bytes(course, name: str, data: bytes, category: str, *, by=None, storage_key: str | None = None) -> CourseFile:
    """Check and store ``data`` as a file of ``course``; returns the flushed :class:`CourseFile`.

    ``storage_key`` is given by the package importer only (it keeps the original key layout).
    """
    ext = check_file(name, data, category)
    key = storage_key or f"courses/{course.uuid}/{secrets.token_hex(12)}.{ext}"
    path = os.path.join(upload_dir(), key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    content_type = mimetypes.guess_type("x." + ext)[0] or "application/octet-stream"
    row = CourseFile(course=course, storage_key=key, original_name=os.path.basename(name)[:255] or f"file.{ext}",
                     content_type=content_type, size=len(data), category=category,
                     uploaded_by_id=getattr(by, "id", None))
    db.session.add(row)
    db.session.flush()
    return row


def store_upload(course, file_storage, category: str, *, by=None) -> CourseFile:
    """Store a Werkzeug ``FileStorage`` from a form."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise CourseError(_l("Choose a file to upload."), "file")
    data = file_storage.read(MAX_BYTES.get(category, 0) + 1)
    return store_bytes(course, file_storage.filename, data, category, by=by)


def remove_stored(storage_key: str) -> None:
    """Delete a stored file (when the request that stored it is refused); a missing file is fine."""
    try:
        os.remove(os.path.join(upload_dir(), storage_key))
    except FileNotFoundError:
        pass


def read_bytes(storage_key: str) -> bytes:
    with open(os.path.join(upload_dir(), storage_key), "rb") as fh:
        return fh.read()


def file_url(course, storage_key: str) -> str:
    """URL of a course file, served only to users who may see the course."""
    if not storage_key:
        return ""
    return url_for("courses.course_file", course_id=course.id, key=storage_key)
