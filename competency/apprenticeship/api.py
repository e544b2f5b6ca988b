"""JSON API of apprenticeship: programmes, cohorts, plans, milestone status and sign-offs."""
from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from competency.apprenticeship import operations as ops
from competency.apprenticeship.models import Apprentice, ApprenticeMilestone, Cohort, Programme, SignOff
from lms.accounts.models import User
from lms.api import ApiError, doc, paginate_args
from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, require, visible
from lms.organisations.models import Organisation

bp = Blueprint("competency_apprenticeship_api", __name__, url_prefix="/api/v1/apprenticeship")

TAGS = ["apprenticeship"]


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def _date(data, key, required=True):
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise ApiError(400, "invalid_parameter", f"{key} is required (YYYY-MM-DD).", field=key)
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{key} must be a date (YYYY-MM-DD).", field=key) from None


def _int(data, key, default=None):
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -2 ** 31 < value < 2 ** 31:
        raise ApiError(400, "invalid_parameter", f"{key} must be an integer.", field=key)
    return value


def _user(login_or_id):
    if isinstance(login_or_id, int) and not isinstance(login_or_id, bool):
        return db.session.get(User, login_or_id) if 0 < login_or_id < 2 ** 31 else None
    login = str(login_or_id or "").strip().lower()
    return db.session.scalars(sa.select(User).where(sa.or_(User.email == login, User.mobile == login))).first()


def _ops_error(exc: ops.ApprenticeshipError):
    db.session.rollback()
    details = {"field": exc.field} if exc.field else {}
    details.update(exc.details)
    return ApiError(exc.status, exc.code, exc.message, **details)


def programme_json(p: Programme, with_template=False) -> dict:
    out = {"id": p.id, "title": p.title, "enterprise_id": p.enterprise_id, "school_id": p.school_id,
           "occupation_code": p.occupation_code, "framework_id": p.framework_id, "target_rung": p.target_rung,
           "duration_months": p.duration_months, "hours_per_year": p.hours_per_year,
           "online_hours_per_year": p.online_hours_per_year, "template_version": p.template_version,
           "policy_warnings": p.policy_warnings or []}
    if with_template:
        out["milestones"] = [{"code": d.code, "title": ops.milestone_title(d), "due_offset_days": d.due_offset_days,
                              "criteria": d.criteria, "subsidy_part": d.subsidy_part} for d in p.definitions()]
    return out


def cohort_json(c: Cohort) -> dict:
    return {"id": c.id, "programme_id": c.programme_id, "name": c.name, "start_date": c.start_date.isoformat(),
            "end_date": c.end_date().isoformat(), "extension_months": c.extension_months,
            "template_version": c.template_version}


def milestone_json(m: ApprenticeMilestone, titles: dict | None = None) -> dict:
    if titles is None:
        title = ops.milestone_title(m.definition)
    else:  # one translation per definition, not per apprentice
        title = titles.get(m.definition_id) or titles.setdefault(m.definition_id, ops.milestone_title(m.definition))
    return {"code": m.code, "title": title, "due_date": m.due_date.isoformat(),
            "status": m.status, "progress": m.progress, "done_on": m.done_on.isoformat() if m.done_on else None,
            "retired": m.retired}


def apprentice_json(a: Apprentice, milestones=None, titles: dict | None = None) -> dict:
    out = {"id": a.id, "cohort_id": a.cohort_id, "user_id": a.user_id, "name": a.user.display_name,
           "enterprise_mentor_id": a.enterprise_mentor_id, "school_mentor_id": a.school_mentor_id,
           "agreement_number": a.agreement_number,
           "agreement_signed_on": a.agreement_signed_on.isoformat() if a.agreement_signed_on else None,
           "contract_start": a.contract_start.isoformat(), "contract_end": a.contract_end.isoformat(),
           "joined_on": a.joined_on.isoformat()}
    if milestones is not None:
        out["milestones"] = [milestone_json(m, titles) for m in milestones]
    return out


