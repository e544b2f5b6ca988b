"""Celery worker entry point: ``celery -A lms.worker worker`` (and ``beat``)."""
from lms import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
