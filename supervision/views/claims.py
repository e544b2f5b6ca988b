"""Subsidy claims: prepare, screen, answer and review hits, submit, export."""
from __future__ import annotations

import datetime as dt

from flask import Response, render_template, url_for
from flask_babel import gettext as _

from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, require, visible
from supervision import access, exports
from supervision.forms import REVIEW_CHOICES, AnswerForm, EmptyForm, ReviewForm
from supervision.models import Claim, ScreeningHit, TrainingClass
from supervision.operations import audit, screening
from supervision.operations import claims as ops
from supervision.views import bounce, bp, run


@bp.route("/claims")
@require("supervision.view")
def claims():
    user = acting_user()
    rows = db.session.scalars(visible(user, Claim).order_by(Claim.created_at.desc()).limit(300)).all()
    return render_template("supervision/claims.html", rows=rows, fp=ops.false_positive_counts()
                           if access.reads_all(user) else {}, rules=screening.RULES)


@bp.route("/classes/<int:class_id>/claim", methods=["POST"])
@require("supervision.view")
def prepare_claim(class_id: int):
    user = acting_user()
    get_visible_or_404(user, TrainingClass, class_id)
    ok, claim = run(EmptyForm(), lambda: ops.prepare(user, class_id), back="")
    if ok:
        return bounce(url_for("supervision.claim_page", claim_id=claim.id))
    return bounce(url_for("supervision.class_page", class_id=class_id))


@bp.route("/claims/<int:claim_id>")
@require("supervision.view")
def claim_page(claim_id: int):
    user = acting_user()
    claim = get_visible_or_404(user, Claim, claim_id)
    hits_by_user: dict = {}
    for hit in claim.hits:
        hits_by_user.setdefault(hit.user_id, []).append(hit)
    return render_template("supervision/claim.html", claim=claim, cls=claim.training_class, hits_by_user=hits_by_user,
                           rules=screening.RULES, evidence=screening.evidence_text, officer=access.is_officer(user),
                           may_act=access.may_act_for(user, claim.organisation_id), button=EmptyForm(),
                           answer_form=AnswerForm(), review_form=ReviewForm(), review_choices=REVIEW_CHOICES,
                           open_hits=sum(1 for h in claim.hits if h.state == "open"))


@bp.route("/claims/<int:claim_id>/screen", methods=["POST"])
@require("supervision.view")
def screen_claim(claim_id: int):
    user = acting_user()
    get_visible_or_404(user, Claim, claim_id)
    run(EmptyForm(), lambda: ops.screen(user, claim_id), done=_("The claim was screened."), back="")
    return bounce(url_for("supervision.claim_page", claim_id=claim_id))


@bp.route("/claims/<int:claim_id>/submit", methods=["POST"])
@require("supervision.view")
def submit_claim(claim_id: int):
    user = acting_user()
    get_visible_or_404(user, Claim, claim_id)
    run(EmptyForm(), lambda: ops.submit(user, claim_id), done=_("The claim was submitted."), back="")
    return bounce(url_for("supervision.claim_page", claim_id=claim_id))


def _hit_or_404(user, hit_id: int) -> ScreeningHit:
    hit = db.session.get(ScreeningHit, hit_id)
    if hit is None:
        from flask import abort

        abort(404)
    get_visible_or_404(user, Claim, hit.claim_id)
    return hit


@bp.route("/hits/<int:hit_id>/answer", methods=["POST"])
@require("supervision.view")
def answer_hit(hit_id: int):
    user = acting_user()
    hit = _hit_or_404(user, hit_id)
    form = AnswerForm()
    run(form, lambda: ops.answer_hit(user, hit_id, form.response.data), done=_("The explanation was recorded."),
        back="")
    return bounce(url_for("supervision.claim_page", claim_id=hit.claim_id))


@bp.route("/hits/<int:hit_id>/review", methods=["POST"])
@require("supervision.view")
def review_hit(hit_id: int):
    user = acting_user()
    hit = _hit_or_404(user, hit_id)
    form = ReviewForm()
    run(form, lambda: ops.review_hit(user, hit_id, form.state.data, form.note.data),
        done=_("The review was recorded."), back="")
    return bounce(url_for("supervision.claim_page", claim_id=hit.claim_id))


@bp.route("/claims/<int:claim_id>/export.xlsx")
@require("supervision.view")
def export_claim(claim_id: int):
    """The claim as a workbook a finance office can file. Full ID numbers only for officers;
    every export is logged."""
    from lms.accounts.idcard import mask

    user = acting_user()
    claim = get_visible_or_404(user, Claim, claim_id)
    cls = claim.training_class
    full = access.may_see_full_id_numbers(user)
    lines = [[_("Name"), _("ID number"), _("Online study hours"), _("Total study hours"), _("Amount before caps"),
              _("Amount"), _("Excluded"), _("Screening hits")]]
    hits: dict = {}
    for hit in claim.hits:
        hits.setdefault(hit.user_id, []).append(f"{screening.RULES[hit.rule][0]} ({ops.HIT_STATE_LABELS[hit.state]})")
    for line in claim.lines:
        lines.append([line.real_name, line.id_number if full else mask(line.id_number), float(line.online_hours),
                      cls.total_hours, float(line.base_amount), float(line.amount), _("Yes") if line.excluded else "",
                      "; ".join(str(h) for h in hits.get(line.user_id, []))])
    summary = [[_("Item"), _("Value")], [_("Institution"), cls.organisation.name], [_("Class"), cls.name],
               [_("Subsidised training"), cls.entry_key], [_("Occupation code"), cls.occupation_code],
               [_("Period"), f"{cls.start_date.isoformat()} – {cls.end_date.isoformat()}"],
               [_("Enrolled at opening"), cls.enrolled_at_opening], [_("Status"), str(ops.STATUS_LABELS[claim.status])],
               [_("Total amount"), float(claim.total_amount)]]
    audit.log(user, "export.personal" if full else "export.masked", "claim", claim.id,
              organisation_id=claim.organisation_id, summary=f"{cls.name} ({len(claim.lines)})", rows=len(claim.lines))
    db.session.commit()
    stamp = dt.date.today().isoformat()
    return Response(exports.xlsx_bytes([(_("Claim"), summary), (_("Trainees"), lines)]),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=claim-{claim.id}-{stamp}.xlsx",
                             "Cache-Control": "no-store"})
