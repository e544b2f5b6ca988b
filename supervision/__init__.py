"""The supervision plugin: the labour authority's and training institutions' side of subsidised
training -- public versioned catalogues, class approval, training performance (pass and
employment rates), subsidy claims screened against fraud, exports and the audit log.

It imports only ``lms``: what learners did comes from the learning-record facts
(:mod:`lms.records`), and what courses and competency hold (courses, classes, completions,
certifications) from the core's report-source registry.
"""
