"""Courses plugin: authoring, catalogue, enrolment, delivery, quizzes, progress, xAPI emission."""
