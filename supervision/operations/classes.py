"""Classes of subsidised training: applied for by an institution with roster, plan, teachers,
schedule and assessment plan; opened or returned by an officer. The roster at opening is frozen
as the denominator of every rate; later additions are logged and never counted."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts import idcard
from lms.accounts.models import User
from lms.core.db import db, utcnow
from supervision.access import is_officer, may_act_for
from supervision.models import ClassTrainee, TrainingClass
from supervision.operations import SupervisionError, audit
from supervision.operations import catalogue as catalogue_ops

STATUS_LABELS = {"applied": _l("Awaiting approval"), "returned": _l("Returned"), "open": _l("Open"),
                 "completed": _l("Completed")}
MAX_ROSTER = 5000


def find_trainee(text: str) -> User | None:
    """A roster line: an e-mail address, a mobile number or an ID number."""
    text = (text or "").strip()
    if not text:
        return None
    lowered = text.lower()
    stmt = sa.select(User).where(sa.or_(User.email == lowered, User.mobile == text,
                                        User.id_card_number == idcard.normalise(text)))
    return db.session.scalars(stmt.order_by(User.id)).first()


def parse_roster(text: str) -> list[User]:
    """Users of a roster, one per line; every bad line is reported with its number."""
    users: list[User] = []
    errors: list[str] = []
    seen: set[int] = set()
    lines = (text or "").splitlines()
    if len(lines) > MAX_ROSTER:
        raise SupervisionError(_l("A roster has at most %(n)s lines.", n=MAX_ROSTER), "roster")
    for number, line in enumerate(lines, start=1):
        line = line.strip().split(",")[0].strip()
        if not line:
            continue
        user = find_trainee(line)
        if user is None:
            errors.append(str(_l("Line %(n)s: no account with this login or ID number.", n=number)))
        elif not idcard.is_valid(user.id_card_number or ""):
            errors.append(str(_l("Line %(n)s: the account has no valid ID number.", n=number)))
        elif user.id in seen:
            errors.append(str(_l("Line %(n)s: this trainee is already on the roster.", n=number)))
        else:
            seen.add(user.id)
            users.append(user)
    if errors:
        raise SupervisionError(" ".join(errors[:20]), "roster")
    if not users:
        raise SupervisionError(_l("The roster is empty."), "roster")
    return users


def apply_class(by, organisation_id: int, *, entry_key: str, name: str, start_date: dt.date, end_date: dt.date,
                roster: str, teaching_plan: str = "", teachers: str = "", schedule: str = "",
                assessment_plan: str = "") -> TrainingClass:
    """An institution applies to open a class of one of its subsidised-training entries (flush only)."""
    if not may_act_for(by, organisation_id):
        raise SupervisionError(_l("You may not act for this institution."), status=403)
    entry = catalogue_ops.entry("training", entry_key)
    if entry is None or entry.organisation_id != organisation_id:
        raise SupervisionError(_l("Choose one of the institution's subsidised-training entries."), "entry_key")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise SupervisionError(_l("Give the class a name (at most 200 characters)."), "name")
    if end_date < start_date:
        raise SupervisionError(_l("The end date is before the start date."), "end_date")
    for field, value in (("teaching_plan", teaching_plan), ("teachers", teachers), ("schedule", schedule),
                         ("assessment_plan", assessment_plan)):
        if not (value or "").strip():
            raise SupervisionError(_l("This is required for an application."), field)
    users = parse_roster(roster)
    listing = catalogue_ops.institution_listing(organisation_id)
    capacity = int((listing.data or {}).get("capacity") or 0) if listing else 0
    if capacity and len(users) > capacity:
        raise SupervisionError(_l("The roster exceeds the institution's capacity of %(n)s.", n=capacity), "roster")
    cls = TrainingClass(organisation_id=organisation_id, entry_key=entry.entry_key,
                        occupation_code=entry.occupation_code, level=entry.level or 0, course_ref=entry.course_ref,
                        total_hours=entry.total_hours or 0, standard_amount=entry.standard_amount or 0, name=name,
                        teaching_plan=teaching_plan.strip(), teachers=teachers.strip(), schedule=schedule.strip(),
                        assessment_plan=assessment_plan.strip(), start_date=start_date, end_date=end_date,
                        open_key=f"{organisation_id}|{entry.entry_key}|{name}", created_by_id=by.id,
                        created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(cls)
    except sa.exc.IntegrityError:
        raise SupervisionError(_l("A class with this name is already open or awaiting approval."), "name",
                               status=409) from None
    for user in users:
        db.session.add(ClassTrainee(class_id=cls.id, user_id=user.id, id_number=idcard.normalise(user.id_card_number),
                                    real_name=user.real_name or "", created_at=utcnow()))
    db.session.flush()
    audit.log(by, "class.applied", "class", cls.id, organisation_id=organisation_id,
              summary=f"{name} ({len(users)})")
    return cls


def decide_class(by, class_id: int, *, approve: bool, reason: str = "") -> TrainingClass:
    """An officer opens (approves) or returns a class. Opening freezes the roster as the
    denominator. Exactly one decision counts, even when sent many times at once (flush only)."""
    if not is_officer(by):
        raise SupervisionError(_l("Only an authority officer may do this."), status=403)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise SupervisionError(_l("Give the reason for returning it."), "reason")
    now = utcnow()
    values = {"status": "open" if approve else "returned", "decision_reason": reason, "decided_by_id": by.id,
              "decided_at": now}
    if approve:
        values["opened_at"] = now
    else:
        values["open_key"] = None
    done = db.session.execute(sa.update(TrainingClass).where(TrainingClass.id == class_id,
                                                             TrainingClass.status == "applied").values(**values)
                              .execution_options(synchronize_session=False)).rowcount
    cls = db.session.get(TrainingClass, class_id)
    if cls is None:
        raise SupervisionError(_l("No such class."), status=404)
    db.session.refresh(cls)
    if done != 1:
        raise SupervisionError(_l("This class has already been decided."), status=409)
    if approve:
        db.session.execute(sa.update(ClassTrainee).where(ClassTrainee.class_id == cls.id,
                                                         ClassTrainee.added_after_opening.is_(False))
                           .values(in_denominator=True).execution_options(synchronize_session=False))
        cls.enrolled_at_opening = db.session.scalar(sa.select(sa.func.count()).select_from(ClassTrainee).where(
            ClassTrainee.class_id == cls.id, ClassTrainee.in_denominator.is_(True))) or 0
        db.session.flush()
        from supervision.operations import indicators

        indicators.refresh_class(cls)
    audit.log(by, "class.approved" if approve else "class.returned", "class", cls.id,
              organisation_id=cls.organisation_id, summary=f"{cls.name}: {reason}".strip(": "),
              enrolled=cls.enrolled_at_opening)
    return cls


def add_trainee_after_opening(by, class_id: int, login: str) -> ClassTrainee:
    """A change to an open class's roster: logged, never in the denominator (flush only)."""
    cls = db.session.get(TrainingClass, class_id)
    if cls is None or not may_act_for(by, cls.organisation_id):
        raise SupervisionError(_l("No such class."), status=404)
    if cls.status != "open":
        raise SupervisionError(_l("Trainees can be added only to an open class."), status=409)
    user = find_trainee(login)
    if user is None or not idcard.is_valid(user.id_card_number or ""):
        raise SupervisionError(_l("No account with a valid ID number for this login."), "login")
    row = ClassTrainee(class_id=cls.id, user_id=user.id, id_number=idcard.normalise(user.id_card_number),
                       real_name=user.real_name or "", added_after_opening=True, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        raise SupervisionError(_l("This trainee is already on the roster."), "login", status=409) from None
    audit.log(by, "class.trainee_added", "class", cls.id, organisation_id=cls.organisation_id,
              summary=f"{cls.name}: {user.display_name}")
    return row


def complete_class(by, class_id: int) -> TrainingClass:
    """The institution (or an officer) marks an open class completed (flush only)."""
    cls = db.session.get(TrainingClass, class_id)
    if cls is None or not (may_act_for(by, cls.organisation_id) or is_officer(by)):
        raise SupervisionError(_l("No such class."), status=404)
    done = db.session.execute(sa.update(TrainingClass).where(TrainingClass.id == class_id,
                                                             TrainingClass.status == "open")
                              .values(status="completed").execution_options(synchronize_session=False)).rowcount
    db.session.refresh(cls)
    if done != 1:
        raise SupervisionError(_l("Only an open class can be completed."), status=409)
    audit.log(by, "class.completed", "class", cls.id, organisation_id=cls.organisation_id, summary=cls.name)
    return cls
