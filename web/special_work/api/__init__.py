"""JSON endpoints of the special-work-type system (under /api, in /api/openapi.json)."""
from __future__ import annotations

from web.special_work.api import (  # noqa: F401  (routes register themselves on the blueprint)
    catalogue_admin,
    declaration_files,
    declarations,
    directory,
    enterprise_admin,
    register_admin,
)
