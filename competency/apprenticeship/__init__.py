"""Enterprise new apprenticeship (企业新型学徒制): programmes, cohorts, plans, milestones, mentors, reports.

Part of the competency plugin; :func:`init_app` is called from ``competency.plugin``.
"""


def init_app(app) -> None:
    from competency.apprenticeship.setup import init_app as _init

    _init(app)
