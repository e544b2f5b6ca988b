"""Reports enterprises hand in: cohort progress and the subsidy claim, as Excel workbooks (openpyxl).

The subsidy is paid per apprentice per year (``LMS_APPRENTICE_SUBSIDY_PER_YEAR``, default 5000
yuan): an advance share (``LMS_APPRENTICE_SUBSIDY_ADVANCE_SHARE``, default 50%) once the milestone
marked ``advance`` (agreement signed) is reached, the rest once the ``completion`` milestone
(certificate issued) is reached. The milestone record is therefore the subsidy record.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from competency.apprenticeship import evidence
from competency.apprenticeship.models import Apprentice, ApprenticeMilestone, Cohort
from competency.apprenticeship.operations import STATUS_LABELS, milestone_title, today_utc
from lms.core.db import db
from lms.core.spreadsheets import write_rows


@dataclass
class SubsidyRow:
    apprentice: Apprentice
    months_enrolled: int
    online_hours: float
    offline_hours: float
    reached: list[tuple[str, dt.date]]
    certificate_on: dt.date | None
    entitlement: float
    advance: float
    completion: float


def _milestones(apprentice_ids) -> dict[int, list[ApprenticeMilestone]]:
    out: dict[int, list[ApprenticeMilestone]] = {i: [] for i in apprentice_ids}
    ids = list(apprentice_ids)
    for i in range(0, len(ids), 500):
        for m in db.session.scalars(sa.select(ApprenticeMilestone)
                                    .where(ApprenticeMilestone.apprentice_id.in_(ids[i:i + 500]))
                                    .options(sa.orm.joinedload(ApprenticeMilestone.definition))
                                    .order_by(ApprenticeMilestone.due_date, ApprenticeMilestone.id)):
            out[m.apprentice_id].append(m)
    return out


def subsidy_rows(cohort: Cohort, apprentices: list[Apprentice], today: dt.date | None = None) -> list[SubsidyRow]:
    today = today or today_utc()
    per_year = float(current_app.config["LMS_APPRENTICE_SUBSIDY_PER_YEAR"])
    share = float(current_app.config["LMS_APPRENTICE_SUBSIDY_ADVANCE_SHARE"])
    years = cohort.programme.duration_months / 12
    evs = evidence.collect(apprentices)
    milestones = _milestones([a.id for a in apprentices])
    rows = []
    for a in apprentices:
        start = max(a.joined_on, cohort.start_date)
        end = min(today, a.left_on or cohort.end_date(), cohort.end_date())
        ms = milestones[a.id]
        reached = [(milestone_title(m.definition), m.done_on) for m in ms if m.done_on]
        parts = {m.definition.subsidy_part for m in ms if m.done_on and m.definition.subsidy_part}
        cert = next((m.done_on for m in ms if m.done_on and m.definition.subsidy_part == "completion"), None)
        entitlement = round(per_year * years, 2)
        advance = round(entitlement * share, 2) if "advance" in parts else 0.0
        completion = round(entitlement - entitlement * share, 2) if "completion" in parts else 0.0
        ev = evs[a.id]
        rows.append(SubsidyRow(a, evidence.months_between(start, end), round(ev.online_hours, 2),
                               round(ev.offline_hours, 2), reached, cert, entitlement, advance, completion))
    return rows


def _book(title: str, header: list[str]):
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    write_rows(ws, [header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    return wb, ws


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def subsidy_workbook(cohort: Cohort, apprentices: list[Apprentice], today: dt.date | None = None) -> bytes:
    """One row per apprentice: months enrolled, hours online/offline, milestones reached with dates,
    certificate, and the advance and completion parts of the subsidy."""
    wb, ws = _book(_("Subsidy claim"), [
        _("Apprentice"), _("ID card"), _("Enterprise mentor"), _("School mentor"), _("Months enrolled"),
        _("Online hours"), _("Offline hours"), _("Total hours"), _("Milestones reached"), _("Certificate obtained"),
        _("Entitlement (yuan)"), _("Advance (yuan)"), _("Completion (yuan)"), _("Payable (yuan)")])
    rows = subsidy_rows(cohort, apprentices, today)
    for r in rows:
        a = r.apprentice
        write_rows(ws, [[a.user.display_name, a.user.id_card_masked, a.enterprise_mentor.display_name,
                   a.school_mentor.display_name, r.months_enrolled, r.online_hours, r.offline_hours,
                   round(r.online_hours + r.offline_hours, 2),
                   "; ".join(f"{t} ({d.isoformat()})" for t, d in r.reached),
                   r.certificate_on.isoformat() if r.certificate_on else _("No"),
                   r.entitlement, r.advance, r.completion, round(r.advance + r.completion, 2)]])
    write_rows(ws, [[_("Total"), "", "", "", "", "", "", "", "", "", round(sum(r.entitlement for r in rows), 2),
               round(sum(r.advance for r in rows), 2), round(sum(r.completion for r in rows), 2),
               round(sum(r.advance + r.completion for r in rows), 2)]])
    info = wb.create_sheet(_("Cohort"))
    p = cohort.programme
    for k, v in ((_("Programme"), p.title), (_("Enterprise"), p.enterprise.name), (_("School"), p.school.name),
                 (_("Cohort"), cohort.name), (_("Start date"), cohort.start_date.isoformat()),
                 (_("End date"), cohort.end_date().isoformat()),
                 (_("Subsidy per apprentice per year (yuan)"), float(current_app.config["LMS_APPRENTICE_SUBSIDY_PER_YEAR"])),
                 (_("Advance share"), float(current_app.config["LMS_APPRENTICE_SUBSIDY_ADVANCE_SHARE"]))):
        write_rows(info, [[k, v]])
    return _save(wb)


def progress_workbook(cohort: Cohort, apprentices: list[Apprentice]) -> bytes:
    """Apprentices x milestones: status and the date each was reached."""
    defs = cohort.programme.definitions(cohort.template_version)
    header = [_("Apprentice"), _("Enterprise mentor"), _("School mentor")]
    for d in defs:
        header += [milestone_title(d), _("Due"), _("Reached on")]
    wb, ws = _book(_("Progress"), header)
    milestones = _milestones([a.id for a in apprentices])
    for a in apprentices:
        by_code = {m.code: m for m in milestones[a.id]}
        row = [a.user.display_name, a.enterprise_mentor.display_name, a.school_mentor.display_name]
        for d in defs:
            m = by_code.get(d.code)
            row += [str(STATUS_LABELS[m.status]) if m else "", m.due_date.isoformat() if m else "",
                    m.done_on.isoformat() if m and m.done_on else ""]
        write_rows(ws, [row])
    return _save(wb)
