"""Web pages of the courses plugin: authoring (``courses_authoring``) and the catalogue with
enrolment (``courses``). Delivery pages live in :mod:`courses.delivery`."""
