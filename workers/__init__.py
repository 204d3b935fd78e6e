"""Celery workers and beat: ``celery -A workers worker`` and ``celery -A workers beat``.

Only this package imports Celery. Its tasks are thin: they take ids, open their own units of work
through the composition root and call services/ and engine/ (see ``workers.tasks``).
"""
from workers.app import app

__all__ = ["app"]
