"""The courses plugin's rules: authoring, enrolment, packages. They flush; the caller commits."""
from courses.operations.errors import CourseError  # noqa: F401
