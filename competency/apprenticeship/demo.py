"""Demo data: one programme and cohort with the demo learner as apprentice and both demo mentors."""
from __future__ import annotations

import datetime as dt


def seed_demo(app, context) -> list[str]:
    from competency.apprenticeship import operations as ops

    users, orgs = context["users"], context["organisations"]
    admin = users["enterprise@demo.lms"]
    programme, _w = ops.create_programme(admin, title="2026 电工新型学徒班", enterprise=orgs["enterprise"],
                                         school=orgs["school"], occupation_code="6-31-01-03", target_rung=2,
                                         duration_months=12, hours_per_year=600, online_hours_per_year=150)
    start = ops.today_utc() - dt.timedelta(days=45)
    cohort = ops.create_cohort(admin, programme, name="2026 春季班", start_date=start)
    ops.add_apprentice(admin, cohort, user=users["learner@demo.lms"], enterprise_mentor=users["mentor@demo.lms"],
                       school_mentor=users["school-mentor@demo.lms"], contract_start=start,
                       contract_end=start + dt.timedelta(days=3 * 365), agreement_number="XT-2026-001",
                       agreement_signed_on=start, backfill=False)
    return [f"Apprenticeship: programme {programme.title!r}, cohort {cohort.name!r} (learner@demo.lms)"]
