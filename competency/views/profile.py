"""Profile pages: my skill levels, a learner's profile (for staff who may see them), evidence."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_babel import get_locale

from competency.forms import ExamResultForm, QualificationForm
from competency.operations.access import may_view_learner, visible_learner_ids
from competency.views import bp
from lms.core.db import contains_text, db
from lms.core.permissions import acting_user, require


def _locale() -> str:
    return str(get_locale() or "zh")


def render_profile(learner, *, own: bool):
    from competency.models import Occupation
    from competency.operations.attainment import may_assess
    from competency.operations.engine import user_key
    from competency.operations.profile import build_profile, occupations_of
    from competency.operations.reference import LADDER

    viewer = acting_user()
    occs = occupations_of(user_key(learner))
    code = request.args.get("occupation")
    occupation = next((o for o in occs if o.code == code), occs[0] if occs else None)
    fw_id = request.args.get("framework", type=int)
    profile = build_profile(user_key(learner), occupation, fw_id, locale=_locale()) if occupation else None
    assessor = bool(occupation and may_assess(viewer, occupation.id) and viewer.id != learner.id)
    frameworks = []
    if occupation:
        from competency.models import Framework

        frameworks = db.session.scalars(sa.select(Framework).where(Framework.occupation_id == occupation.id)
                                        .order_by(Framework.created_at.desc())).all()
    return render_template("competency/profile.html", learner=learner, own=own, occupations=occs,
                           occupation=occupation, profile=profile, frameworks=frameworks, ladder=LADDER,
                           assessor=assessor, exam_form=ExamResultForm(), qual_form=QualificationForm(),
                           locale=_locale(), Occupation=Occupation)


@bp.route("/")
@require()
def levels():
    """My skill levels (the learner's own profile)."""
    return render_profile(acting_user(), own=True)


@bp.route("/learners")
@require()
def learners():
    from competency.models import LevelAttainment
    from lms.accounts.models import User

    viewer = acting_user()
    ids = visible_learner_ids(viewer)
    q = sa.select(User).where(User.id != viewer.id).order_by(User.real_name, User.id)
    if ids is not None:
        q = q.where(User.id.in_(ids))
    text = request.args.get("q", "").strip()
    if text:
        q = q.where(contains_text(text, User.real_name, User.email))
    users = db.session.scalars(q.limit(200)).all()
    atts = {}
    if users:
        for att in db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.user_id.in_([u.id for u in users]))):
            atts.setdefault(att.user_id, []).append(att)
    return render_template("competency/learners.html", users=users, atts=atts, q=text)


@bp.route("/learners/<int:user_id>")
@require()
def learner(user_id):
    from lms.accounts.models import User

    viewer = acting_user()
    user = db.session.get(User, user_id)
    if user is None or not may_view_learner(viewer, user_id):
        abort(404)
    return render_profile(user, own=user.id == viewer.id)


@bp.route("/evidence/<int:evidence_id>")
@require()
def evidence(evidence_id):
    from competency.models import Evidence

    ev = db.session.get(Evidence, evidence_id)
    viewer = acting_user()
    if ev is None or not (ev.user_id and may_view_learner(viewer, ev.user_id)) and not viewer.is_system_admin:
        abort(404)
    statement = None
    try:
        from lms.xapi.store import load_statements

        found = load_statements([ev.statement_id])
        statement = json.dumps(found[0].full, ensure_ascii=False, indent=2) if found else None
    except ImportError:  # pragma: no cover
        pass
    from competency.operations.profile import source_name

    return render_template("competency/evidence.html", ev=ev, statement=statement, source_name=source_name(ev))