def signoff_json(s: SignOff) -> dict:
    return {"id": s.id, "apprentice_id": s.apprentice_id, "kind": s.kind, "task_code": s.task_code,
            "task_title": s.task_title, "comment": s.comment, "score": s.score, "approved": s.approved,
            "signed_by_id": s.signed_by_id, "signed_at": s.signed_at.isoformat(), "corrects_id": s.corrects_id,
            "statement_id": s.statement_id, "has_attachment": bool(s.attachment_path)}


PROGRAMME_SCHEMA = {"type": "object", "required": ["title", "enterprise_id", "school_id"], "properties": {
    "title": {"type": "string"}, "enterprise_id": {"type": "integer"}, "school_id": {"type": "integer"},
    "occupation_code": {"type": "string"}, "framework_id": {"type": "integer"},
    "target_rung": {"type": "integer", "minimum": 2, "maximum": 5}, "duration_months": {"type": "integer"},
    "hours_per_year": {"type": "integer"}, "online_hours_per_year": {"type": "integer"}}}


@bp.route("/programmes", methods=["GET", "POST"])
@require("apprenticeship.view")
@doc("Programmes the caller may see; POST creates one (enterprise administrators)",
     params={"limit": "integer", "offset": "integer"}, request_schema=PROGRAMME_SCHEMA, tags=TAGS)
def programmes():
    user = acting_user()
    if request.method == "POST":
        data = _body()
        try:
            programme, warnings = ops.create_programme(
                user, title=str(data.get("title") or ""),
                enterprise=db.session.get(Organisation, _int(data, "enterprise_id") or 0),
                school=db.session.get(Organisation, _int(data, "school_id") or 0),
                occupation_code=str(data.get("occupation_code") or ""), framework_id=_int(data, "framework_id"),
                target_rung=_int(data, "target_rung", 2), duration_months=_int(data, "duration_months", 12),
                hours_per_year=_int(data, "hours_per_year", 600),
                online_hours_per_year=_int(data, "online_hours_per_year", 200))
        except ops.ApprenticeshipError as exc:
            raise _ops_error(exc) from None
        db.session.commit()
        return jsonify(programme_json(programme, True)), 201
    limit, offset = paginate_args()
    rows = db.session.scalars(visible(user, Programme).order_by(Programme.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [programme_json(p) for p in rows], "limit": limit, "offset": offset})


@bp.get("/programmes/<int:programme_id>")
@require("apprenticeship.view")
@doc("One programme with its plan template", tags=TAGS)
def programme_detail(programme_id):
    return jsonify(programme_json(get_visible_or_404(acting_user(), Programme, programme_id), True))


@bp.put("/programmes/<int:programme_id>/milestones/<code>")
@require("apprenticeship.manage")
@doc("Add or change a milestone of the plan template (a new template version once a cohort started)",
     request_schema={"type": "object", "required": ["due_offset_days", "criteria"], "properties": {
         "title": {"type": "string"}, "due_offset_days": {"type": "integer"}, "criteria": {"type": "object"},
         "subsidy_part": {"type": "string", "enum": ["", "advance", "completion"]}}}, tags=TAGS)
def put_milestone(programme_id, code):
    user = acting_user()
    p = get_visible_or_404(user, Programme, programme_id)
    data = _body()
    try:
        ops.save_milestone(user, p, code=code, title=str(data.get("title") or ""),
                           due_offset_days=_int(data, "due_offset_days"), criteria=data.get("criteria"),
                           subsidy_part=str(data.get("subsidy_part") or ""))
    except ops.ApprenticeshipError as exc:
        raise _ops_error(exc) from None
    db.session.commit()
    return jsonify(programme_json(p, True))


@bp.route("/programmes/<int:programme_id>/cohorts", methods=["GET", "POST"])
@require("apprenticeship.view")
@doc("Cohorts of a programme; POST creates one",
     request_schema={"type": "object", "required": ["name", "start_date"], "properties": {
         "name": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
         "extension_months": {"type": "integer"}}}, tags=TAGS)
