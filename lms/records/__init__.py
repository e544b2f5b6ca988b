"""The learning-record layer: the only place that turns stored xAPI statements into learning facts.

Courses, competency, apprenticeship and reports read what a learner did from here, never by
parsing statements themselves:

* :mod:`lms.records.identity`   -- one normalised learner key per xAPI agent (``learner_key``);
  actor -> user through platform accounts and the verified / linked identities table; identity
  links (CSV, one-time codes, administrators), unmatched learners.
* :mod:`lms.records.provenance` -- where a statement came from (:class:`Source`: the platform,
  launched content, a registered external system with a trust level, a learner's device).
* :mod:`lms.records.trust`      -- the trust policy (data): which sources may produce which facts.
* :mod:`lms.records.facts`      -- one :class:`~lms.records.models.StatementFact` row per stored
  statement, written in the statement's own transaction: learner key, verb, object, registration,
  session, normalised score, success, completion, duration, provenance.
* :mod:`lms.records.study_time` -- study time (学时) by one documented rule.
* :mod:`lms.records.scores`     -- score normalisation (scaled from raw/min/max).

The vocabulary (verb and activity-type IRIs) is :mod:`lms.xapi.vocab`; the skill ladder is
:mod:`lms.records.ladder`.
"""
