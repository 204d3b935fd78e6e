"""部级特殊工种名录维护 (seed 000, 6.1): entries and the early-retirement rule of each nature."""
from __future__ import annotations

from flask import request

from services.special_work import catalogue
from web.api import api, documented
from web.api.review_schemas import (
    NatureRuleInput,
    NatureSchema,
    WorkTypeActiveRequest,
    WorkTypeCreate,
    WorkTypeInput,
)
from web.auth import api_login_required, current_actor
from web.context import uow
from web.schemas import WorkTypeSchema


@api.post("/catalogue/work-types")
@api_login_required
@documented("新增名录条目（部级名录管理人员）", request=WorkTypeCreate, response=WorkTypeSchema, status=201)
def add_work_type():
    body = WorkTypeCreate().load(request.get_json(silent=True) or {})
    work = uow()
    entry = catalogue.add_work_type(work.session, current_actor(), body["code"], body["name"], body["industry"],
                                    body["nature"])
    work.commit()
    return WorkTypeSchema().dump(entry), 201


@api.put("/catalogue/work-types/<code>")
@api_login_required
@documented("修改名录条目", request=WorkTypeInput, response=WorkTypeSchema)
def update_work_type(code: str):
    body = WorkTypeInput().load(request.get_json(silent=True) or {})
    work = uow()
    entry = catalogue.update_work_type(work.session, current_actor(), code, body["name"], body["industry"],
                                       body["nature"])
    work.commit()
    return WorkTypeSchema().dump(entry)


@api.delete("/catalogue/work-types/<code>")
@api_login_required
@documented("删除未被使用的名录条目（已使用的只能停用）", status=204)
def delete_work_type(code: str):
    work = uow()
    catalogue.delete_work_type(work.session, current_actor(), code)
    work.commit()
    return "", 204


@api.put("/catalogue/work-types/<code>/active")
@api_login_required
@documented("停用（active=false）或重新启用名录条目", request=WorkTypeActiveRequest, response=WorkTypeSchema)
def set_work_type_active(code: str):
    body = WorkTypeActiveRequest().load(request.get_json(silent=True) or {})
    work = uow()
    entry = catalogue.set_work_type_active(work.session, current_actor(), code, body["active"])
    work.commit()
    return WorkTypeSchema().dump(entry)


@api.get("/catalogue/natures")
@api_login_required
@documented("特殊工种性质及其提前退休条件", response=NatureSchema, many=True)
def get_natures():
    return {"items": NatureSchema(many=True).dump(catalogue.natures(uow().session).values())}


@api.put("/catalogue/natures/<code>")
@api_login_required
@documented("修改特殊工种性质的提前退休条件（累计年限、最低年龄）", request=NatureRuleInput, response=NatureSchema)
def update_nature_rule(code: str):
    body = NatureRuleInput().load(request.get_json(silent=True) or {})
    work = uow()
    nature = catalogue.update_nature_rule(work.session, current_actor(), code, body["required_years"],
                                          body["min_age_male"], body["min_age_female"])
    work.commit()
    return NatureSchema().dump(nature)
