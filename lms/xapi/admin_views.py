"""Administration pages of the LRS: clients, the statement browser, forwarding.

* ``/admin/xapi/clients``: LRS clients (system administrators): registered systems with their
  trust level and their learners' home pages -- list, create (the key and the secret are shown
  once, in the answer to the creating POST), edit, revoke; launch credentials in use -- list
  (learner, activity, expiry), revoke.
* ``/admin/xapi/statements``: the statement browser (system administrators, supervisors, and
  teachers scoped to the learners of their organisations; see :func:`statements_visible`);
  system administrators may void a statement there, with a reason.
* ``/admin/xapi/forwarding``: each destination's health, backlog and dead letters, with resend.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from lms.accounts.models import User
from lms.core import permissions
from lms.core.db import contains_text, db, utcnow
from lms.core.events import call_after_commit
from lms.core.forms import choices
from lms.core.permissions import acting_user, can, require, require_admin, visible
from lms.records.provenance import SYSTEM, TRUST_ASSESSMENT, TRUST_STANDARD, TRUST_UNTRUSTED
from lms.xapi import forwarding
from lms.xapi.errors import XAPIError, XAPIValidationError
from lms.xapi.identifiers import sha1
from lms.xapi.models import Activity, Agent, Client, Statement, StatementActivity, Verb

bp = Blueprint("xapi_admin", __name__, url_prefix="/admin/xapi")

PAGE_SIZE = 50

#: Scopes an administrator may grant, with what they allow.
SCOPE_LABELS = {
    "statements/write": _l("Write statements"),
    "statements/read": _l("Read all statements"),
    "statements/read/mine": _l("Read the statements it wrote"),
    "state": _l("Read and write state documents"),
    "define": _l("Define activities"),
    "profile": _l("Read and write profile documents"),
    "all/read": _l("Read everything"),
    "all": _l("Everything"),
}

#: Trust levels of a registered system (the trust policy of the learning records reads them).
TRUST_LABELS = {
    TRUST_UNTRUSTED: _l("Untrusted"),
    TRUST_STANDARD: _l("Standard"),
    TRUST_ASSESSMENT: _l("Assessment system (its exam results may count)"),
}
#: Launch credentials listed on the clients page (the newest first).
LAUNCH_LIST_SIZE = 100


# --- Scope of the statement browser ---------------------------------------------------------


def _statements_about(user_ids) -> sa.Select:
    """Ids of the statements whose actor stands for one of these users, by the learning-record
    layer's identities (platform accounts, verified e-mail addresses, linked foreign accounts)."""
    from lms.records.identity import key_hashes_of_users
    from lms.records.models import StatementFact

    hashes = sorted(key_hashes_of_users(user_ids)) or ["-"]
    return sa.select(StatementFact.statement_id).where(StatementFact.learner_hash.in_(hashes))


@permissions.scope(Statement)
def statements_visible(user, stmt):
    """Supervisors see every statement; a teacher sees statements whose actor is a member of an
    organisation where the teacher teaches; everyone sees statements about themselves.

    (The LRS cannot tell reliably which course an outside statement belongs to, so the rule
    follows the people, not the activities.)
    """
    if "supervisor" in user.roles():
        return stmt
    user_ids = {user.id}
    org_ids = user.organisation_ids("teacher")
    if org_ids:
        from lms.organisations.models import Membership

        user_ids |= set(db.session.scalars(sa.select(Membership.user_id)
                                           .where(Membership.organisation_id.in_(org_ids)).distinct()))
    return stmt.where(Statement.id.in_(_statements_about(user_ids)))


def may_browse(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_system_admin or can(user, "xapi.browse"))


# --- Forms ------------------------------------------------------------------------------------


def _printable(form, field):
    if field.data and any(ord(ch) < 32 for ch in field.data):
        raise ValidationError(_l("Control characters are not allowed."))


def _home_page_lines(form, field):
    """One absolute http(s) URL per line (the LRS's own rule, with its message)."""
    from lms.xapi.credentials import normalise_home_page

    for line in home_page_lines(field.data):
        try:
            normalise_home_page(line)
        except XAPIValidationError:
            raise ValidationError(_l("Each line must be one absolute http(s) address such as "
                                     "https://moodle.example.com (no spaces, query or fragment).")) from None


