"""属地企业管理 (seed 000, 3.1): create and edit enterprises, portal password and access."""
from __future__ import annotations

from flask import request

from services.special_work import enterprises
from web.api import api, documented
from web.api.review_schemas import (
    AuditSchema,
    EnterpriseCreate,
    EnterpriseDetailSchema,
    EnterpriseInput,
    PortalAccessRequest,
    PortalPasswordSchema,
)
from web.auth import api_login_required, current_actor
from web.context import uow
from web.schemas import EnterpriseSchema


def _input(body: dict) -> enterprises.EnterpriseInput:
    return enterprises.EnterpriseInput(**{k: body[k] for k in enterprises.REQUIRED})


@api.post("/enterprises")
@api_login_required
@documented("新增单位（属地经办机构）", request=EnterpriseCreate, response=EnterpriseSchema, status=201)
def create_enterprise():
    body = EnterpriseCreate().load(request.get_json(silent=True) or {})
    work = uow()
    enterprise = enterprises.create_enterprise(work.session, current_actor(), body["code"], _input(body))
    work.commit()
    return EnterpriseSchema().dump(enterprise), 201


@api.get("/enterprises/<code>")
@api_login_required
@documented("单位详情及操作记录", response=EnterpriseDetailSchema)
def get_enterprise(code: str):
    session = uow().session
    enterprise = enterprises.get_visible_enterprise(session, current_actor(), code)
    body = EnterpriseSchema().dump(enterprise)
    body["audit"] = AuditSchema(many=True).dump(enterprises.audit_of(session, current_actor(), enterprise))
    return body


@api.put("/enterprises/<code>")
@api_login_required
@documented("修改单位信息", request=EnterpriseInput, response=EnterpriseSchema)
def update_enterprise(code: str):
    body = EnterpriseInput().load(request.get_json(silent=True) or {})
    work = uow()
    enterprise = enterprises.update_enterprise(work.session, current_actor(), code, _input(body))
    work.commit()
    return EnterpriseSchema().dump(enterprise)


@api.post("/enterprises/<code>/portal-password")
@api_login_required
@documented("重置网厅（报送系统）密码，新密码只返回这一次", response=PortalPasswordSchema)
def reset_portal_password(code: str):
    work = uow()
    credentials = enterprises.reset_portal_password(work.session, current_actor(), code)
    work.commit()
    return PortalPasswordSchema().dump(credentials)


@api.put("/enterprises/<code>/portal-access")
@api_login_required
@documented("开启或关闭网厅（报送系统）权限", request=PortalAccessRequest, response=EnterpriseSchema)
def set_portal_access(code: str):
    body = PortalAccessRequest().load(request.get_json(silent=True) or {})
    work = uow()
    enterprise = enterprises.set_portal_access(work.session, current_actor(), code, body["enabled"])
    work.commit()
    return EnterpriseSchema().dump(enterprise)
