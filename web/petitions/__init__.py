"""The petition system's own screens (seed 004), where the generic ones do not serve: the portal of
信访人 (注册, 反映问题, 我反映的问题, 查询评价) and the registrars' 来信登记 and 判重. They register
on the platform's ``pages`` blueprint."""
from __future__ import annotations

from web.petitions import portal, staff  # noqa: F401  (routes register themselves on the blueprint)
