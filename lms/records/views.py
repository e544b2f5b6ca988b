"""Pages of the learning-record layer: identity links and the trust policy.

* ``/admin/records/identities/import``: CSV import of identity links (system administrators; and
  enterprise / institution administrators for the members of their organisations).
* ``/admin/records/unmatched``: learners whose statements reach no user; link one to a user or
  issue a one-time code (system administrators; supervisors read).
* ``/admin/records/policy``: the trust policy and the study-time caps (system administrators;
  supervisors read).
* ``/account/identities``: a learner's linked identities, and the form to enter a link code.
"""
from __future__ import annotations

import logging
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.core.forms import submit
from lms.core.permissions import acting_user, can, require
from lms.core.db import db
from lms.records import links, trust
from lms.records.forms import ActionForm, ImportLinksForm, LinkUserForm, PolicyForm, RedeemCodeForm, trust_field_name
from lms.records.identity import IdentityError

admin_bp = Blueprint("records_admin", __name__, url_prefix="/admin/records")
account_bp = Blueprint("records_account", __name__, url_prefix="/account")

PAGE_SIZE = 50

log = logging.getLogger("lms.records")


def may_view(user) -> bool:
    """System administrators and supervisors (read only) see the unmatched learners and the policy."""
    return bool(getattr(user, "is_authenticated", False)) and can(user, "records.view")


def may_import(user) -> bool:
    return links.may_import(user)


def _is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_system_admin)


def _no_store(response):
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- CSV import ---------------------------------------------------------------------------------


@admin_bp.route("/identities/import", methods=["GET", "POST"])
@require()
def import_links():
    user = acting_user()
    if not may_import(user):
        abort(403)
    form = ImportLinksForm()
    found: dict[str, list] = {}

    def action():
        data = form.file.data.read(links.MAX_CSV_BYTES + 1)
        try:
            return links.import_links(data, user)
        except links.LinkImportError as exc:
            found["errors"] = exc.errors
            raise

    outcome = submit(form, action, errors=(links.LinkImportError,))
    if outcome.ok:
        result = outcome.value
        flash(_("%(linked)d accounts linked to %(users)d users; %(unchanged)d were linked already.",
                linked=result.linked, users=result.users, unchanged=result.unchanged), "success")
        return redirect(url_for("records_admin.import_links"))
    return render_template("records/import.html", form=form, errors=found.get("errors", []),
                           max_mb=links.MAX_CSV_BYTES // 2**20, max_lines=links.MAX_CSV_LINES,
                           system_admin=user.is_system_admin), outcome.status


# --- Unmatched learners ---------------------------------------------------------------------------


