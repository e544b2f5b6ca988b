"""Imports of employment records and exclusion lists (CSV or Excel), matched on ID numbers, and
real-name checks. A file with any bad line imports nothing; every error names its line."""
from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts import idcard
from lms.core.db import db, utcnow
from supervision.access import is_officer, may_act_for
from supervision.models import EmploymentRecord, ImportBatch, RealNameCheck, WatchlistEntry
from supervision.models.records import IMPORT_KINDS
from supervision.operations import SupervisionError, audit

KIND_LABELS = {"employment": _l("Employment records"), "pension": _l("Pension recipients"),
               "student": _l("Full-time students"), "payroll": _l("Public payroll")}
EMPLOYMENT_KIND_NAMES = {"social_insurance": "social_insurance", "社保": "social_insurance",
                         "contract": "contract", "劳动合同": "contract", "合同": "contract",
                         "business": "business", "营业执照": "business", "创业": "business"}
MAX_ROWS = 200_000
MAX_BYTES = 20 * 1024 * 1024


def read_table(filename: str, payload: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8, with or without BOM) or Excel (.xlsx) file, as text cells."""
    if len(payload) > MAX_BYTES:
        raise SupervisionError(_l("The file is too large."), "file")
    if (filename or "").lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a broken file
            raise SupervisionError(_l("This is not a readable Excel file."), "file") from None
        rows = []
        for row in wb.active.iter_rows(values_only=True):
            rows.append(["" if v is None else (v.date().isoformat() if isinstance(v, dt.datetime) else str(v)).strip()
                         for v in row])
        return rows
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SupervisionError(_l("Save the CSV file as UTF-8."), "file") from None
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def import_file(by, kind: str, filename: str, payload: bytes) -> ImportBatch:
    """Import a file of ``kind`` (officers only; flush only). Columns (first line is the header):

    * employment: ``id_number, kind, start_date, employer`` (kind: social_insurance / contract /
      business, or 社保 / 劳动合同 / 营业执照; dates as YYYY-MM-DD);
    * pension, student, payroll: ``id_number, note``.
    """
    if not is_officer(by):
        raise SupervisionError(_l("Only an authority officer may do this."), status=403)
    if kind not in IMPORT_KINDS:
        raise SupervisionError(_l("Choose what the file contains."), "kind")
    rows = read_table(filename, payload)
    if len(rows) > MAX_ROWS:
        raise SupervisionError(_l("A file has at most %(n)s lines.", n=MAX_ROWS), "file")
    errors: list[str] = []
    parsed: list[tuple] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        row = row + [""] * 4
        number_text = idcard.normalise(row[0])
        if not idcard.is_valid(number_text):
            errors.append(str(_l("Line %(n)s: not a valid ID number.", n=number)))
            continue
        if kind == "employment":
            ekind = EMPLOYMENT_KIND_NAMES.get(row[1].strip().lower()) or EMPLOYMENT_KIND_NAMES.get(row[1].strip())
            start = _date(row[2])
            if ekind is None:
                errors.append(str(_l("Line %(n)s: the kind must be social_insurance, contract or business.", n=number)))
            elif start is None:
                errors.append(str(_l("Line %(n)s: the date must look like 2026-03-31.", n=number)))
            else:
                parsed.append((number_text, ekind, start, row[3][:200]))
        else:
            parsed.append((number_text, row[1][:200]))
    if errors:
        raise SupervisionError(" ".join(errors[:50]) + (" …" if len(errors) > 50 else ""), "file")
    if not parsed:
        raise SupervisionError(_l("The file has no data lines."), "file")
    batch = ImportBatch(kind=kind, filename=(filename or "")[:255], imported_by_id=by.id, created_at=utcnow())
    db.session.add(batch)
    db.session.flush()
    added = 0
    numbers = sorted({p[0] for p in parsed})
    if kind == "employment":
        existing = set()
        for i in range(0, len(numbers), 500):
            existing.update(db.session.execute(sa.select(EmploymentRecord.id_number, EmploymentRecord.kind,
                                                         EmploymentRecord.start_date, EmploymentRecord.employer)
                                               .where(EmploymentRecord.id_number.in_(numbers[i:i + 500]))))
        new = [p for p in dict.fromkeys(parsed) if p not in existing]
        if new:
            db.session.execute(EmploymentRecord.__table__.insert(), [
                {"import_id": batch.id, "id_number": n, "kind": k, "start_date": s, "employer": e} for n, k, s, e in new])
        added = len(new)
    else:
        existing = set()
        for i in range(0, len(numbers), 500):
            existing.update(db.session.scalars(sa.select(WatchlistEntry.id_number).where(
                WatchlistEntry.list_kind == kind, WatchlistEntry.id_number.in_(numbers[i:i + 500]))))
        new = {n: note for n, note in parsed if n not in existing}
        if new:
            db.session.execute(WatchlistEntry.__table__.insert(), [
                {"import_id": batch.id, "list_kind": kind, "id_number": n, "note": note} for n, note in new.items()])
        added = len(new)
    batch.rows = added
    db.session.flush()
    audit.log(by, "import.done", "import", batch.id, summary=f"{KIND_LABELS[kind]}: {added}", kind=kind, rows=added)
    if kind == "employment":
        from supervision.operations import indicators

        indicators.refresh_id_numbers(numbers)
    return batch


def record_real_name_check(by, user, *, organisation_id: int | None = None, method: str = "document") -> RealNameCheck:
    """Record that ``user``'s real name and current ID number were checked (officers, or the
    administrators of an institution the trainee is in a class of; flush only)."""
    if not (is_officer(by) or (organisation_id is not None and may_act_for(by, organisation_id))):
        raise SupervisionError(_l("You may not record real-name checks."), status=403)
    if organisation_id is not None and not is_officer(by):
        from supervision.models import ClassTrainee, TrainingClass

        on_roster = db.session.scalar(sa.select(ClassTrainee.id).join(TrainingClass).where(
            ClassTrainee.user_id == user.id, TrainingClass.organisation_id == organisation_id))
        if on_roster is None:
            raise SupervisionError(_l("This person is not on one of your rosters."), status=403)
    number = idcard.normalise(user.id_card_number or "")
    if not idcard.is_valid(number):
        raise SupervisionError(_l("The account has no valid ID number."))
    if method not in ("document", "interface"):
        raise SupervisionError(_l("Choose how it was checked."), "method")
    row = db.session.scalars(sa.select(RealNameCheck).where(RealNameCheck.user_id == user.id,
                                                            RealNameCheck.id_number == number)).first()
    if row is not None:
        return row
    row = RealNameCheck(user_id=user.id, id_number=number, method=method, checked_by_id=by.id, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        return db.session.scalars(sa.select(RealNameCheck).where(RealNameCheck.user_id == user.id,
                                                                 RealNameCheck.id_number == number)).one()
    audit.log(by, "realname.checked", "user", user.id, organisation_id=organisation_id, summary=user.display_name)
    return row
