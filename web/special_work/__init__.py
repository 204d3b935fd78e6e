"""The special-work-type system's own screens and API endpoints (seed 000), where the generic ones
do not serve: the applicant portal, the register, spot checks, enterprises, the catalogue and the
declaration endpoints. They register on the platform's ``pages`` and ``api`` blueprints;
``web.create_app`` imports ``web.<module name>`` for every process module the runtime lists."""
from __future__ import annotations

from web.special_work import api, pages  # noqa: F401  (routes register themselves on the blueprints)
