"""Competency and apprenticeship read identity, scores, provenance and study time from the
learning-record layer (lms.records): every actor form reaches the same learner live and on
recompute, evidence is claimed only once an identity is linked, the trust policy decides which
sources give evidence and exam results, and study time is the same everywhere."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import uuid

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.core.db import db
from tests.competency.helpers import COMPLETED, PASSED, X, import_small, mbox, record, stmt
from tests.competency.records_support import ASSESSOR, MOODLE, UNTRUSTED, store_from
from tests.competency.test_apprenticeship import ENTRY, world  # noqa: F401  (fixture)

_n = itertools.count(1)


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _learner_state(key: str) -> dict:
    from competency.models import Evidence, ExamResult, LevelAttainment, UnitState

    return {
        "units": {(s.unit_id, round(s.coverage, 6), s.covered, s.user_id)
                  for s in db.session.scalars(sa.select(UnitState).where(UnitState.learner_key == key))
                  if s.coverage > 0},
        "levels": {(a.level_id, a.status, round(a.coverage, 6), a.coverage_met, a.exams_met)
                   for a in db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.learner_key == key))
                   if a.coverage > 0 or a.status != "in_progress" or a.exams_met},
        "evidence": {(e.statement_id, e.unit_id, e.rule_id, e.user_id, e.source_label)
                     for e in db.session.scalars(sa.select(Evidence).where(Evidence.learner_key == key,
                                                                           Evidence.retracted_at.is_(None)))},
        "exams": {(r.statement_id, r.part, r.passed)
                  for r in db.session.scalars(sa.select(ExamResult).where(ExamResult.learner_key == key,
                                                                           ExamResult.retracted_at.is_(None)))},
    }


# --- identity: every actor form, live and on recompute --------------------------------------

ACTOR_FORMS = ("mbox_any_case", "sha1_of_mailto", "sha1_of_bare_address", "platform_account",
               "foreign_account_slash", "foreign_account_no_slash")


def _actor(form: str, user, email: str, data) -> dict:
    from lms.xapi.recorder import actor_for

    if form == "mbox_any_case":
        cased = "".join(c.upper() if flip else c for c, flip in
                        zip(email, data.draw(st.lists(st.booleans(), min_size=len(email), max_size=len(email)))))
        return {"objectType": "Agent", "mbox": "mailto:" + cased}
    if form == "sha1_of_mailto":
        return {"objectType": "Agent", "mbox_sha1sum": _sha1("mailto:" + email)}
    if form == "sha1_of_bare_address":  # Open edX's sha1 mode
        return {"objectType": "Agent", "mbox_sha1sum": _sha1(email)}
    if form == "platform_account":
        return actor_for(user)
    home = "https://Moodle.School.example/" if form == "foreign_account_slash" else "https://moodle.school.example"
    return {"objectType": "Agent", "account": {"homePage": home, "name": f"m{user.id}"}}


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_recompute_equals_the_live_path_for_every_actor_form(app, create_user, data):
    from competency.models import Evidence, ExamResult, LevelAttainment, StateChange, UnitState
    from competency.operations.engine import recompute_learner, user_key
    from lms.records.identity import learner_key, link

    if not db.session.scalar(sa.text("SELECT count(*) FROM competency_frameworks")):
        import_small()
    n = next(_n)
    email = f"forms{n}@example.com"
    user = create_user(login=email)  # verified: the address's mbox and both sha1 forms are linked
    foreign = {"objectType": "Agent", "account": {"homePage": "https://moodle.school.example/", "name": f"m{user.id}"}}
    link_first = data.draw(st.booleans(), label="link the foreign account before its statements")
    if link_first:
        link(user, [learner_key(foreign)], source="admin")
        db.session.commit()
    forms = data.draw(st.lists(st.sampled_from(ACTOR_FORMS), min_size=1, max_size=6), label="forms")
    acts = ["wiring", "laws-a", "laws-b", "reversing", "exam/theory", "noise"]
    sent = []
    for form in forms:
        act = data.draw(st.sampled_from(acts))
        verb = data.draw(st.sampled_from([PASSED, COMPLETED]))
        st_ = stmt(_actor(form, user, email, data), verb, X + act, scaled=0.9)
        sent.append(st_)
        record(st_)
    # a stranger's statements never become the user's
    record(stmt(mbox(f"stranger{n}@example.com"), PASSED, X + "wiring", scaled=0.9))
    if not link_first:
        link(user, [learner_key(foreign)], source="admin")
        db.session.commit()  # identity_linked moves what the key had

    key = user_key(user)
    live = _learner_state(key)
    wiring = [s for s in sent if s["object"]["id"] == X + "wiring" and s["verb"]["id"] == PASSED]
    assert len([e for e in live["evidence"] if e[0] in {s["id"] for s in wiring}]) == len(wiring)
    assert all(e[3] == user.id for e in live["evidence"])

    for model in (StateChange, Evidence, UnitState, LevelAttainment, ExamResult):
        db.session.execute(sa.delete(model).where(model.learner_key == key))
    recompute_learner(key)
    db.session.commit()
    assert _learner_state(key) == live


def test_recompute_cli_finds_statements_whatever_the_case_of_the_mbox(app, runner, create_user):
    from competency.models import Evidence

    user = create_user(login="case@example.com")
    import_small()
    record(stmt(mbox("CASE@Example.COM"), PASSED, X + "wiring", scaled=0.9))
    assert db.session.scalar(sa.select(Evidence.user_id)) == user.id
    db.session.execute(sa.delete(Evidence))
    db.session.commit()
    res = runner.invoke(args=["competency", "recompute", "--learner", "case@example.com"])
    assert res.exit_code == 0, res.output
    assert db.session.scalar(sa.select(Evidence.user_id)) == user.id


# --- claiming evidence: only on identity_linked -------------------------------------------------

def test_evidence_of_an_unverified_address_is_claimed_only_when_linked_and_once(app, create_user):
    from competency.models import Evidence, UnitState
    from competency.operations.engine import claim_identities, recompute_learner
    from lms.records.identity import email_keys, link

    import_small()
    record(stmt(mbox("Later@Example.com"), PASSED, X + "wiring", scaled=0.9))
    user = create_user(login="later@example.com", verified=False)  # registering claims nothing
    ev = db.session.scalars(sa.select(Evidence)).one()
    assert ev.learner_key == "mbox:mailto:later@example.com" and ev.user_id is None
    record(stmt(mbox("later@example.com"), COMPLETED, X + "laws-a"))  # still not the user's
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence).where(Evidence.user_id.is_not(None))) == 0

    link(user, email_keys(user.email), source="verified_email")
    db.session.commit()  # identity_linked -> the evidence moves to the account
    rows = db.session.scalars(sa.select(Evidence)).all()
    assert len(rows) == 2 and {(e.learner_key, e.user_id) for e in rows} == {(f"user:{user.id}", user.id)}
    state = db.session.scalars(sa.select(UnitState).where(UnitState.covered)).one()
    assert state.learner_key == f"user:{user.id}" and state.user_id == user.id
    assert not db.session.scalars(sa.select(UnitState).where(UnitState.learner_key.like("mbox:%"))).all()
    # once: linking again sends nothing, claiming again moves nothing
    assert link(user, email_keys(user.email), source="verified_email") == []
    assert claim_identities(user, email_keys(user.email)) == 0
    db.session.commit()
    before = _learner_state(f"user:{user.id}")
    recompute_learner(f"user:{user.id}")
    db.session.commit()
    assert _learner_state(f"user:{user.id}") == before and len(before["evidence"]) == 2


def test_registration_no_longer_claims_evidence(app):
    from lms.core.extension_points import user_registered

    assert not any(getattr(r, "__module__", "").startswith("competency")
                   for r in user_registered.receivers_for(object()))


# --- trust and provenance ----------------------------------------------------------------------

def test_exam_results_only_from_sources_trusted_for_them(app, create_user):
    from competency.models import ExamResult
    from competency.operations.engine import recompute_learner

    user = create_user(login="exam@example.com")
    import_small()
    standard = store_from(MOODLE, stmt(mbox("exam@example.com"), PASSED, X + "exam/theory", scaled=0.8))[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExamResult)) == 0
    trusted = store_from(ASSESSOR, stmt(mbox("exam@example.com"), PASSED, X + "exam/practical", scaled=0.7))[0]
    rows = db.session.scalars(sa.select(ExamResult)).all()
    assert [(r.statement_id, r.part, r.passed, r.user_id) for r in rows] == [(trusted, "practical", True, user.id)]
    recompute_learner(f"user:{user.id}")
    db.session.commit()
    assert [r.statement_id for r in db.session.scalars(sa.select(ExamResult))] == [trusted]
    assert standard != trusted


def test_evidence_only_from_sources_trusted_for_completion_with_their_label(app, client, auth, create_user):
    from competency.models import Evidence

    user = create_user(login="trust@example.com")
    import_small()
    store_from(UNTRUSTED, stmt(mbox("trust@example.com"), COMPLETED, X + "laws-a"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0
    sid = store_from(MOODLE, stmt(mbox("trust@example.com"), COMPLETED, X + "laws-a", platform="Claimed"))[0]
    ev = db.session.scalars(sa.select(Evidence)).one()
    assert ev.statement_id == sid and ev.user_id == user.id and ev.source_label == MOODLE.label
    record(stmt(mbox("trust@example.com"), COMPLETED, X + "laws-b"))
    mine = db.session.scalars(sa.select(Evidence).where(Evidence.statement_id != sid)).one()
    assert mine.source_label == ""
    auth.login(user)
    html = client.get("/competency/").get_data(as_text=True)
    assert MOODLE.label in html and "本平台" in html
    page = client.get(f"/competency/evidence/{ev.id}").get_data(as_text=True)
    assert f'data-testid="evidence-source">{MOODLE.label}<' in page


def test_a_rule_accepts_only_sources_at_or_above_its_minimum(app, client, create_user, api_token):
    from competency.models import Evidence
    from tests.competency.helpers import unit

    teacher = create_user(admin=True)
    user = create_user(login="min@example.com")
    fw = import_small()
    u = unit(fw, 2, "1.1.1")
    headers = api_token(teacher)
    bad = client.post(f"/api/v1/competency/frameworks/{fw.id}/rules", headers=headers,
                      json={"unit_id": u.id, "verbs": [PASSED], "match_kind": "activity", "match_iri": X + "assessed",
                            "min_source": "somewhere"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "min_source"
    ok = client.post(f"/api/v1/competency/frameworks/{fw.id}/rules", headers=headers,
                     json={"unit_id": u.id, "verbs": [PASSED], "match_kind": "activity", "match_iri": X + "assessed",
                           "min_source": "assessment"})
    assert ok.status_code == 201 and ok.get_json()["min_source"] == "assessment"
    rule_id = ok.get_json()["id"]

    def evidence_of_rule():
        return db.session.scalars(sa.select(Evidence.statement_id).where(Evidence.rule_id == rule_id)).all()

    store_from(MOODLE, stmt(mbox("min@example.com"), PASSED, X + "assessed"))
    assert evidence_of_rule() == []
    by_assessor = store_from(ASSESSOR, stmt(mbox("min@example.com"), PASSED, X + "assessed"))[0]
    by_platform = record(stmt(mbox("min@example.com"), PASSED, X + "assessed"))[0]
    assert sorted(evidence_of_rule()) == sorted([by_assessor, by_platform])
    assert user.id


def test_rule_form_offers_the_minimum_source(app, client, auth, create_user):
    teacher = create_user(admin=True)
    fw = import_small()
    auth.login(teacher)
    html = client.get(f"/competency/frameworks/{fw.id}/rules/new").get_data(as_text=True)
    assert 'name="min_source"' in html and 'value="assessment"' in html


def test_statement_view_has_a_platform_source_by_default():
    from competency.operations.engine import statement_from_dict

    view = statement_from_dict({"id": str(uuid.uuid4()), "actor": {}, "verb": {"id": PASSED},
                                "object": {"id": X + "a"}, "timestamp": "2026-01-01T00:00:00Z"})
    assert view.source == "platform" and view.source_label == ""
    assert statement_from_dict({"id": "x", "timestamp": "2026-01-01T00:00:00Z"}, source="system:standard",
                               source_label="M").source == "system:standard"


# --- scores ------------------------------------------------------------------------------------

def test_minimum_score_rules_read_raw_min_max_when_scaled_is_absent(app, create_user):
    from competency.models import Evidence

    create_user(login="raw@example.com")
    import_small()  # the wiring rule needs a score of at least 0.6

    def scored(score):
        st_ = stmt(mbox("raw@example.com"), PASSED, X + "wiring")
        st_["result"] = {"score": score}
        return record(st_)[0]

    good = scored({"raw": 85, "max": 100})
    scored({"raw": 50, "min": 0, "max": 100})
    scored({"raw": 7, "min": 5, "max": 10})
    rows = db.session.scalars(sa.select(Evidence)).all()
    assert [(e.statement_id, e.scaled) for e in rows] == [(good, 0.85)]


def test_apprenticeship_facts_read_scores_from_raw_min_max():
    from competency.apprenticeship.evidence import facts_of
    from competency.operations.engine import statement_from_dict

    view = statement_from_dict({"id": str(uuid.uuid4()), "actor": {}, "verb": {"id": PASSED},
                                "object": {"id": X + "exam"}, "result": {"score": {"raw": 72, "min": 0, "max": 90}},
                                "timestamp": "2026-01-01T00:00:00Z"})
    facts = facts_of(view, 1)
    assert facts and all(f["score"] == 0.8 for f in facts) and {f["kind"] for f in facts} == {"completed", "passed"}


# --- study time: one rule on the apprentice page, in the subsidy export, in lms.records -------

def test_one_statement_stream_gives_the_same_hours_everywhere(world, client, auth):
    from openpyxl import load_workbook

    from competency.apprenticeship import reports
    from lms.records import study_time
    from lms.records.provenance import Source
    from lms.xapi.recorder import actor_for
    from lms.xapi.vocab import VERB_PROGRESSED, VERB_TERMINATED

    a1, ap1 = world["a1"], world["ap1"]
    me = actor_for(a1)
    video, quiz, lesson, course = (ENTRY + "/video", ENTRY + "/quiz", ENTRY + "/lesson", ENTRY)

    def s(actor, verb, iri, duration=None, **ctx):
        out = stmt(actor, verb, iri)
        if duration:
            out["result"] = {"duration": duration}
        if ctx:
            out["context"] = ctx
        return out

    # the platform: video reports (increments 60 + 35 s), a quiz passed in 5 min (increment),
    # the video, lesson and course completed (the platform's totals repeat its increments: 0)
    record(s(me, VERB_PROGRESSED, video, "PT60S"), s(me, VERB_PROGRESSED, video, "PT35S"),
           s(me, COMPLETED, video, "PT1M35S"), s(me, PASSED, quiz, "PT5M"), s(me, COMPLETED, lesson, "PT10M"),
           s(me, COMPLETED, course, "PT30M"))
    # a cmi5 session of launched content: its largest duration once (10 min)
    session = {"extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "sess-1"}}
    store_from(Source(kind="launch", label="cmi5 content"), s(me, COMPLETED, ENTRY + "/au", "PT9M", **session),
               s(me, PASSED, ENTRY + "/au", "PT8M", **session), s(me, VERB_TERMINATED, ENTRY + "/au", "PT10M", **session))
    # an outside system's course completed with its total (1 h 13 min 25 s)
    store_from(MOODLE, s({"objectType": "Agent", "mbox": "mailto:" + a1.email}, COMPLETED,
                         "http://moodle.example.org/course/7", "PT1H13M25S", registration=str(uuid.uuid4())))

    expected = 95 + 300 + 600 + 4405
    assert study_time.seconds_of_user(a1) == expected == study_time.seconds_by_user([a1.id])[a1.id]
    hours = expected / 3600  # 1.5
    row = next(r for r in reports.subsidy_rows(world["cohort"], [ap1]) if r.apprentice.id == ap1.id)
    assert row.online_hours == round(hours, 2) == 1.5
    ws = load_workbook(io.BytesIO(reports.subsidy_workbook(world["cohort"], [ap1]))).active
    header = [c.value for c in ws[1]]
    assert dict(zip(header, [c.value for c in ws[2]]))["线上学时"] == 1.5
    auth.login(world["admin"])
    page = client.get(f"/competency/apprenticeship/apprentices/{ap1.id}").get_data(as_text=True)
    shown = page.split('data-testid="hours">')[1].split("</dd>")[0]
    assert "1.5" in shown
    assert dt.date  # the stream is not windowed: the export counts all of it


def test_an_apprentices_foreign_account_counts_once_linked(world):
    from competency.apprenticeship.models import LearningFact
    from lms.records import study_time
    from lms.records.identity import learner_key, link
    from tests.competency.test_apprenticeship import status_of

    a1, ap1 = world["a1"], world["ap1"]
    foreign = {"objectType": "Agent", "account": {"homePage": "https://Moodle.School.example/", "name": "li-yi"}}
    for k in (1, 2):
        store_from(MOODLE, {"actor": foreign, "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
                            "object": {"objectType": "Activity", "id": f"http://moodle.example.org/mod/{k}"},
                            "context": {"registration": str(uuid.uuid4()),
                                        "contextActivities": {"grouping": [{"id": ENTRY}]}},
                            "result": {"duration": "PT45M"}})
    assert status_of(ap1, "entry_training").status != "done"
    assert study_time.seconds_of_user(a1) == 0
    link(a1, [learner_key({"account": {"homePage": "https://moodle.school.example", "name": "li-yi"}})],
         source="admin")
    db.session.commit()  # identity_linked: the apprenticeship reduces that account's statements
    assert study_time.seconds_of_user(a1) == 90 * 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LearningFact)
                             .where(LearningFact.user_id == a1.id, LearningFact.iri == ENTRY)) == 2
    assert status_of(ap1, "entry_training").status == "done"