def programme_cohorts(programme_id):
    user = acting_user()
    p = get_visible_or_404(user, Programme, programme_id)
    if request.method == "POST":
        data = _body()
        try:
            c = ops.create_cohort(user, p, name=str(data.get("name") or ""), start_date=_date(data, "start_date"),
                                  extension_months=_int(data, "extension_months", 0))
        except ops.ApprenticeshipError as exc:
            raise _ops_error(exc) from None
        db.session.commit()
        return jsonify(cohort_json(c)), 201
    rows = db.session.scalars(visible(user, Cohort).where(Cohort.programme_id == p.id).order_by(Cohort.id)).all()
    return jsonify({"items": [cohort_json(c) for c in rows]})


@bp.get("/cohorts")
@require("apprenticeship.view")
@doc("Cohorts the caller may see", params={"limit": "integer", "offset": "integer"}, tags=TAGS)
def cohorts():
    user = acting_user()
    limit, offset = paginate_args()
    rows = db.session.scalars(visible(user, Cohort).order_by(Cohort.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [cohort_json(c) for c in rows], "limit": limit, "offset": offset})


def _milestones_by_apprentice(user, ids):
    out = {i: [] for i in ids}
    if ids:
        for m in db.session.scalars(visible(user, ApprenticeMilestone).where(ApprenticeMilestone.apprentice_id.in_(ids))
                                    .options(sa.orm.joinedload(ApprenticeMilestone.definition))
                                    .order_by(ApprenticeMilestone.due_date, ApprenticeMilestone.id)):
            out[m.apprentice_id].append(m)
    return out


@bp.get("/cohorts/<int:cohort_id>")
@require("apprenticeship.view")
@doc("A cohort with the apprentices the caller may see and their milestone status",
     params={"limit": "integer", "offset": "integer", "status": "string"}, tags=TAGS)
def cohort_detail(cohort_id):
    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    limit, offset = paginate_args(default=100, maximum=1000)
    stmt = visible(user, Apprentice).where(Apprentice.cohort_id == c.id)
    status = request.args.get("status")
    if status:
        stmt = stmt.where(Apprentice.id.in_(sa.select(ApprenticeMilestone.apprentice_id)
                                            .where(ApprenticeMilestone.status == status)))
    rows = db.session.scalars(stmt.order_by(Apprentice.id).limit(limit).offset(offset)
                              .options(sa.orm.joinedload(Apprentice.user))).all()
    ms = _milestones_by_apprentice(user, [a.id for a in rows])
    titles: dict = {}
    return jsonify({**cohort_json(c), "apprentices": [apprentice_json(a, ms[a.id], titles) for a in rows],
                    "limit": limit, "offset": offset})


@bp.post("/cohorts/<int:cohort_id>/apprentices")
@require("apprenticeship.manage")
@doc("Add an apprentice with both mentors and the agreement",
     request_schema={"type": "object", "required": ["user", "enterprise_mentor", "school_mentor", "contract_start",
                                                    "contract_end"], "properties": {
         "user": {"type": ["string", "integer"]}, "enterprise_mentor": {"type": ["string", "integer"]},
         "school_mentor": {"type": ["string", "integer"]}, "contract_start": {"type": "string", "format": "date"},
         "contract_end": {"type": "string", "format": "date"}, "agreement_number": {"type": "string"},
         "agreement_signed_on": {"type": "string", "format": "date"},
         "joined_on": {"type": "string", "format": "date"}}}, tags=TAGS)
def add_apprentice(cohort_id):
    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    data = _body()
    try:
        a, warnings = ops.add_apprentice(
            user, c, user=_user(data.get("user")), enterprise_mentor=_user(data.get("enterprise_mentor")),
            school_mentor=_user(data.get("school_mentor")), contract_start=_date(data, "contract_start"),
            contract_end=_date(data, "contract_end"), agreement_number=str(data.get("agreement_number") or ""),
            agreement_signed_on=_date(data, "agreement_signed_on", False), joined_on=_date(data, "joined_on", False))
    except ops.ApprenticeshipError as exc:
        raise _ops_error(exc) from None
    db.session.commit()
    return jsonify({**apprentice_json(a, a.milestones), "warnings": warnings}), 201


