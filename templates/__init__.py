"""Shared Jinja templates, shipped in the wheel as the ``lms_templates`` package."""
