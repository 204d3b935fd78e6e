"""The WSGI entry point of the multi-process layout (README "Production layout"):

    gunicorn -c deploy/gunicorn.conf.py web.wsgi:app

Each gunicorn worker process builds its own application, database pool and logging. Background
work belongs to Celery workers and beat there: several web processes would each run the embedded
runner's scans, so this entry point refuses to start without ``BANJIAN_BROKER_URL`` (one process
without a broker is ``banjian serve``).
"""
from __future__ import annotations

from services.bootstrap import bootstrap
from services.platform.telemetry import configure_logging
from web import create_app

configure_logging()
_runtime = bootstrap()
if not _runtime.settings.broker_url:
    raise RuntimeError("the multi-process layout runs background work on Celery: set BANJIAN_BROKER_URL "
                       "(e.g. redis://127.0.0.1:6379/0), or serve one process with `banjian serve`")
app = create_app(_runtime)
