"""The demo seeder: both frameworks, an assessor, and evidence from an "external" platform."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db


def test_demo_seeder_imports_frameworks_and_gives_the_learner_evidence(app, create_user, create_org):
    from competency.demo import seed
    from competency.models import AssessorAuthorisation, Evidence, Framework

    inst = create_org("Demo institution", "institution")
    users = {"institution@demo.lms": create_user("institution_admin", inst, login="institution@demo.lms"),
             "teacher@demo.lms": create_user("teacher", inst, login="teacher@demo.lms"),
             "learner@demo.lms": create_user("learner", inst, login="learner@demo.lms")}
    lines = seed(app, {"users": users, "organisations": {"school": inst}})
    db.session.commit()
    assert lines and db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssessorAuthorisation)) == 2
    learner = users["learner@demo.lms"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence).where(Evidence.user_id == learner.id)) >= 5
    # seeding twice does not duplicate the frameworks
    from competency.demo import import_demo_frameworks

    import_demo_frameworks()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == 2
