"""Wires apprenticeship into the app: permissions, query scopes, the statement listener, the daily
task, navigation, the home-page panel, blueprints and demo data."""
from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from competency.apprenticeship.models import (Apprentice, ApprenticeMilestone, ApprenticeshipNotification, Cohort,
                                              HoursEntry, Programme, SignOff)
from lms.core import permissions
from lms.core.extension_points import NavEntry, identity_linked, registries, statement_stored

#: Roles that have something to see in apprenticeship.
VIEW_ROLES = ("learner", "mentor", "teacher", "enterprise_admin", "institution_admin", "supervisor")


def _personal(user):
    return sa.or_(Apprentice.user_id == user.id, Apprentice.enterprise_mentor_id == user.id,
                  Apprentice.school_mentor_id == user.id)


def _managed_programme_ids(user):
    ent = user.organisation_ids("enterprise_admin") or {-1}
    sch = user.organisation_ids("institution_admin") or {-1}
    return sa.select(Programme.id).where(sa.or_(Programme.enterprise_id.in_(ent), Programme.school_id.in_(sch)))


def visible_apprentice_ids(user):
    """Subquery of the apprentice ids ``user`` may see (not for supervisors: they see all)."""
    cohorts = sa.select(Cohort.id).where(Cohort.programme_id.in_(_managed_programme_ids(user)))
    return sa.select(Apprentice.id).where(sa.or_(Apprentice.cohort_id.in_(cohorts), _personal(user)))


def _is_supervisor(user) -> bool:
    return "supervisor" in user.roles()


@permissions.scope(Programme)
def _programmes(user, stmt):
    """An enterprise sees its programmes, a school its partnered ones, mentors and apprentices theirs."""
    if _is_supervisor(user):
        return stmt
    mine = sa.select(Cohort.programme_id).join(Apprentice, Apprentice.cohort_id == Cohort.id).where(_personal(user))
    return stmt.where(sa.or_(Programme.id.in_(_managed_programme_ids(user)), Programme.id.in_(mine)))


@permissions.scope(Cohort)
def _cohorts(user, stmt):
    if _is_supervisor(user):
        return stmt
    mine = sa.select(Apprentice.cohort_id).where(_personal(user))
    return stmt.where(sa.or_(Cohort.programme_id.in_(_managed_programme_ids(user)), Cohort.id.in_(mine)))


@permissions.scope(Apprentice)
def _apprentices(user, stmt):
    """A mentor sees only their own apprentices, an apprentice only themselves."""
    if _is_supervisor(user):
        return stmt
    return stmt.where(Apprentice.id.in_(visible_apprentice_ids(user)))


@permissions.scope(ApprenticeMilestone)
def _milestones(user, stmt):
    if _is_supervisor(user):
        return stmt
    return stmt.where(ApprenticeMilestone.apprentice_id.in_(visible_apprentice_ids(user)))


@permissions.scope(SignOff)
def _signoffs(user, stmt):
    if _is_supervisor(user):
        return stmt
    return stmt.where(SignOff.apprentice_id.in_(visible_apprentice_ids(user)))


@permissions.scope(HoursEntry)
def _hours(user, stmt):
    if _is_supervisor(user):
        return stmt
    return stmt.where(HoursEntry.apprentice_id.in_(visible_apprentice_ids(user)))


@permissions.scope(ApprenticeshipNotification)
def _notifications(user, stmt):
    """Notifications are private to their recipient (supervisors included)."""
    return stmt.where(ApprenticeshipNotification.user_id == user.id)


def _on_statements_stored(sender, statement_ids=(), voided_ids=(), **_kw):
    from competency.apprenticeship.tasks import process_statements_task

    if not (statement_ids or voided_ids):
        return
    try:
        process_statements_task.delay(list(statement_ids or []), list(voided_ids or []))
    except Exception:  # noqa: BLE001 - never break the request that stored the statements
        # (eager mode runs the task right here; the daily pass recomputes what was missed)
        logging.getLogger(__name__).exception("apprenticeship: processing statements failed")


def _on_identity_linked(user, keys=(), **_kw):
    """Statements of an identity just linked to an apprentice become their evidence."""
    from competency.apprenticeship.tasks import identity_linked_task

    if keys:
        identity_linked_task.delay(user.id, [str(k) for k in keys])


def _home_panel(user):
    if not getattr(user, "is_authenticated", False):
        return None
    from flask import render_template
    from markupsafe import Markup

    from lms.core.db import db

    notes = db.session.scalars(permissions.visible(user, ApprenticeshipNotification)
                               .where(ApprenticeshipNotification.read_at.is_(None))
                               .order_by(ApprenticeshipNotification.created_at.desc()).limit(10)).all()
    mine = db.session.scalars(permissions.visible(user, Apprentice).where(Apprentice.user_id == user.id)).all()
    if not notes and not mine:
        return None
    return Markup(render_template("competency/apprenticeship/_home_panel.html", notes=notes, mine=mine))


def _nav_visible(user) -> bool:
    return getattr(user, "is_authenticated", False) and (user.is_system_admin or bool(user.roles() & set(VIEW_ROLES)))


def init_app(app) -> None:
    from celery.schedules import crontab

    from competency.apprenticeship import api, views
    from competency.apprenticeship import tasks  # noqa: F401  (registers the Celery tasks)
    from competency.apprenticeship.demo import seed_demo
    from lms.core.celery import add_periodic_task

    app.config.setdefault("LMS_APPRENTICE_SUBSIDY_PER_YEAR",
                          float(os.environ.get("LMS_APPRENTICE_SUBSIDY_PER_YEAR", "5000")))
    app.config.setdefault("LMS_APPRENTICE_SUBSIDY_ADVANCE_SHARE",
                          float(os.environ.get("LMS_APPRENTICE_SUBSIDY_ADVANCE_SHARE", "0.5")))
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    permissions.declare(app, "apprenticeship.view", VIEW_ROLES, _l("See apprenticeship programmes and plans"))
    permissions.declare(app, "apprenticeship.manage", ("enterprise_admin",),
                        _l("Run apprenticeship programmes and cohorts of the enterprise"))
    permissions.declare(app, "apprenticeship.sign_off", ("mentor", "teacher"),
                        _l("Sign off apprentices' workplace tasks and record assessments"))
    permissions.declare(app, "apprenticeship.export", ("enterprise_admin", "institution_admin", "supervisor"),
                        _l("Export apprenticeship progress and subsidy reports"))
    statement_stored.connect(_on_statements_stored, sender=app, weak=False)
    identity_linked.connect(_on_identity_linked, weak=False)
    add_periodic_task(app, "competency-apprenticeship-due-check", "competency.apprenticeship_due_check",
                      crontab=crontab(hour=1, minute=15))
    reg = registries(app)
    reg.nav.append(NavEntry("competency_apprenticeship.overview", _l("Apprenticeship"), _nav_visible, order=30))
    reg.home_panels.append(_home_panel)
    reg.demo_seeders.append(seed_demo)