@bp.get("/apprentices/<int:apprentice_id>")
@require("apprenticeship.view")
@doc("An apprentice's plan: milestones with due dates and status", tags=TAGS)
def apprentice_detail(apprentice_id):
    user = acting_user()
    a = get_visible_or_404(user, Apprentice, apprentice_id)
    return jsonify(apprentice_json(a, _milestones_by_apprentice(user, [a.id])[a.id]))


@bp.route("/apprentices/<int:apprentice_id>/signoffs", methods=["GET", "POST"])
@require("apprenticeship.view")
@doc("Sign-offs of an apprentice; POST records one (the apprentice's mentors only; corrections reference "
     "the record they correct)",
     request_schema={"type": "object", "required": ["task_code"], "properties": {
         "kind": {"type": "string", "enum": ["workplace_task", "practical_assessment"]},
         "task_code": {"type": "string"}, "task_title": {"type": "string"}, "comment": {"type": "string"},
         "score": {"type": "number"}, "approved": {"type": "boolean"}, "corrects_id": {"type": "integer"}}},
     tags=TAGS)
def signoffs(apprentice_id):
    user = acting_user()
    a = get_visible_or_404(user, Apprentice, apprentice_id)
    if request.method == "POST":
        data = _body()
        corrects = None
        if data.get("corrects_id") is not None:
            corrects = db.session.scalars(visible(user, SignOff).where(
                SignOff.id == _int(data, "corrects_id"), SignOff.apprentice_id == a.id)).first()
            if corrects is None:
                raise ApiError(404, "not_found", "No such record to correct.", field="corrects_id")
        score = data.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise ApiError(400, "invalid_parameter", "score must be a number.", field="score")
        if score is not None and not math.isfinite(score):
            raise ApiError(400, "invalid_parameter", "score must be a number.", field="score")
        try:
            record = ops.sign_off(user, a, kind=str(data.get("kind") or "workplace_task"),
                                  task_code=str(data.get("task_code") or ""), task_title=str(data.get("task_title") or ""),
                                  comment=str(data.get("comment") or ""), score=score,
                                  approved=data.get("approved", True) is not False, corrects=corrects)
        except ops.ApprenticeshipError as exc:
            raise _ops_error(exc) from None
        db.session.commit()
        return jsonify(signoff_json(record)), 201
    rows = db.session.scalars(visible(user, SignOff).where(SignOff.apprentice_id == a.id).order_by(SignOff.id)).all()
    return jsonify({"items": [signoff_json(s) for s in rows]})


@bp.post("/apprentices/<int:apprentice_id>/hours")
@require("apprenticeship.sign_off")
@doc("Log workplace or classroom hours (the apprentice's mentors only)",
     request_schema={"type": "object", "required": ["kind", "hours", "on_date"], "properties": {
         "kind": {"type": "string", "enum": ["workplace", "classroom"]}, "hours": {"type": "number"},
         "on_date": {"type": "string", "format": "date"}, "note": {"type": "string"}}}, tags=TAGS)
def log_hours(apprentice_id):
    user = acting_user()
    a = get_visible_or_404(user, Apprentice, apprentice_id)
    data = _body()
    hours = data.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not math.isfinite(hours):
        raise ApiError(400, "invalid_parameter", "hours must be a number.", field="hours")
    try:
        entry = ops.log_hours(user, a, kind=str(data.get("kind") or ""), hours=float(hours),
                              on_date=_date(data, "on_date"), note=str(data.get("note") or ""))
    except ops.ApprenticeshipError as exc:
        raise _ops_error(exc) from None
    db.session.commit()
    return jsonify({"id": entry.id, "kind": entry.kind, "hours": entry.hours, "on_date": entry.on_date.isoformat()}), 201

