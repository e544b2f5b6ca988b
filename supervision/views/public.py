"""Public pages: the catalogues with their version history, exports, and aggregate rates."""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from supervision import exports
from supervision.models.catalogue import CATALOGUES
from supervision.operations import catalogue as ops
from supervision.operations import indicators
from supervision.views import public_bp


def _catalogue_arg() -> str:
    name = request.args.get("catalogue", "training")
    return name if name in CATALOGUES else "training"


def _table(catalogue: str, rows) -> list[list]:
    header = [_("Number"), _("Name"), _("Occupation code"), _("Level"), _("Organisation"), _("Total study hours"),
              _("Standard subsidy per person (yuan)"), _("Largest online share (%)"), _("Version"), _("Reason"),
              _("In effect from"), _("In effect until")]
    out = [header]
    from supervision.forms import LEVEL_LABELS

    for r in rows:
        out.append([r.entry_key, r.title, r.occupation_code, str(LEVEL_LABELS.get(r.level, "")) if r.level else "",
                    r.organisation.name if r.organisation else "", r.total_hours if r.total_hours is not None else "",
                    float(r.standard_amount) if r.standard_amount is not None else "",
                    round(r.online_share * 100) if r.online_share is not None else "", r.version,
                    str(ops.REASONS.get(r.reason_code, "")), r.effective_from.isoformat(),
                    r.effective_to.isoformat() if r.effective_to else ""])
    return out


@public_bp.route("/")
def catalogue():
    """The catalogues as they stand today (public)."""
    name = _catalogue_arg()
    rows = ops.current(name)
    return render_template("supervision/public_catalogue.html", catalogue=name, rows=rows)


@public_bp.route("/export.<fmt>")
def catalogue_export(fmt: str):
    """The catalogue as CSV or Excel (cells escaped against formula injection)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    name = _catalogue_arg()
    table = _table(name, ops.current(name))
    stamp = dt.date.today().isoformat()
    if fmt == "csv":
        return Response(exports.csv_bytes(table), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename=catalogue-{name}-{stamp}.csv"})
    return Response(exports.xlsx_bytes([(name, table)]),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=catalogue-{name}-{stamp}.xlsx"})


@public_bp.route("/<catalogue_name>/<entry_key>")
def entry_history(catalogue_name: str, entry_key: str):
    """Every version of one entry: what changed, why, when, approved by whom; removal appeals."""
    if catalogue_name not in CATALOGUES:
        abort(404)
    versions = ops.history(catalogue_name, entry_key)
    if not versions:
        abort(404)
    return render_template("supervision/public_entry.html", catalogue=catalogue_name, versions=versions)


@public_bp.route("/performance")
def performance():
    """Aggregate pass and employment rates per institution (no personal data)."""
    rows = indicators.grouped()
    by_org: dict[int, dict] = {}
    for r in rows:
        agg = by_org.setdefault(r.organisation_id, {"name": r.organisation, "region": r.region, "enrolled": 0,
                                                   "passed": 0, "employed_6m": 0, "classes": 0})
        for key in ("enrolled", "passed", "employed_6m", "classes"):
            agg[key] += getattr(r, key)
    return render_template("supervision/public_performance.html", rows=sorted(by_org.values(), key=lambda a: a["name"]))
