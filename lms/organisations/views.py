"""Administration pages: users, organisations, memberships.

System administrators manage everything; an organisation's administrators manage its members.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.accounts import operations as account_ops
from lms.accounts.forms import EmptyForm
from lms.accounts.models import User
from lms.core.db import contains_text, db
from lms.core.forms import submit
from lms.core.permissions import acting_user, can, get_visible_or_404, require, require_admin
from lms.organisations import operations as ops
from lms.organisations.forms import AdminUserForm, MembershipForm, OrganisationForm, UserStatusForm
from lms.organisations.models import Membership, Organisation

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


@bp.route("/users", methods=["GET", "POST"])
@require_admin
def users():
    form = AdminUserForm()
    done = submit(form, lambda: account_ops.register_user(form.login.data, form.password.data, form.real_name.data,
                                                          is_system_admin=form.is_system_admin.data),
                  account_ops.AccountError)
    if done.ok:
        flash(_("The account %(login)s has been created.", login=done.value.login), "success")
        return redirect(url_for("admin.user_detail", user_id=done.value.id))
    status = done.status
    q = (request.args.get("q") or "").strip()
    page = min(max(request.args.get("page", 1, type=int), 1), 10**6)
    stmt = sa.select(User).order_by(User.id)
    if q:
        stmt = stmt.where(contains_text(q, User.email, User.mobile, User.real_name))
    rows = db.session.scalars(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE,
                           page=page, q=q, form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_admin
def user_detail(user_id):
    user = db.session.get(User, user_id) or abort(404)
    form = UserStatusForm(data={"active": user.is_active_account, "is_system_admin": user.is_system_admin})
    if form.validate_on_submit():
        try:
            ops.set_account_status(user, active=form.active.data, is_system_admin=form.is_system_admin.data,
                                   by=acting_user())
        except account_ops.AccountError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_detail.html", user=user, form=form)


@bp.route("/organisations", methods=["GET", "POST"])
@require()
def organisations():
    viewer = acting_user()
    form = OrganisationForm()
    if form.is_submitted() and not viewer.is_system_admin:
        abort(403)
    done = submit(form, lambda: ops.create_organisation(form.name.data, form.kind.data, name_en=form.name_en.data,
                                                        credit_code=form.credit_code.data, region=form.region.data),
                  account_ops.AccountError)
    if done.ok:
        flash(_("The organisation has been created."), "success")
        return redirect(url_for("admin.organisation_detail", org_id=done.value.id))
    status = done.status
    from lms.core.permissions import visible

    rows = db.session.scalars(visible(viewer, Organisation).order_by(Organisation.name)).all()
    return render_template("admin/organisations.html", organisations=rows, form=form), status


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@require()
def organisation_detail(org_id):
    viewer = acting_user()
    org = get_visible_or_404(viewer, Organisation, org_id)
    may_manage = can(viewer, "organisations.manage_members", org.id)
    form = MembershipForm()
    status = 200
    if form.validate_on_submit():
        if not may_manage:
            abort(403)
        user = account_ops.find_user(form.login.data)
        if user is None:
            form.login.errors = list(form.login.errors) + [_("No account with this login.")]
            status = 400
        elif form.role.data in ("enterprise_admin", "institution_admin", "supervisor") and not viewer.is_system_admin:
            form.role.errors = list(form.role.errors) + [_("Only a system administrator may grant this role.")]
            status = 400
        elif not viewer.is_system_admin and user.organisation_ids() - {org.id}:
            # Adding someone gives this organisation's staff sight of their records; a person who
            # already belongs elsewhere is added by a system administrator (or joins themselves).
            form.login.errors = list(form.login.errors) + [
                _("This person belongs to another organisation; ask a system administrator to add them.")]
            status = 400
        else:
            try:
                ops.add_membership(user, org, form.role.data, by=viewer)
            except account_ops.AccountError as exc:
                form.login.errors = list(form.login.errors) + [exc.message]
                status = 400
            else:
                flash(_("The member has been added."), "success")
                return redirect(url_for("admin.organisation_detail", org_id=org.id))
    elif form.is_submitted():
        status = 400
    members = db.session.scalars(sa.select(Membership).where(Membership.organisation_id == org.id)
                                 .order_by(Membership.role, Membership.id)).all()
    return render_template("admin/organisation_detail.html", org=org, members=members, form=form,
                           may_manage=may_manage, remove_form=EmptyForm()), status


@bp.route("/organisations/<int:org_id>/members/<int:membership_id>/remove", methods=["POST"])
@require()
def remove_member(org_id, membership_id):
    viewer = acting_user()
    org = get_visible_or_404(viewer, Organisation, org_id)
    if not can(viewer, "organisations.manage_members", org.id):
        abort(403)
    m = db.session.get(Membership, membership_id)
    if m is None or m.organisation_id != org.id:
        abort(404)
    if m.role in ("enterprise_admin", "institution_admin", "supervisor") and not viewer.is_system_admin:
        abort(403)
    ops.remove_membership(m)
    flash(_("The member has been removed."), "success")
    return redirect(url_for("admin.organisation_detail", org_id=org.id))
