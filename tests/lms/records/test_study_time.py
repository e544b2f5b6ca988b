"""Study time by one rule (lms.records.study_time): the rule's properties, and one statement stream
giving the same figure wherever it is shown."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.records.study_time import seconds_from_rows

ZONE = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.timezone.utc)
LIMITS = dict(max_statement=4 * 3600.0, max_daily=12 * 3600.0, zone=ZONE)

rows_strategy = st.lists(st.tuples(
    st.sampled_from([None, "r1", "r2"]),
    st.sampled_from([None, "launch:1", "cmi5:a"]),
    st.sampled_from(["increment", "total", "session"]),
    st.floats(min_value=0, max_value=30 * 3600, allow_nan=False),
    st.integers(min_value=0, max_value=5 * 86400).map(lambda s: T0 + dt.timedelta(seconds=s)),
), max_size=30)


@settings(max_examples=200, deadline=None)
@given(rows_strategy)
def test_study_time_never_exceeds_the_capped_sum_of_its_statements(rows):
    total = seconds_from_rows(rows, **LIMITS)
    assert 0 <= total <= sum(min(r[3], LIMITS["max_statement"]) for r in rows) + 1e-6


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.randoms())
def test_study_time_does_not_depend_on_the_order_statements_arrive_in(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert abs(seconds_from_rows(rows, **LIMITS) - seconds_from_rows(shuffled, **LIMITS)) < 1e-6


@settings(max_examples=200, deadline=None)
@given(rows_strategy)
def test_no_learner_is_credited_more_than_the_daily_cap_per_day(rows):
    days = {r[4].astimezone(ZONE).date() for r in rows}
    assert seconds_from_rows(rows, **LIMITS) <= len(days) * LIMITS["max_daily"] + 1e-6


def test_a_session_counts_its_longest_duration_once_however_many_statements_repeat_it():
    """20 `terminated` with PT12H in one launched session are one session, capped per statement."""
    rows = [("r1", "launch:7", "session", 12 * 3600.0, T0 + dt.timedelta(seconds=i)) for i in range(20)]
    assert seconds_from_rows(rows, **LIMITS) == LIMITS["max_statement"]


def test_a_cmi5_session_counts_terminated_not_terminated_plus_passed_plus_completed():
    rows = [("r1", "cmi5:s1", "session", 300.0, T0), ("r1", "cmi5:s1", "session", 420.0, T0),
            ("r1", "cmi5:s1", "session", 600.0, T0 + dt.timedelta(minutes=10))]
    assert seconds_from_rows(rows, **LIMITS) == 600.0


def test_a_total_counts_only_what_it_adds_beyond_the_increments_of_its_registration():
    increments = [("r1", None, "increment", 60.0, T0 + dt.timedelta(minutes=i)) for i in range(5)]
    assert seconds_from_rows(increments + [("r1", None, "total", 200.0, T0)], **LIMITS) == 300.0
    assert seconds_from_rows(increments + [("r1", None, "total", 500.0, T0)], **LIMITS) == 500.0
    # a total in another registration is another course
    assert seconds_from_rows(increments + [("r2", None, "total", 200.0, T0)], **LIMITS) == 500.0


def test_days_are_calendar_days_in_the_configured_time_zone():
    # 23:30 and 00:30 Beijing time are two days even though both are the same UTC day.
    late = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.timezone.utc)
    rows = [(None, None, "increment", 10 * 3600.0, late), (None, None, "increment", 10 * 3600.0,
                                                                late + dt.timedelta(hours=1))]
    limits = dict(LIMITS, max_statement=10 * 3600.0)
    assert seconds_from_rows(rows, **limits) == 20 * 3600.0
    assert seconds_from_rows([(None, None, "increment", 10 * 3600.0, late)] * 2, **limits) == 12 * 3600.0


# --- through the LRS and the platform -----------------------------------------------------------


def _post(client, key, secret, statements, version="1.0.3"):
    import base64

    auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    return client.post("/xapi/statements", json=statements,
                       headers={"Authorization": auth, "X-Experience-API-Version": version})


def _stmt(actor, verb, obj, *, duration=None, registration=None, extensions=None, **result):
    out = {"id": str(uuid.uuid4()), "actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/" + verb},
           "object": {"id": obj, "objectType": "Activity"}, "timestamp": "2026-12-01T02:00:00Z"}
    if duration or result:
        out["result"] = dict(result, **({"duration": duration} if duration else {}))
    context = {}
    if registration:
        context["registration"] = registration
    if extensions:
        context["extensions"] = extensions
    if context:
        out["context"] = context
    return out


def test_one_stream_gives_the_same_hours_on_the_course_page_in_the_api_and_in_the_record(
        app, client, auth, create_user, create_org, api_token):
    """Platform video reports and a quiz, a cmi5 session and an outside course completion: the course
    page's cached figure, the delivery API and lms.records.study_time agree, and each is the rule's sum."""
    from courses.delivery import operations as ops
    from lms.core.db import db
    from lms.records.study_time import seconds_of_user
    from lms.xapi.credentials import create_client
    from tests.courses.delivery_support import build_world, correct_form

    w = build_world(create_user, create_org, kinds=("video", "quiz"))
    video, quiz = w.lesson("video"), w.lesson("quiz")
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)
    ops.report_media(w.learner, video.id, position=0, watched=0, duration=100, event="start", now=t0)
    for i in range(1, 11):
        ops.report_media(w.learner, video.id, position=10 * i, watched=10, duration=100,
                         now=t0 + dt.timedelta(seconds=10 * i))
    attempt = ops.start_attempt(w.learner, quiz.id, now=t0 + dt.timedelta(minutes=2))
    ops.submit_attempt(w.learner, attempt.id, correct_form(w.questions), now=t0 + dt.timedelta(minutes=7))
    db.session.commit()
    enrolment = db.session.get(type(w.enrolment), w.enrolment.id)
    assert enrolment.completed_at is not None  # the platform's course "completed" carries a total: not counted again
    # what the platform measured: the seconds played and the attempt's five minutes
    platform_seconds = sum(p.seconds_spent for p in ops.progress_map(enrolment).values())
    assert 380 <= platform_seconds <= 400
    assert enrolment.seconds_credited == platform_seconds
    assert seconds_of_user(w.learner, registration=enrolment.registration) == platform_seconds

    # A cmi5 session elsewhere (terminated carries the session, completed the time so far) and an
    # outside system's course completion with a total: counted by the same rule, once.
    _c, key, secret = create_client("Moodle 某校", ["statements/write"])
    db.session.commit()
    actor = {"mbox": "mailto:" + w.learner.email.upper()}  # any case: one learner key
    registration = str(uuid.uuid4())
    session = {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "s-1"}
    stream = [_stmt(actor, "completed", "https://au.example/1", duration="PT20M", registration=registration,
                    extensions=session),
              _stmt(actor, "terminated", "https://au.example/1", duration="PT25M", registration=registration,
                    extensions=session),
              _stmt(actor, "completed", "https://moodle.example/course/9", duration="PT1H",
                    registration=str(uuid.uuid4()))]
    assert _post(client, key, secret, stream).status_code == 200
    total = seconds_of_user(w.learner)
    assert total == platform_seconds + 25 * 60 + 3600
    # the course page and the API keep showing the course's own registration
    resp = client.get(f"/api/v1/courses/my/enrolments/{enrolment.id}", headers=api_token(w.learner))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["study_seconds"] == platform_seconds


def test_a_voided_statement_no_longer_counts(app, client, create_user):
    from lms.core.db import db
    from lms.records.study_time import seconds_of_user
    from lms.xapi.credentials import create_client

    user = create_user(login="worker@factory.example")
    _c, key, secret = create_client("HR system", ["statements/write"])
    db.session.commit()
    actor = {"mbox": "mailto:worker@factory.example"}
    counted = _stmt(actor, "terminated", "https://x.example/a", duration="PT30M")
    assert _post(client, key, secret, [counted]).status_code == 200
    assert seconds_of_user(user) == 1800
    void = {"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": counted["id"]}}
    assert _post(client, key, secret, [void]).status_code == 200
    assert seconds_of_user(user) == 0


def test_sources_the_policy_distrusts_count_no_study_time(app, create_user):
    from lms.core.db import db
    from lms.records import trust
    from lms.records.provenance import SYSTEM, Source
    from lms.records.study_time import seconds_of_user
    from lms.xapi.storage import store_statements

    user = create_user(login="w2@factory.example")
    actor = {"mbox": "mailto:w2@factory.example"}
    authority = {"objectType": "Agent", "account": {"homePage": "https://x.example", "name": "sys"}}
    store_statements([_stmt(actor, "terminated", "https://x.example/a", duration="PT1H")], version="1.0.3",
                     authority=authority, source=Source(SYSTEM, client_id=None, label="X", trust_level="untrusted"))
    store_statements([_stmt(actor, "terminated", "https://x.example/b", duration="PT10M")], version="1.0.3",
                     authority=authority, source=Source(SYSTEM, client_id=None, label="Y", trust_level="standard"))
    db.session.commit()
    assert seconds_of_user(user) == 600
    trust.update_policy(trust={"system:standard": {"study_time": False}})
    db.session.commit()
    assert seconds_of_user(user) == 0