@admin_bp.route("/unmatched")
@require()
def unmatched():
    user = acting_user()
    if not may_view(user):
        abort(403)
    q = (request.args.get("q") or "").strip()[:100]
    page = min(max(request.args.get("page", 1, type=int), 1), 10_000)
    rows = links.unmatched_learners(search=q or None, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template("records/unmatched.html", rows=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE,
                           page=page, q=q, log=links.recent_links(), may_act=user.is_system_admin,
                           action_form=ActionForm(), key_text=links.key_text, key_kind=links.key_kind,
                           link_sources=links.LINK_SOURCE_LABELS)


def _unmatched_key_or_404(digest: str) -> str:
    key = links.key_for_hash(digest)
    if key is None:
        abort(404)
    return key


@admin_bp.route("/unmatched/<digest>/link", methods=["GET", "POST"])
@require()
def link_user(digest):
    admin = acting_user()
    if not _is_admin(admin):
        abort(403)
    key = _unmatched_key_or_404(digest)
    form = LinkUserForm()
    count = links.statement_count(key)
    target = None
    status = 200
    if form.validate_on_submit():
        from lms.accounts.operations import find_user

        target = find_user(form.login.data)
        if target is None:
            form.login.errors = [_("No user has this login.")]
            status = 400
        elif form.confirmed.data == "1":
            outcome = submit(form, lambda: links.link_key(key, target, by=admin), errors=(IdentityError,))
            if outcome.ok:
                flash(_("Linked to %(name)s: %(n)d statements now count for this user.",
                        name=target.display_name, n=count), "success")
                return redirect(url_for("records_admin.unmatched"))
            status, target = outcome.status, None
    elif form.is_submitted():
        status = 400
    return render_template("records/link_user.html", form=form, digest=digest, key_text=links.key_text(key),
                           key_kind=links.key_kind(key), count=count, target=target), status


@admin_bp.route("/unmatched/<digest>/code", methods=["POST"])
@require()
def issue_code(digest):
    admin = acting_user()
    if not _is_admin(admin):
        abort(403)
    key = _unmatched_key_or_404(digest)
    form = ActionForm()
    outcome = submit(form, lambda: links.issue_code(key, by=admin), errors=(IdentityError,))
    if not outcome.ok:
        if form.form_errors:
            flash(form.form_errors[0], "danger")
            return redirect(url_for("records_admin.unmatched"))
        abort(400)
    row, code = outcome.value
    return _no_store(render_template("records/code_issued.html", code=code, expires_at=row.expires_at,
                                     key_text=links.key_text(key), key_kind=links.key_kind(key),
                                     count=links.statement_count(key)))


# --- Trust policy ---------------------------------------------------------------------------------


def _hours(seconds: float) -> Decimal:
    return (Decimal(str(seconds)) / 3600).quantize(Decimal("0.01"))


@admin_bp.route("/policy", methods=["GET", "POST"])
@require()
def policy():
    from lms.accounts.models import User
    from lms.records.models import PolicySetting

    user = acting_user()
    if not may_view(user):
        abort(403)
    if request.method == "POST" and not user.is_system_admin:
        abort(403)
    table = trust.policy_table()
    form = PolicyForm()
    if not form.is_submitted():
        for source, facts in table.items():
            for fact, value in facts.items():
                getattr(form, trust_field_name(source, fact)).data = value
        form.max_statement_hours.data = _hours(trust.limit("study_time.max_statement_seconds"))
        form.max_daily_hours.data = _hours(trust.limit("study_time.max_daily_seconds"))

    def action():
        wanted = {s: {f: bool(getattr(form, trust_field_name(s, f)).data) for f in trust.FACTS} for s in trust.SOURCES}
        changed = trust.update_policy(trust=wanted, limits={
            "study_time.max_statement_seconds": float(form.max_statement_hours.data) * 3600,
            "study_time.max_daily_seconds": float(form.max_daily_hours.data) * 3600}, by=user)
        if changed:  # the rows keep the last change of each setting; the log keeps every change
            log.info("trust policy changed: %s", ", ".join(f"{n}={_setting_value(n)}" for n in changed),
                     extra={"event": "records_policy_changed", "user_id": user.id})
        return changed

    outcome = submit(form, action)
    if outcome.ok:
        flash(_("The policy was saved (%(n)d settings changed).", n=len(outcome.value)), "success")
        return redirect(url_for("records_admin.policy"))
    changes = db.session.execute(sa.select(PolicySetting, User).outerjoin(User, User.id == PolicySetting.updated_by_id)
                                 .order_by(PolicySetting.updated_at.desc()).limit(100)).all()
    return render_template("records/policy.html", form=form, sources=trust.SOURCES, facts=trust.FACTS,
                           field_name=trust_field_name, source_labels=links.SOURCE_LABELS,
                           fact_labels=links.FACT_LABELS, changes=changes, setting_label=_setting_label,
                           read_only=not user.is_system_admin), outcome.status


def _setting_value(name: str):
    return trust.limit(name) if name in trust.DEFAULT_LIMITS else trust.allowed(*name[len("trust."):].rsplit(".", 1))


def _setting_label(name: str) -> str:
    if name == "study_time.max_statement_seconds":
        return _("Most study time one statement may count")
    if name == "study_time.max_daily_seconds":
        return _("Most study time per learner and day")
    if name.startswith("trust."):
        source, _dot, fact = name[len("trust."):].rpartition(".")
        return "{} · {}".format(links.SOURCE_LABELS.get(source, source), links.FACT_LABELS.get(fact, fact))
    return name


# --- A learner's linked identities ----------------------------------------------------------------


@account_bp.route("/identities", methods=["GET", "POST"])
@require()
def identities():
    from lms.records.models import LearnerIdentity

    user = acting_user()
    form = RedeemCodeForm()
    outcome = submit(form, lambda: links.redeem_code(user, form.code.data), errors=(IdentityError,),
                     commit_on_error=True)  # keeps the count of wrong codes; nothing else changed
    if outcome.ok:
        flash(_("The account was linked: its learning records now count for you."), "success")
        return redirect(url_for("records_account.identities"))
    rows = db.session.scalars(sa.select(LearnerIdentity).where(LearnerIdentity.user_id == user.id)
                              .order_by(LearnerIdentity.created_at, LearnerIdentity.id)).all()
    return render_template("records/identities.html", form=form, rows=rows, key_text=links.key_text,
                           key_kind=links.key_kind, link_sources=links.LINK_SOURCE_LABELS), outcome.status
