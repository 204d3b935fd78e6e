"""/api/delegations: 委托 — the caller's standing delegations, setting one up, ending one early."""
from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from engine.fields import Date, DateTime, Integer
from services.platform import standing_delegations
from web.api import api, documented
from web.auth import api_login_required, current_actor
from web.context import uow
from web.schemas import StrictSchema


class DelegationSchema(Schema):
    id = Integer()
    delegator = fields.String()
    delegate = fields.String()
    process_keys = fields.List(fields.String())
    starts_on = Date()
    ends_on = Date()
    ended_at = DateTime(allow_none=True)


class DelegationRequest(StrictSchema):
    delegate = fields.String(required=True, validate=validate.Length(min=1, max=100))
    process_keys = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                               validate=validate.Length(max=100), metadata={"description": "空：全部流程"})
    starts_on = Date(required=True)
    ends_on = Date(required=True)


@api.get("/delegations")
@api_login_required
@documented("我的委托（委托给别人的和别人委托给我的）", response=DelegationSchema, many=True)
def list_delegations():
    return {"items": DelegationSchema(many=True).dump(standing_delegations.of(uow().session, current_actor()))}


@api.post("/delegations")
@api_login_required
@documented("设置委托：期限内分配给本人的任务交给受托人", request=DelegationRequest, response=DelegationSchema,
            status=201, envelope=None)
def create_delegation():
    body = DelegationRequest().load(request.get_json(silent=True) or {})
    work = uow()
    delegation = standing_delegations.create(work, current_actor(), body["delegate"], body["process_keys"],
                                             body["starts_on"], body["ends_on"])
    work.commit()
    return DelegationSchema().dump(delegation), 201


@api.post("/delegations/<int:delegation_id>/end")
@api_login_required
@documented("提前结束委托", response=DelegationSchema, many=True)
def end_delegation(delegation_id: int):
    work = uow()
    standing_delegations.end(work, current_actor(), delegation_id)
    work.commit()
    return {"items": DelegationSchema(many=True).dump(standing_delegations.of(work.session, current_actor()))}
