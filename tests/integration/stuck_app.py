"""The Celery app the job-limit tests start their workers with (``celery -A tests.integration.stuck_app
worker``): the real one (``workers``), except that an import whose workbook carries a part named
``stuck.txt`` never finishes its parse and reports nothing meanwhile — like a parser stuck in C
code, which only Celery's own time limits can stop."""
from __future__ import annotations

import time

from services.special_work import workbooks
from workers import app

_parse = workbooks.parse_declaration


def _parse_or_hang(content: bytes, *args, **kwargs):
    if b"stuck.txt" in content:
        while True:
            time.sleep(0.05)
    return _parse(content, *args, **kwargs)


workbooks.parse_declaration = _parse_or_hang
__all__ = ["app"]
