"""The Django project: settings, URLs, WSGI entry point and the Celery app."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