def home_page_lines(text: str | None) -> list[str]:
    """The non-empty lines of the home pages field."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class SystemDeclarationForm(FlaskForm):
    """What a registered system declares: its trust level and its learners' account home pages."""

    trust_level = SelectField(_l("Trust level"), choices=choices(TRUST_LABELS), default=TRUST_STANDARD)
    home_pages = TextAreaField(_l("Account home pages of its learners (one per line)"),
                               validators=[Length(max=5000), _home_page_lines])


class ClientForm(SystemDeclarationForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200), _printable])
    scopes = SelectMultipleField(_l("Scopes"), choices=choices(SCOPE_LABELS), default=["statements/write"],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                 validators=[DataRequired()])


class VoidForm(FlaskForm):
    reason = StringField(_l("Reason for voiding"), validators=[DataRequired(), Length(max=500), _printable])


class ResendForm(FlaskForm):
    delivery_id = HiddenField()


# --- Clients ----------------------------------------------------------------------------------


@bp.route("/clients", methods=["GET", "POST"])
@require_admin
def clients():
    from lms.xapi import credentials

    form = ClientForm()
    created = None
    status = 200
    if form.validate_on_submit():
        try:
            client, key, secret = credentials.create_client(form.name.data.strip(), form.scopes.data,
                                                            created_by=acting_user(),
                                                            trust_level=form.trust_level.data,
                                                            home_pages=home_page_lines(form.home_pages.data))
        except XAPIValidationError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
            status = 400
        else:
            created = {"name": client.name, "key": key, "secret": secret, "endpoint": credentials.lrs_endpoint()}
            form = ClientForm(formdata=None)
    elif form.is_submitted():
        status = 400
    response = current_app.make_response((_clients_page(form, created=created), status))
    if created:
        response.headers["Cache-Control"] = "no-store"  # the secret must not linger in caches
    return response


def _clients_page(form, *, created=None, edited=None):
    """The clients page: registered systems (each with its declaration form; ``edited`` is the
    ``(client id, form)`` that failed validation) and the launch credentials in use."""
    systems = db.session.scalars(sa.select(Client).where(Client.kind == SYSTEM).order_by(Client.id.desc())).all()
    edit_forms = {}
    for c in systems:
        if edited is not None and edited[0] == c.id:
            edit_forms[c.id] = edited[1]
        else:
            edit_forms[c.id] = SystemDeclarationForm(formdata=None, prefix=f"c{c.id}", trust_level=c.trust_level,
                                                     home_pages="\n".join(c.home_pages or ()))
    launches = db.session.execute(
        sa.select(Client, User.real_name, User.email).join(User, User.id == Client.user_id)
        .where(Client.kind != SYSTEM, Client.active.is_(True), Client.expires_at > utcnow())
        .order_by(Client.id.desc()).limit(LAUNCH_LIST_SIZE)).all()
    return render_template("xapi/clients.html", clients=systems, launches=launches, form=form, created=created,
                           scope_labels=SCOPE_LABELS, trust_labels=TRUST_LABELS, edit_forms=edit_forms,
                           revoke_form=ResendForm())


@bp.route("/clients/<int:client_id>/declaration", methods=["POST"])
@require_admin
def update_client(client_id):
    from lms.xapi import credentials

    client = db.session.get(Client, client_id)
    if client is None or client.kind != SYSTEM:
        abort(404)
    form = SystemDeclarationForm(prefix=f"c{client.id}")
    if form.validate_on_submit():
        try:
            credentials.update_client(client, trust_level=form.trust_level.data,
                                      home_pages=home_page_lines(form.home_pages.data))
        except XAPIValidationError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
        else:
            flash(_("The client %(name)s has been updated.", name=client.name), "success")
            return redirect(url_for("xapi_admin.clients"))
    return _clients_page(ClientForm(formdata=None), edited=(client_id, form)), 400


@bp.route("/clients/<int:client_id>/revoke", methods=["POST"])
@require_admin
def revoke_client(client_id):
    from lms.xapi import credentials

    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    client = db.session.get(Client, client_id)
    if client is None:
        abort(404)
    credentials.revoke_client(client)
    flash(_("The client %(name)s has been revoked.", name=client.name), "success")
    return redirect(url_for("xapi_admin.clients"))


# --- Statement browser ------------------------------------------------------------------------


