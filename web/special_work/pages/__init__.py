"""Pages of the special-work-type system."""
from __future__ import annotations

from web.special_work.pages import (  # noqa: F401  (routes register themselves on the blueprint)
    attachments,
    catalogue_admin,
    enterprises,
    portal,
    register,
    spot_checks,
)
