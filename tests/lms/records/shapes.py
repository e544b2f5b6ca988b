"""Statements shaped as the foreign systems send them, written from their documentation.

* Moodle ``logstore_xapi`` (github.com/xAPI-vle/moodle-logstore_xapi): the actor is an ``account``
  whose ``homePage`` is the Moodle site's address (``$CFG->wwwroot``) and whose ``name`` is the
  numeric Moodle user id; with the plugin's "send mbox" setting it is the user's ``mbox`` instead.
  Objects are module URLs (``/mod/<module>/view.php?id=<cmid>``), context carries the Moodle
  course as a grouping and the ``https://moodle.org`` platform.
* Open edX ``event-routing-backends`` (docs.openedx.org, "xAPI" in event-routing-backends): in
  its default mode the actor is an ``account`` with the LMS root URL as ``homePage`` and the
  learner's external anonymous id (a UUID) as ``name``; with ``XAPI_AGENT_IFI_TYPE = "mbox_sha1sum"``
  it is ``mbox_sha1sum`` = SHA-1 of the bare e-mail address (no ``mailto:``).
* cmi5 content launched by another LMS (cmi5 spec, section 9): the actor is the one the launching
  LMS put in the launch URL (usually an ``account`` on that LMS), every statement carries the
  launch ``registration``, the ``sessionid`` context extension and the cmi5 category, and
  ``terminated`` carries the session's duration.
"""
from __future__ import annotations

import hashlib
import uuid

VERBS = "http://adlnet.gov/expapi/verbs/"
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CMI5_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"


def moodle_statement(site: str, user_id: int, *, verb="completed", cmid=7, duration=None, mbox=None) -> dict:
    actor = {"objectType": "Agent", "name": "Zhang San"}
    if mbox:
        actor["mbox"] = f"mailto:{mbox}"
    else:
        actor["account"] = {"homePage": site, "name": str(user_id)}
    stmt = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": VERBS + verb, "display": {"en": verb}},
        "object": {"objectType": "Activity", "id": f"{site}/mod/page/view.php?id={cmid}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/lesson",
                                  "name": {"en": "Safety rules"}}},
        "timestamp": "2026-11-20T08:00:00+08:00",
        "context": {
            "platform": "Moodle",
            "language": "zh",
            "extensions": {"http://lrs.learninglocker.net/define/extensions/info": {
                "https://moodle.org": "4.3", "https://github.com/xAPI-vle/moodle-logstore_xapi": "v4.7.0",
                "event_name": "\\core\\event\\course_module_completion_updated"}},
            "contextActivities": {
                "grouping": [{"objectType": "Activity", "id": site,
                              "definition": {"type": "http://id.tincanapi.com/activitytype/lms"}},
                             {"objectType": "Activity", "id": f"{site}/course/view.php?id=3",
                              "definition": {"type": "http://id.tincanapi.com/activitytype/lms/course"}}],
                "category": [{"objectType": "Activity", "id": "http://moodle.org",
                              "definition": {"type": "http://id.tincanapi.com/activitytype/source"}}]},
        },
    }
    if duration:
        stmt["result"] = {"completion": True, "duration": duration}
    return stmt


def openedx_statement(lms: str, *, anonymous_id: str | None = None, email: str | None = None,
                      verb="progressed", duration="PT20M") -> dict:
    if email is not None:
        actor = {"objectType": "Agent", "mbox_sha1sum": hashlib.sha1(email.encode()).hexdigest()}
    else:
        actor = {"objectType": "Agent", "account": {"homePage": lms, "name": anonymous_id}}
    return {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": VERBS + verb, "display": {"en": verb}},
        "object": {"objectType": "Activity",
                   "id": f"{lms}/course/course-v1:Org+Weld101+2026_T1",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                                  "name": {"en-US": "Welding 101"}}},
        "result": {"completion": False, "duration": duration,
                   "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 40}},
        "timestamp": "2026-11-21T02:00:00.000Z",
        "context": {
            "registration": str(uuid.uuid4()),
            "contextActivities": {"parent": [{"objectType": "Activity",
                                               "id": f"{lms}/course/course-v1:Org+Weld101+2026_T1",
                                               "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}]},
            "extensions": {"https://w3id.org/xapi/openedx/extension/transformer-version": "event-routing-backends@7.0.1",
                           "https://w3id.org/xapi/openedx/extensions/session-id": "e4858858443cd99828209e294f5b5dba"},
        },
    }


def cmi5_session(lms: str, name: str, *, minutes=30, activity="https://content.example.com/au/welding-1") -> list[dict]:
    """launched .. initialized .. completed .. terminated of one cmi5 session."""
    registration = str(uuid.uuid4())
    session = str(uuid.uuid4())
    actor = {"objectType": "Agent", "account": {"homePage": lms, "name": name}}

    def one(verb, duration=None, **result):
        stmt = {
            "id": str(uuid.uuid4()), "actor": actor,
            "verb": {"id": VERBS + verb, "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": activity,
                       "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"}},
            "timestamp": "2026-11-22T03:00:00Z",
            "context": {"registration": registration,
                        "contextActivities": {"category": [{"id": CMI5_CATEGORY}]},
                        "extensions": {CMI5_SESSION: session}},
        }
        if duration or result:
            stmt["result"] = {**result, **({"duration": duration} if duration else {})}
        return stmt

    return [one("initialized"),
            one("completed", f"PT{minutes - 5}M", completion=True),
            one("terminated", f"PT{minutes}M")]