def _parse_local(value: str | None, tz: ZoneInfo):
    """A ``datetime-local`` value (in the site's time zone) as aware UTC, or ``None``."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:  # year 1 or 9999 moved across a time zone
        return False


def _matching_users(viewer, text: str, limit: int = 200) -> list[int]:
    """Ids of users whose e-mail, mobile or name contains ``text`` (LIKE wildcards taken literally)."""
    stmt = sa.select(User.id).where(contains_text(text, User.email, User.mobile, User.real_name)).limit(limit)
    return list(db.session.scalars(stmt))


@bp.route("/statements")
@require()
def statements():
    viewer = acting_user()
    if not may_browse(viewer):
        abort(403)
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    args = request.args
    learner = (args.get("learner") or "").replace("\x00", "").strip()[:100]  # PostgreSQL text has no NUL
    verb_iri = (args.get("verb") or "").strip()
    activity = (args.get("activity") or "").strip()
    since_raw, until_raw = args.get("since") or "", args.get("until") or ""
    errors = []
    since, until = _parse_local(since_raw, tz), _parse_local(until_raw, tz)
    if since is False or until is False:
        errors.append(_("Enter times as YYYY-MM-DDTHH:MM."))
        since = until = None

    stmt = visible(viewer, Statement, sa.select(Statement.pk, Statement.id, Statement.stored, Statement.object_id,
                                                Statement.object_type, Statement.voided, Verb.iri, Verb.display,
                                                Agent.ifi, Agent.name)
                   .join(Verb, Verb.pk == Statement.verb_pk).outerjoin(Agent, Agent.pk == Statement.actor_pk))
    if learner:
        stmt = stmt.where(Statement.id.in_(_statements_about(_matching_users(viewer, learner))))
    # Newest first, paged by (stored, pk). With an activity, order by the link table's copy of
    # both, so the (activity, stored) index gives the page directly (as the LRS's own queries do).
    order_stored, order_pk = Statement.stored, Statement.pk
    if verb_iri:
        stmt = stmt.where(Statement.verb_pk == sa.select(Verb.pk).where(Verb.iri_hash == sha1(verb_iri))
                          .scalar_subquery())
    if activity:
        stmt = stmt.join(StatementActivity, sa.and_(
            StatementActivity.statement_pk == Statement.pk,
            StatementActivity.activity_pk == sa.select(Activity.pk).where(Activity.iri_hash == sha1(activity))
            .scalar_subquery(),
            StatementActivity.direct.is_(True)))
        order_stored, order_pk = StatementActivity.stored, StatementActivity.statement_pk
    if since:
        stmt = stmt.where(order_stored >= since)
    if until:
        stmt = stmt.where(order_stored < until)
    cursor = args.get("before") or ""
    if cursor:
        try:
            stored_s, pk_s = cursor.split("_", 1)
            before = (dt.datetime.fromisoformat(stored_s), int(pk_s))
            if before[0].tzinfo is None or not 0 <= before[1] < 2 ** 63:
                raise ValueError
        except ValueError:
            abort(400)
        stmt = stmt.where(sa.or_(order_stored < before[0], sa.and_(order_stored == before[0], order_pk < before[1])))
    rows = db.session.execute(stmt.order_by(order_stored.desc(), order_pk.desc()).limit(PAGE_SIZE + 1)).all()
    next_cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        next_cursor = f"{last.stored.isoformat()}_{last.pk}"
    verbs = db.session.execute(sa.select(Verb.iri, Verb.display).order_by(Verb.iri).limit(300)).all()
    home = current_app.config["LMS_PUBLIC_URL"].rstrip("/")
    uuids = {r.ifi.rsplit(" ", 1)[1] for r in rows if r.ifi and r.ifi.startswith(f"account:{home} ")}
    names = {}
    if uuids:
        valid = []
        for u in uuids:
            try:
                valid.append(uuid.UUID(u))
            except ValueError:
                pass
        names = {str(u): n for u, n in db.session.execute(
            sa.select(User.uuid, User.real_name).where(User.uuid.in_(valid)))}
    return render_template("xapi/statements.html", rows=rows, verbs=verbs, learner=learner, verb_iri=verb_iri,
                           activity=activity, since=since_raw, until=until_raw, errors=errors,
                           next_cursor=next_cursor, names=names, home=home, tz=tz,
                           status=400 if errors else 200), 400 if errors else 200


@bp.route("/statements/<statement_id>")
@require()
def statement_detail(statement_id):
    viewer = acting_user()
    if not may_browse(viewer):
        abort(403)
    try:
        sid = uuid.UUID(statement_id)
    except ValueError:
        abort(404)
    row = db.session.scalars(visible(viewer, Statement, sa.select(Statement).where(Statement.id == sid))).first()
    if row is None:
        abort(404)
    return _statement_page(row, VoidForm(formdata=None))


def _statement_page(row, void_form):
    text = json.dumps(row.full, indent=2, ensure_ascii=False, sort_keys=False)
    may_void = acting_user().is_system_admin and not row.voided and row.voids_id is None
    return render_template("xapi/statement_detail.html", statement=row, text=text, void_form=void_form,
                           may_void=may_void)


@bp.route("/statements/<statement_id>/void", methods=["POST"])
@require_admin
def void_statement(statement_id):
    """A system administrator voids a statement (any authority's), giving a reason."""
    from lms.xapi import voiding

    try:
        sid = uuid.UUID(statement_id)
    except ValueError:
        abort(404)
    row = db.session.scalars(sa.select(Statement).where(Statement.id == sid)).first()
    if row is None:
        abort(404)
    form = VoidForm()
    if not form.validate_on_submit():
        return _statement_page(row, form), 400
    try:
        voiding_id = voiding.void_statement(sid, reason=form.reason.data, by=acting_user())
    except XAPIError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc.message))
        return _statement_page(row, form), 400
    if voiding_id is None:
        flash(_("This statement was voided already."), "info")
    else:
        flash(_("The statement has been voided."), "success")
    return redirect(url_for("xapi_admin.statement_detail", statement_id=str(sid)))


