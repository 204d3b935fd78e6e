from __future__ import annotations

from flask import request
from marshmallow import fields

from engine.fields import Integer
from services.special_work import declarations
from web.api import api, documented
from web.api.paging import MAX_PAGE, QueryString, query_args
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import DeclarationBatchSchema, DeclarationCreated, DeclarationRequest, DeclaredPersonSchema

PERSONS_PER_PAGE, PERSONS_PER_PAGE_MAX = 500, 1000


class PersonsQuery(QueryString):
    page = Integer(load_default=1, maximum=MAX_PAGE)
    per_page = Integer(load_default=PERSONS_PER_PAGE, maximum=PERSONS_PER_PAGE_MAX)
    findings = fields.String(load_default="", metadata={"description": "1：只列校验未通过的人员"})
    q = fields.String(load_default="", metadata={"description": "姓名或公民身份号码"})


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
@documented("申报批次详情：人员（分页：page、per_page ≤ 1000，默认 500；findings=1 只列校验未通过；"
            "q=姓名或公民身份号码）、从业经历、校验结果", response=DeclarationBatchSchema, query=PersonsQuery)
def get_declaration(batch_id: int):
    args = query_args(PersonsQuery)
    session = uow().session
    batch = declarations.get_visible_batch(session, runtime().engine, current_actor(), batch_id)
    per_page = args["per_page"]
    shown = declarations.person_page(session, batch.id, page=args["page"], per_page=per_page,
                                     only_findings=args["findings"] == "1", search=args["q"])
    body = DeclarationBatchSchema(exclude=("persons",)).dump(batch)
    hidden = () if declarations.reads_staff_names(current_actor()) else ("decided_by",)
    body["persons"] = DeclaredPersonSchema(many=True, exclude=hidden).dump(shown.persons)
    for person in body["persons"]:
        person["problems"] = [c.message for c in shown.checks.get(person["id"], [])]
    return body | {"persons_total": shown.total, "persons_page": shown.page, "persons_per_page": per_page}
