from __future__ import annotations

from flask import request

from services import declarations
from web.api import api, documented
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import DeclarationBatchSchema, DeclarationCreated, DeclarationRequest


@api.post("/declarations")
@api_login_required
@documented("提交特殊工种申报批次（首次 / 年度）", request=DeclarationRequest, response=DeclarationCreated,
            status=201)
def submit_declaration():
    body = DeclarationRequest().load(request.get_json(silent=True) or {})
    persons = [declarations.PersonInput(**person) for person in body["persons"]]
    work = uow()
    batch = declarations.submit_declaration(work, runtime().engine, current_actor(), body["enterprise_code"],
                                            body["kind"], persons)
    work.commit()
    return DeclarationCreated().dump(batch), 201


@api.get("/declarations/<int:batch_id>")
@api_login_required
@documented("申报批次详情：人员、从业经历、校验结果", response=DeclarationBatchSchema)
def get_declaration(batch_id: int):
    session = uow().session
    batch = declarations.get_visible_batch(session, runtime().engine, current_actor(), batch_id)
    checks = declarations.batch_checks(session, batch.id)
    body = DeclarationBatchSchema().dump(batch)
    for person in body["persons"]:
        person["problems"] = [c.message for c in checks.get(person["id"], [])]
    return body
