"""The human-resources market system's own screens (seed 003), where the generic ones do not serve:
the organisation register (机构管理). They register on the platform's ``pages`` blueprint."""
from __future__ import annotations

from web.hr_market import cancellations, history, job_fairs, pages  # noqa: F401  (routes register themselves on the blueprint)