# --- Forwarding -------------------------------------------------------------------------------


@bp.route("/forwarding")
@require_admin
def forwarding_index():
    try:
        rows = forwarding.status()
        config_error = None
    except forwarding.ForwardingConfigError as exc:
        rows, config_error = [], str(exc)
    return render_template("xapi/forwarding.html", rows=rows, config_error=config_error)


@bp.route("/forwarding/<name>", methods=["GET"])
@require_admin
def forwarding_detail(name):
    rows = forwarding.status(name)
    if not rows:
        abort(404)
    page = max(request.args.get("page", 1, type=int), 1)
    letters = forwarding.dead_letters(name, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template("xapi/forwarding_detail.html", row=rows[0], letters=letters[:PAGE_SIZE],
                           has_more=len(letters) > PAGE_SIZE, page=page, form=ResendForm())


@bp.route("/forwarding/<name>/resend", methods=["POST"])
@require_admin
def forwarding_resend(name):
    if forwarding.destination(name) is None:
        abort(404)
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    ids = None
    if form.delivery_id.data:
        try:
            ids = [int(form.delivery_id.data)]
        except ValueError:
            abort(400)
        if not 0 < ids[0] < 2 ** 63:
            abort(400)
    count = forwarding.resend(name, ids)
    if count:
        call_after_commit(_kick, name)
    flash(_("%(n)d statements queued again.", n=count), "success")
    return redirect(url_for("xapi_admin.forwarding_detail", name=name))


@bp.route("/forwarding/<name>/retry", methods=["POST"])
@require_admin
def forwarding_retry(name):
    if forwarding.destination(name) is None:
        abort(404)
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    count = forwarding.retry_now(name)
    call_after_commit(_kick, name)
    flash(_("%(n)d waiting statements will be sent now.", n=count), "success")
    return redirect(url_for("xapi_admin.forwarding_detail", name=name))


@bp.route("/forwarding/<name>/check", methods=["POST"])
@require_admin
def forwarding_check(name):
    dest = forwarding.destination(name)
    if dest is None:
        abort(404)
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    ok, message = forwarding.check_destination(dest)
    if ok:
        flash(_("Connection works: %(detail)s", detail=message), "success")
    else:
        flash(_("Connection failed: %(detail)s", detail=message), "danger")
    return redirect(url_for("xapi_admin.forwarding_detail", name=name))


def _kick(name: str) -> None:
    """Start a delivery run for ``name`` (inline and short without a broker)."""
    from lms.xapi.forwarding_tasks import forward_deliver

    eager = current_app.config["CELERY"].get("task_always_eager")
    try:
        forward_deliver.delay(name, True, 2.0 if eager else None)
    except Exception:
        current_app.logger.exception("could not start xAPI forwarding for %s", name)
