"""Shared infrastructure of the platform: database, extension points, plugins, Celery, API helpers."""
