"""The statement browser finds a learner's statements through the learning-record identities:
verified and linked ones count, an unverified address and LIKE wildcards do not."""
from __future__ import annotations

import re

from lms.core.db import db
from lms.xapi import recorder


def _statement(actor, iri="http://lms.test/courses/1"):
    return {"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": iri, "objectType": "Activity"}}


def _listed(html: str) -> set[str]:
    return set(re.findall(r'/admin/xapi/statements/([0-9a-f-]{36})', html))


def test_teacher_sees_linked_and_verified_identities_of_members_only(client, auth, create_user, create_org):
    from lms.records.identity import link

    school = create_org("School", "institution")
    teacher = create_user("teacher", school)
    verified = create_user("learner", school, login="alice@school.example", real_name="Alice")
    squatter = create_user("learner", school, login="carol@elsewhere.example", verified=False, real_name="Carol")
    link(verified, ["account:https://moodle.school.example|17"], source="admin")
    db.session.commit()
    by_mail = recorder.record(_statement({"mbox": "mailto:ALICE@school.example"}))
    by_moodle = recorder.record(_statement({"account": {"homePage": "https://moodle.school.example/", "name": "17"}}))
    unclaimed = recorder.record(_statement({"mbox": "mailto:carol@elsewhere.example"}))
    db.session.commit()
    auth.login(teacher)
    html = client.get("/admin/xapi/statements").get_data(as_text=True)
    assert {by_mail, by_moodle} <= _listed(html)
    assert unclaimed not in _listed(html)
    assert squatter.id  # exists, but its address was never verified
    # A search with LIKE wildcards matches literally, not everyone.
    assert _listed(client.get("/admin/xapi/statements?learner=%25%25%25").get_data(as_text=True)) == set()
    assert {by_mail, by_moodle} <= _listed(client.get("/admin/xapi/statements?learner=Alice").get_data(as_text=True))
