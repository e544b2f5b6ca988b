"""JSON API of the competency plugin under ``/api/v1/competency``: frameworks, rules, learner
profiles, attainments (exam results, award) and certificates."""
from __future__ import annotations

import datetime as dt
import functools

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from competency.operations import CompetencyError
from competency.operations.access import (may_edit_framework, may_edit_rule, may_edit_rules, may_manage,
                                          may_recompute, may_view_learner, valid_id)
from lms.api import ApiError, doc, paginate_args
from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, require, visible

api_bp = Blueprint("competency_api", __name__, url_prefix="/api/v1/competency")
TAGS = ["competency"]


def domain_errors(view):
    """Answer :class:`CompetencyError` as the API's JSON error (and undo the request's writes)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        from competency.operations.frameworks import FrameworkImportError

        try:
            return view(*args, **kwargs)
        except FrameworkImportError as exc:
            db.session.rollback()
            raise ApiError(exc.status, exc.code, "the framework file has errors; nothing was imported",
                           errors=exc.problems) from None
        except CompetencyError as exc:
            db.session.rollback()
            details = {"field": exc.field} if exc.field else {}
            raise ApiError(exc.status, exc.code, str(exc.message), **details) from None

    return wrapped


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    return data


def _iso(v):
    return v.isoformat() if v else None


def framework_json(fw) -> dict:
    return {"id": fw.id, "identifier": str(fw.identifier), "title": fw.title, "title_en": fw.title_en,
            "edition": fw.edition, "status": fw.status, "vocational": fw.vocational, "published": fw.published,
            "level_names": [lv.label() for lv in fw.levels],
            "occupation": {"code": fw.occupation.code, "name_zh": fw.occupation.name_zh, "name_en": fw.occupation.name_en},
            "levels": [lv.rung for lv in fw.levels], "created_at": _iso(fw.created_at),
            "owner": _owner(fw.owner_org)}


def _owner(org) -> dict | None:
    """The owning organisation (None = the system)."""
    return {"id": org.id, "name": org.name} if org is not None else None


def _forbidden():
    return ApiError(403, "forbidden", "only staff of the organisation that owns it, or a system admin, may change this")


def rule_json(rule) -> dict:
    return {"id": rule.id, "framework_id": rule.framework_id, "unit_id": rule.unit_id, "name": rule.name,
            "unit_code": rule.unit.code, "verbs": rule.verbs, "match_kind": rule.match_kind, "match_iri": rule.match_iri,
            "min_scaled": rule.min_scaled, "success_required": rule.success_required, "weight": rule.weight,
            "min_source": rule.min_source,
            "group": {"id": rule.group_id, "name": rule.group.name, "operator": rule.group.operator},
            "active": rule.active, "owner": _owner(rule.owner_org)}


def attainment_json(att) -> dict:
    return {"id": att.id, "user_id": att.user_id, "framework_id": att.framework_id, "level_id": att.level_id,
            "rung": att.rung, "status": att.status, "coverage": att.coverage, "coverage_met": att.coverage_met,
            "prerequisites_met": att.prerequisites_met, "exams_met": att.exams_met,
            "eligible_at": _iso(att.eligible_at), "awarded_at": _iso(att.awarded_at),
            "awarded_by_id": att.awarded_by_id, "certified_at": _iso(att.certified_at),
            "retracted_at": _iso(att.retracted_at)}


def certificate_json(cert) -> dict:
    from competency.operations.certificates import verify_url

    return {"id": cert.id, "uuid": str(cert.uuid), "attainment_id": cert.attainment_id, "user_id": cert.user_id,
            "verification_code": cert.verification_code, "verify_url": verify_url(cert.verification_code),
            "statement": cert.statement, "issued_at": _iso(cert.issued_at), "revoked_at": _iso(cert.revoked_at),
            "revocation_reason": cert.revocation_reason or None}


def _framework(framework_id):
    """A framework the caller may see (404 otherwise)."""
    from competency.models import Framework

    if not valid_id(framework_id):
        raise ApiError(404, "not_found", "no such framework")
    return get_visible_or_404(acting_user(), Framework, framework_id)


def _rule(rule_id):
    """A rule the caller may see (404 otherwise)."""
    from competency.models import EvidenceRule

    if not valid_id(rule_id):
        raise ApiError(404, "not_found", "no such rule")
    return get_visible_or_404(acting_user(), EvidenceRule, rule_id)


def _optional_int(data: dict, key: str):
    value = data.get(key)
    if value is None:
        return None
    if not valid_id(value):
        raise ApiError(400, "invalid", f"{key} must be an id (a positive integer)", field=key)
    return value


# --- frameworks ------------------------------------------------------------------------------


@api_bp.get("/frameworks")
@require()
@doc("Frameworks (one per edition of an occupation's standard)", params={"limit": "integer", "offset": "integer"},
     tags=TAGS)
def frameworks():
    from competency.models import Framework

    limit, offset = paginate_args()
    rows = db.session.scalars(visible(acting_user(), Framework).order_by(Framework.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [framework_json(f) for f in rows], "limit": limit, "offset": offset})


@api_bp.get("/frameworks/<int:framework_id>")
@require()
@doc("A framework as a 1EdTech CASE package (CFDocument, CFItems, CFAssociations)", tags=TAGS)
def framework(framework_id):
    from competency.operations.frameworks import export_case

    return jsonify(export_case(_framework(framework_id)))


@api_bp.post("/frameworks")
@require()
@domain_errors
@doc("Import a framework: a CASE JSON package (application/json) or the CSV layout (text/csv). "
     "Nothing is imported when any line has an error; errors list line and message. "
     "The framework belongs to ``organisation_id`` (query; default: the importer's organisation; "
     "system admins: the system).", params={"organisation_id": "integer"},
     request_schema={"type": "object", "description": "CASE package"}, tags=TAGS)
def import_framework():
    from competency.operations.frameworks import import_framework as run

    user = acting_user()
    if not may_manage(user):
        raise ApiError(403, "forbidden", "only institution or system admins import frameworks")
    raw = request.get_data(as_text=True)
    if not raw.strip():
        raise ApiError(400, "empty", "send the framework file as the request body")
    name = "upload.csv" if (request.mimetype or "").endswith("csv") else "upload.json"
    fw = run(raw, name, actor=user, owner_org_id=_import_owner(user))
    db.session.commit()
    return jsonify(framework_json(fw)), 201


@api_bp.post("/frameworks/pull")
@require()
@domain_errors
@doc("Import a framework from a CASE server: ``url`` is a ``.../ims/case/v1p0|v1p1/CFPackages/{id}`` or "
     "``CFDocuments/{id}`` address on a host listed in the ``COMPETENCY_CASE_HOSTS`` setting "
     "(time limit ``COMPETENCY_CASE_TIMEOUT`` seconds). Same owner rules and answers as a file import.",
     params={"organisation_id": "integer"},
     request_schema={"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}, tags=TAGS)
def pull_framework():
    from competency.operations.case_pull import pull_framework as run

    user = acting_user()
    if not may_manage(user):
        raise ApiError(403, "forbidden", "only institution or system admins import frameworks")
    url = _json_body().get("url")
    if not isinstance(url, str) or not url.strip():
        raise ApiError(400, "invalid", "url must be the address of a CASE package", field="url")
    fw = run(url.strip(), actor=user, owner_org_id=_import_owner(user))
    db.session.commit()
    return jsonify(framework_json(fw)), 201


def _import_owner(user) -> int | None:
    from lms.core.permissions import can

    raw = request.args.get("organisation_id", "")
    if raw:
        if not (raw.isdigit() and valid_id(int(raw))):
            raise ApiError(400, "invalid", "organisation_id must be an id (a positive integer)", field="organisation_id")
        org_id = int(raw)
        if not can(user, "competency.manage_frameworks", org_id):
            raise ApiError(403, "forbidden", "you may not import frameworks for that organisation")
        return org_id
    if user.is_system_admin:
        return None
    orgs = sorted(o for o in user.organisation_ids() if can(user, "competency.manage_frameworks", o))
    if len(orgs) != 1:
        raise ApiError(400, "invalid", "say which organisation owns the framework (organisation_id)",
                       field="organisation_id")
    return orgs[0]


@api_bp.patch("/frameworks/<int:framework_id>")
@require()
@domain_errors
@doc("Change a framework's titles, publisher, description or status (owner organisation or system admin)",
     request_schema={"type": "object", "properties": {
         "title": {"type": "string"}, "title_en": {"type": "string"}, "publisher": {"type": "string"},
         "description": {"type": "string"}, "status": {"enum": ["active", "retired"]},
         "published": {"type": "boolean"}}}, tags=TAGS)
def update_framework(framework_id):
    from competency.operations.frameworks import update_framework as run

    user = acting_user()
    from competency.operations.frameworks import FRAMEWORK_FIELDS

    fw = _framework(framework_id)
    if not may_edit_framework(user, fw):
        raise _forbidden()
    data = _json_body()
    unknown = sorted(set(data) - set(FRAMEWORK_FIELDS))
    if unknown:
        raise ApiError(400, "invalid", f"these fields cannot be changed: {', '.join(unknown)}", field=unknown[0])
    run(fw, actor=user, **data)
    db.session.commit()
    return jsonify(framework_json(fw))


@api_bp.delete("/frameworks/<int:framework_id>")
@require()
@domain_errors
@doc("Delete a framework with its tree and rules (owner organisation or system admin; refused while "
     "learners hold its levels)", tags=TAGS)
def delete_framework(framework_id):
    from competency.operations.frameworks import delete_framework as run

    user = acting_user()
    fw = _framework(framework_id)
    if not may_edit_framework(user, fw):
        raise _forbidden()
    run(fw, actor=user)
    db.session.commit()
    return "", 204


@api_bp.post("/frameworks/<int:framework_id>/recompute")
@require()
@doc("Queue a recompute of the framework for every learner (rule changes reach past evidence only "
     "through it)", tags=TAGS)
def recompute_framework(framework_id):
    from competency.tasks import recompute_framework as task

    user = acting_user()
    fw = _framework(framework_id)
    if not may_recompute(user, fw):
        raise _forbidden()
    fw_id, user_id = fw.id, user.id
    db.session.commit()
    task.delay(fw_id, user_id)
    return jsonify({"framework_id": fw_id, "status": "queued"}), 202


# --- rules -----------------------------------------------------------------------------------


@api_bp.get("/frameworks/<int:framework_id>/rules")
@require()
@doc("Evidence rules of a framework", tags=TAGS)
def rules(framework_id):
    from competency.models import EvidenceRule

    fw = _framework(framework_id)
    rows = db.session.scalars(visible(acting_user(), EvidenceRule).where(EvidenceRule.framework_id == fw.id)
                              .order_by(EvidenceRule.id))
    return jsonify({"items": [rule_json(r) for r in rows]})


@api_bp.post("/frameworks/<int:framework_id>/rules")
@require()
@domain_errors
@doc("Create an evidence rule", request_schema={"type": "object", "required": ["unit_id", "verbs", "match_kind", "match_iri"],
     "properties": {"unit_id": {"type": "integer"}, "verbs": {"type": "array", "items": {"type": "string"}},
                    "match_kind": {"enum": ["activity", "type", "parent"]}, "match_iri": {"type": "string"},
                    "min_scaled": {"type": "number"}, "success_required": {"type": "boolean"},
                    "min_source": {"enum": ["any", "launch", "system", "assessment"]},
                    "weight": {"type": "number"}, "group": {"type": "string"}, "operator": {"enum": ["any", "all"]},
                    "name": {"type": "string"}, "organisation_id": {"type": "integer"}}}, tags=TAGS)
def create_rule(framework_id):
    from competency.models import FrameworkItem
    from competency.operations.rules import create_rule as run

    user = acting_user()
    fw = _framework(framework_id)
    if not may_edit_rules(user):
        raise ApiError(403, "forbidden", "only teachers and admins edit rules")
    data = _json_body()
    unit_id = data.get("unit_id")
    unit = db.session.get(FrameworkItem, unit_id) if valid_id(unit_id) else None
    if unit is None or unit.framework_id != fw.id:
        raise ApiError(400, "invalid", "unit_id must be a unit of this framework", field="unit_id")
    verbs = data.get("verbs")
    if not isinstance(verbs, list):
        raise ApiError(400, "invalid", "verbs must be a list of IRIs", field="verbs")
    try:
        weight = float(data.get("weight", 1.0))
        min_scaled = float(data["min_scaled"]) if data.get("min_scaled") is not None else None
    except (TypeError, ValueError):
        raise ApiError(400, "invalid", "weight and min_scaled must be numbers") from None
    rule = run(unit, actor=user, verbs=[str(v) for v in verbs], match_kind=str(data.get("match_kind", "")),
               match_iri=str(data.get("match_iri", "")), min_scaled=min_scaled,
               success_required=bool(data.get("success_required")), weight=weight,
               min_source=str(data.get("min_source") or "any"),
               group_name=str(data.get("group") or ""), operator=str(data.get("operator") or "any"),
               name=str(data.get("name") or ""), organisation_id=_optional_int(data, "organisation_id"))
    db.session.commit()
    return jsonify(rule_json(rule)), 201


@api_bp.patch("/rules/<int:rule_id>")
@require()
@domain_errors
@doc("Change an evidence rule (staff of its owner organisation or a system admin); applies to past "
     "evidence only through a recompute", request_schema={"type": "object", "properties": {
         "name": {"type": "string"}, "verbs": {"type": "array", "items": {"type": "string"}},
         "match_kind": {"enum": ["activity", "type", "parent"]}, "match_iri": {"type": "string"},
         "min_scaled": {"type": ["number", "null"]}, "success_required": {"type": "boolean"},
         "weight": {"type": "number"}, "active": {"type": "boolean"}}}, tags=TAGS)
def update_rule(rule_id):
    from competency.operations.rules import UPDATABLE
    from competency.operations.rules import update_rule as run

    user = acting_user()
    rule = _rule(rule_id)
    if not may_edit_rule(user, rule):
        raise _forbidden()
    data = _json_body()
    unknown = sorted(set(data) - set(UPDATABLE))
    if unknown:
        raise ApiError(400, "invalid", f"these fields cannot be changed: {', '.join(unknown)}", field=unknown[0])
    if "verbs" in data and not (isinstance(data["verbs"], list) and all(isinstance(v, str) for v in data["verbs"])):
        raise ApiError(400, "invalid", "verbs must be a list of IRIs", field="verbs")
    for key in ("match_kind", "match_iri", "name"):
        if key in data and not isinstance(data[key], str):
            raise ApiError(400, "invalid", f"{key} must be a string", field=key)
    for key in ("success_required", "active"):
        if key in data and not isinstance(data[key], bool):
            raise ApiError(400, "invalid", f"{key} must be true or false", field=key)
    for key in ("weight", "min_scaled"):
        value = data.get(key)
        if key in data and not (value is None and key == "min_scaled") and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ApiError(400, "invalid", f"{key} must be a number", field=key)
    run(rule, actor=user, **data)
    db.session.commit()
    return jsonify(rule_json(rule))


@api_bp.delete("/rules/<int:rule_id>")
@require()
@domain_errors
@doc("Delete an evidence rule (staff of its owner organisation or a system admin). With ``dry_run=1`` "
     "nothing is deleted and the answer lists the learners whose units or levels would change at the next "
     "recompute.", params={"dry_run": "boolean"}, tags=TAGS)
def delete_rule(rule_id):
    from competency.operations.rules import deletion_impact
    from competency.operations.rules import delete_rule as run

    user = acting_user()
    rule = _rule(rule_id)
    if not may_edit_rule(user, rule):
        raise _forbidden()
    if request.args.get("dry_run", "").lower() in ("1", "true", "yes"):
        return jsonify({"dry_run": True, **deletion_impact(rule, viewer=user)})
    run(rule, actor=user)
    db.session.commit()
    return "", 204


@api_bp.get("/activities")
@require()
@doc("Activities the LRS knows, to build rules from (search by IRI or name)", params={"q": "string", "type": "string"},
     tags=TAGS)
def activities():
    from lms.xapi.store import search_activities

    return jsonify({"items": search_activities(request.args.get("q", ""), limit=50,
                                               activity_type=request.args.get("type") or None)})


# --- learners --------------------------------------------------------------------------------


def _learner(user_id):
    from lms.accounts.models import User

    user = db.session.get(User, user_id)
    if user is None or not may_view_learner(acting_user(), user_id):
        raise ApiError(404, "not_found", "no such learner")
    return user


@api_bp.get("/learners/<int:user_id>/profile")
@require()
@doc("A learner's competency profile per occupation (level held, coverage per function, units with evidence, "
     "exams, prerequisites, suggested activities)", params={"occupation": "string", "locale": "string"}, tags=TAGS)
def profile(user_id):
    from competency.operations.profile import learner_profile

    user = _learner(user_id)
    return jsonify(learner_profile(user, locale=request.args.get("locale", "zh"),
                                   occupation_code=request.args.get("occupation") or None))


@api_bp.get("/me/profile")
@require()
@doc("The caller's own competency profile", params={"occupation": "string"}, tags=TAGS)
def my_profile():
    from competency.operations.profile import learner_profile

    return jsonify(learner_profile(acting_user(), locale=request.args.get("locale", "zh"),
                                   occupation_code=request.args.get("occupation") or None))


@api_bp.post("/learners/<int:user_id>/levels/<int:level_id>/exam-results")
@require()
@domain_errors
@doc("Record an exam result (assessors)", request_schema={"type": "object", "required": ["part"], "properties": {
    "part": {"enum": ["theory", "practical", "review"]}, "score": {"type": "number"}, "passed": {"type": "boolean"},
    "taken_at": {"type": "string", "format": "date-time"}}}, tags=TAGS)
def exam_result(user_id, level_id):
    from competency.models import FrameworkLevel
    from competency.operations.attainment import record_exam_result

    learner = _learner(user_id)
    level = db.session.get(FrameworkLevel, level_id)
    if level is None:
        raise ApiError(404, "not_found", "no such level")
    data = _json_body()
    taken = None
    if data.get("taken_at"):
        try:
            taken = dt.datetime.fromisoformat(str(data["taken_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "invalid", "taken_at must be an ISO 8601 date-time", field="taken_at") from None
        if taken.tzinfo is None:
            taken = taken.replace(tzinfo=dt.timezone.utc)
    row = record_exam_result(learner, level, str(data.get("part", "")), data.get("score"), actor=acting_user(),
                             taken_at=taken, passed=data.get("passed") if isinstance(data.get("passed"), bool) else None)
    db.session.commit()
    return jsonify({"id": row.id, "part": row.part, "score": row.score, "passed": row.passed,
                    "valid_until": _iso(row.valid_until)}), 201


# --- attainments and certificates ------------------------------------------------------------


@api_bp.get("/attainments")
@require()
@doc("Level attainments the caller may see", params={"status": "string", "user_id": "integer", "limit": "integer",
                                                      "offset": "integer"}, tags=TAGS)
def attainments():
    from competency.models import LevelAttainment

    limit, offset = paginate_args()
    q = visible(acting_user(), LevelAttainment).order_by(LevelAttainment.id)
    if request.args.get("status"):
        q = q.where(LevelAttainment.status == request.args["status"])
    if request.args.get("user_id", "").isdigit():
        q = q.where(LevelAttainment.user_id == int(request.args["user_id"]))
    rows = db.session.scalars(q.limit(limit).offset(offset)).all()
    return jsonify({"items": [attainment_json(a) for a in rows], "limit": limit, "offset": offset})


@api_bp.get("/attainments/<int:attainment_id>")
@require()
@doc("One level attainment", tags=TAGS)
def attainment(attainment_id):
    from competency.models import LevelAttainment

    return jsonify(attainment_json(get_visible_or_404(acting_user(), LevelAttainment, attainment_id)))


@api_bp.post("/attainments/<int:attainment_id>/award")
@require()
@domain_errors
@doc("Award an eligible level (authorised assessor or institution admin)", tags=TAGS)
def award(attainment_id):
    from competency.models import LevelAttainment
    from competency.operations.attainment import award_level

    att = get_visible_or_404(acting_user(), LevelAttainment, attainment_id)
    award_level(att, actor=acting_user())
    db.session.commit()
    return jsonify(attainment_json(att))


@api_bp.post("/attainments/<int:attainment_id>/certificate")
@require()
@domain_errors
@doc("Issue the certificate of an awarded level", tags=TAGS)
def issue(attainment_id):
    from competency.models import LevelAttainment
    from competency.operations.certificates import issue_certificate

    att = get_visible_or_404(acting_user(), LevelAttainment, attainment_id)
    cert = issue_certificate(att, actor=acting_user())
    db.session.commit()
    return jsonify(certificate_json(cert)), 201


@api_bp.get("/certificates")
@require()
@doc("Certificates the caller may see", params={"limit": "integer", "offset": "integer"}, tags=TAGS)
def certificates():
    from competency.models import Certificate

    limit, offset = paginate_args()
    rows = db.session.scalars(visible(acting_user(), Certificate).order_by(Certificate.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [certificate_json(c) for c in rows], "limit": limit, "offset": offset})


@api_bp.get("/certificates/<int:certificate_id>")
@require()
@doc("One certificate with its Open Badges 3.0 credential", tags=TAGS)
def certificate(certificate_id):
    from competency.models import Certificate

    cert = get_visible_or_404(acting_user(), Certificate, certificate_id)
    return jsonify({**certificate_json(cert), "credential": cert.credential})


@api_bp.post("/certificates/<int:certificate_id>/revoke")
@require()
@domain_errors
@doc("Revoke a certificate", request_schema={"type": "object", "required": ["reason"],
                                             "properties": {"reason": {"type": "string"}}}, tags=TAGS)
def revoke(certificate_id):
    from competency.models import Certificate
    from competency.operations.certificates import revoke_certificate

    cert = get_visible_or_404(acting_user(), Certificate, certificate_id)
    revoke_certificate(cert, actor=acting_user(), reason=str(_json_body().get("reason") or ""))
    db.session.commit()
    return jsonify(certificate_json(cert))
