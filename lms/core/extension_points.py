"""Every extension point of the core, in one place.

A plugin touches the core only through what is declared here: the named signals (blinker) it
may connect to or send, and the registries it may add to. Each one says who sends or reads it
and what a receiver gets or returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from blinker import Namespace

_signals = Namespace()

# --- Signals -------------------------------------------------------------------------------

statement_stored = _signals.signal("statement-stored", doc="""
Sent by ``lms.xapi`` once the transaction that stored one or more xAPI statements has
committed (from the recorder used by plugins, and from ``/xapi/statements`` for outside
clients alike). ``sender`` is the Flask app; keyword ``statement_ids`` is a list of statement
id strings (UUID) in storage order, ``voided_ids`` the ids of statements that those statements
voided. Receivers must be quick: they should enqueue a Celery task and return; the return value
is ignored.
""")

user_registered = _signals.signal("user-registered", doc="""
Sent by ``lms.accounts.operations.register_user`` after a new account has been flushed (not yet
committed). ``sender`` is the :class:`~lms.accounts.models.User`. Return value ignored.
""")

membership_changed = _signals.signal("membership-changed", doc="""
Sent by ``lms.organisations.operations`` when a membership is added or removed (flushed, not
committed). ``sender`` is the Membership; keyword ``action`` is ``added`` or ``removed`` (a role
is never changed in place: a membership has one role, another role is another membership).
Return value ignored.
""")

user_deleting = _signals.signal("user-deleting", doc="""
Sent by ``lms.organisations.operations.set_account_status`` before an account is deactivated by
an administrator (same transaction). ``sender`` is the User. The core revokes the user's API
tokens and LRS launch credentials; plugins may revoke their own tokens or sessions. Return value
ignored.
""")

app_created = _signals.signal("app-created", doc="""
Sent at the end of :func:`lms.create_app` once all plugins are initialised. ``sender`` is the
app. Plugins use it for wiring that needs every other plugin present. Return value ignored.
""")

# --- Domain events (sent after commit with lms.core.events.send_after_commit) ------------------
#
# Every event below is sent once the transaction that made the change has committed, never for
# a change that was rolled back. ``sender`` is the object named; keywords as documented. Return
# values are ignored. Receivers that do real work enqueue a Celery task.


def _event(name: str, doc: str):
    return _signals.signal(name, doc=doc)


account_verified = _event("account-verified", """
Sent by ``lms.accounts`` when a user proved they own an e-mail address or mobile number.
``sender`` is the User; ``channel`` is ``"email"`` or ``"mobile"``; ``address`` the verified value.
The learning-record layer links the address's xAPI identifiers to the account on this event, so
evidence stored earlier for that address becomes the user's only now.
""")

identity_linked = _event("identity-linked", """
Sent by ``lms.records.identity`` when a foreign xAPI identity (an account on another system, an
e-mail's mbox / sha1 forms) was linked to a user. ``sender`` is the User; ``keys`` the learner
keys linked; ``source`` how (``verified_email``, ``verified_mobile``, ``admin_csv``,
``learner_code``, ``admin``). Plugins that keep state per learner key move it to the user.
""")

enrolment_created = _event("enrolment-created", """
Sent by ``courses`` when a learner was enrolled. ``sender`` is the Enrolment.
""")

lesson_completed = _event("lesson-completed", """
Sent by ``courses`` when a learner completed a lesson. ``sender`` is the Enrolment; ``lesson_id``.
""")

course_completed = _event("course-completed", """
Sent by ``courses`` when a learner completed a course. ``sender`` is the Enrolment.
""")

exam_result_recorded = _event("exam-result-recorded", """
Sent by ``competency`` when an exam result (theory, practical, review) was recorded for a learner.
``sender`` is the ExamResult.
""")

level_eligible = _event("level-eligible", """
Sent by ``competency`` when a learner's level became eligible. ``sender`` is the LevelAttainment.
""")

level_awarded = _event("level-awarded", """
Sent by ``competency`` when a level was awarded. ``sender`` is the LevelAttainment.
""")

level_retracted = _event("level-retracted", """
Sent by ``competency`` when an awarded or eligible level lost its basis. ``sender`` is the
LevelAttainment; ``reason`` a short text.
""")

certificate_issued = _event("certificate-issued", """
Sent by ``competency`` when a certificate was issued. ``sender`` is the Certificate.
""")

certificate_revoked = _event("certificate-revoked", """
Sent by ``competency`` when a certificate was revoked. ``sender`` is the Certificate; ``reason``.
""")

signoff_recorded = _event("signoff-recorded", """
Sent by the apprenticeship sub-domain when a mentor sign-off (or its correction) was recorded.
``sender`` is the SignOff.
""")

milestone_status_changed = _event("milestone-status-changed", """
Sent by the apprenticeship sub-domain when an apprentice's milestone changed status. ``sender``
is the MilestoneStatus (or equivalent row); ``old`` and ``new`` the statuses.
""")

# --- Registries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFilters:
    """What a reader of a worker's record asked for: a period (dates, inclusive; ``None`` open) and
    an occupation code (``""``: all). A section keeps the entries that fall in them."""

    since: object = None
    until: object = None
    occupation: str = ""

    def keeps(self, day, occupation_code: str = "") -> bool:
        """Whether an entry dated ``day`` (a date, or ``None`` undated) for ``occupation_code`` stays."""
        if self.occupation and occupation_code != self.occupation:
            return False
        if day is not None and self.since is not None and day < self.since:
            return False
        return not (day is not None and self.until is not None and day > self.until)


@dataclass(frozen=True)
class RecordEntry:
    """One line of a worker's record (a course, a level, an exam, a milestone ...).

    ``key`` is stable and unique in the record (``"<plugin>:<kind>:<public id>"``, never a raw
    database id shown to people); ``title`` and the ``details`` (label, value) pairs are display
    text, already translated; ``day`` the date the entry is filed under; ``source`` is
    ``platform`` (this platform), ``external`` (a named external system: ``source_label``) or
    ``import``; ``verification`` one of ``signed`` (a credential the platform signed),
    ``recorded`` (recorded by an institution or assessor here), ``reported`` (reported by a
    system, not checked), ``revoked``; ``credential`` the signed Open Badges 3.0 credential when
    there is one (the verifiable export embeds it); ``achievement`` an Open Badges ``Achievement``
    describing the entry (for the export), ``parents`` the keys of entries it counts towards (a
    course towards a unit's level ...), which the export states as associations.
    """

    key: str
    kind: str
    title: str
    day: object = None
    details: tuple = ()
    source: str = "platform"
    source_label: str = ""
    verification: str = "recorded"
    occupation_code: str = ""
    credential: dict | None = None
    achievement: dict | None = None
    parents: tuple = ()
    #: Structured facts for the export (``status``, ``score``, ``hours``, ``start``, ``end`` ...).
    result: dict | None = None


@dataclass(frozen=True)
class RecordSection:
    """A titled group of record entries, contributed by one plugin; ``order`` sorts sections."""

    key: str
    title: object
    entries: tuple
    order: int = 100




@dataclass(frozen=True)
class NavEntry:
    """A link in the main navigation.

    ``endpoint`` is the Flask endpoint; ``label`` a lazy-translated string; ``visible`` is called
    with the current user (possibly anonymous) and decides whether the link is shown; ``order``
    sorts entries (lower first); ``section`` is ``main`` or ``admin``.
    """

    endpoint: str
    label: object
    visible: Callable[[object], bool] = lambda user: True
    order: int = 100
    section: str = "main"


@dataclass(frozen=True)
class RetainedData:
    """Personal data an erasure kept: ``what`` (table or description), ``rule`` the name of the
    retention rule that keeps it (a key of :data:`lms.privacy.retention.RULES`), ``count`` rows,
    ``until`` (ISO date) when it may be erased."""

    what: str
    rule: str
    count: int = 0
    until: str | None = None


@dataclass
class ErasureReport:
    """What one privacy provider did for one user: rows removed and anonymised per table, and what
    it kept with the retention rule that keeps it."""

    provider: str
    removed: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    retained: list[RetainedData] = field(default_factory=list)

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return {"provider": self.provider, "removed": dict(self.removed), "anonymised": dict(self.anonymised),
                "retained": [asdict(r) for r in self.retained]}


@dataclass(frozen=True)
class PrivacyProvider:
    """A package's declaration of the personal data it holds (as Moodle's privacy providers).

    ``export(user) -> dict`` returns every personal datum the package holds about ``user``, JSON
    serialisable; ``erase(user) -> ErasureReport`` removes or anonymises it (flush only; the
    caller commits), keeping only what a named retention rule keeps. ``order``: providers run in
    ascending order on erasure (plugins before the core's accounts, which run last).
    """

    name: str
    label: object
    export: Callable[[object], dict]
    erase: Callable[[object], "ErasureReport"]
    order: int = 100


@dataclass
class Registries:
    """Per-app registries that plugins fill in their ``init_app``.

    Stored in ``app.extensions["lms"]``; read them with :func:`registries`.
    """

    #: Navigation entries contributed by the core and plugins.
    nav: list[NavEntry] = field(default_factory=list)
    #: Permission name -> (description, roles granted it). See :mod:`lms.core.permissions`.
    permissions: dict[str, tuple[object, frozenset[str]]] = field(default_factory=dict)
    #: OpenAPI path items contributed by API blueprints: path -> {method: operation}.
    openapi_paths: dict[str, dict] = field(default_factory=dict)
    #: Demo-data seeders: callables ``seed(app, context: dict) -> list[str]`` run by
    #: ``flask demo seed`` after the core's seeder; they return lines to print.
    demo_seeders: list[Callable] = field(default_factory=list)
    #: Health checks: name -> callable returning ``(ok: bool, detail: str)``.
    health_checks: dict[str, Callable[[], tuple[bool, str]]] = field(default_factory=dict)
    #: Dashboard panels: callables ``panel(user) -> markup | None`` rendered on the home page.
    home_panels: list[Callable] = field(default_factory=list)
    #: Report sources: name -> callable, the data one plugin offers to another's reports without an
    #: import (see :data:`REPORT_SOURCES` for the names, arguments and return values). Filled with
    #: :func:`add_report_source`; read with :func:`report_source`.
    report_sources: dict[str, Callable] = field(default_factory=dict)
    #: Record sections: callables ``section(user, viewer, filters) -> RecordSection | None``, read by
    #: the core's record page ``/record``, its PDF and its verifiable (CLR 2.0) export. ``user`` is
    #: the worker, ``viewer`` who reads (the worker, or an entitled administrator or supervisor:
    #: the core checked that already), ``filters`` a :class:`RecordFilters`. Sections are shown
    #: sorted by their ``order``; a plugin adds one with a single ``append`` in its ``init_app``.
    record_sections: list[Callable] = field(default_factory=list)
    #: Privacy providers by name (see :class:`PrivacyProvider`): the core's accounts,
    #: organisations, records and xapi, and every plugin holding personal data, register one.
    #: Read by :mod:`lms.privacy` for a worker's export and an administrator's erasure.
    privacy_providers: dict[str, PrivacyProvider] = field(default_factory=dict)


#: The report sources a plugin may offer, with their contract. Readers (``supervision``) call them
#: inside an app context and a database session; a provider only reads (never flushes) and returns
#: plain values (ints, strings, dates, dicts, lists), never ORM objects. "course ref" is the string
#: a provider gives a course (stable across databases, e.g. its uuid); ``rung`` is the skill-ladder
#: rung of DESIGN.md section 5; ``user_ids`` an iterable of user ids. Missing sources mean "this
#: data is not available here": readers treat them as empty, never as an error.
REPORT_SOURCES: dict[str, str] = {
    "courses.of_organisation": "``(organisation_id) -> [{'ref', 'code', 'title', 'occupation_code', "
                               "'study_hours', 'status'}]``: the courses an organisation owns.",
    "courses.describe": "``(refs) -> {ref: {'code', 'title', 'occupation_code', 'study_hours', "
                        "'organisation_id'}}``: courses by ref (unknown refs are left out).",
    "courses.classes": "``(organisation_id) -> [{'ref', 'name', 'course_ref', 'teacher', 'learner_ids'}]``: "
                       "an organisation's classes and their rosters (active enrolments).",
    "courses.enrolments": "``(course_ref, user_ids) -> {user_id: enrolled_at}``: who of ``user_ids`` is "
                          "enrolled in the course (any status but withdrawn).",
    "courses.completions": "``(course_ref, user_ids) -> {user_id: completed_at}``: who completed the course.",
    "competency.occupations": "``() -> [{'code', 'name_zh', 'name_en'}]``: occupations loaded.",
    "competency.certifications": "``(user_ids, occupation_code, rung) -> {user_id: certified_at}``: learners "
                                 "awarded the level (or a higher one) of that occupation, earliest award.",
    "competency.exam_results": "``(user_ids, occupation_code, rung) -> {user_id: [{'part', 'score', 'passed', "
                               "'taken_at'}]}``: level-exam results, not retracted.",
    "supervision.subsidy_listings": "``(course_refs) -> {ref: {'entry_key', 'level', 'standard_amount', "
                                    "'total_hours', 'effective_from'}}``: courses listed in the subsidised-training "
                                    "catalogue today (only the authority's approval lists one; courses shows this "
                                    "instead of a number a teacher types).",
}


def add_report_source(app, name: str, provider: Callable) -> None:
    """Offer ``provider`` under ``name`` (one of :data:`REPORT_SOURCES`); called from ``init_app``."""
    if name not in REPORT_SOURCES:
        raise KeyError(f"undeclared report source {name!r}: declare it in REPORT_SOURCES")
    registries(app).report_sources[name] = provider


def report_source(name: str, app=None) -> Callable | None:
    """The provider offered under ``name``, or ``None`` when no loaded plugin offers it."""
    if name not in REPORT_SOURCES:
        raise KeyError(f"undeclared report source {name!r}")
    return registries(app).report_sources.get(name)


def registries(app=None) -> Registries:
    """The registries of ``app`` (default: the current app)."""
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions["lms"]
