"""Reference data: the work-type catalogue and the enterprises a user may see."""
from __future__ import annotations

from flask import request

from services.special_work.catalogue import list_work_types
from services.special_work.enterprises import visible_enterprises
from web.api import api, documented
from web.auth import api_login_required, current_actor
from web.context import uow
from web.schemas import EnterpriseSchema, WorkTypeSchema


@api.get("/catalogue/work-types")
@api_login_required
@documented("特殊工种名录", response=WorkTypeSchema, many=True)
def get_work_types():
    rows = list_work_types(uow().session, industry=request.args.get("industry"))
    return {"items": WorkTypeSchema(many=True).dump(rows)}


@api.get("/enterprises")
@api_login_required
@documented("可见的单位（单位用户只看到本单位）", response=EnterpriseSchema, many=True)
def get_enterprises():
    return {"items": EnterpriseSchema(many=True).dump(visible_enterprises(uow().session, current_actor()))}
