from __future__ import annotations

from flask import request

from services import declarations
from web.api import api, documented
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import DeclarationBatchSchema, DeclarationCreated, DeclarationRequest, DeclaredPersonSchema

PERSONS_PER_PAGE, PERSONS_PER_PAGE_MAX = 500, 1000


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
            "q=姓名或公民身份号码）、从业经历、校验结果", response=DeclarationBatchSchema)
def get_declaration(batch_id: int):
    session = uow().session
    batch = declarations.get_visible_batch(session, runtime().engine, current_actor(), batch_id)
    per_page = min(PERSONS_PER_PAGE_MAX, max(1, request.args.get("per_page", PERSONS_PER_PAGE, type=int)))
    shown = declarations.person_page(session, batch.id, page=request.args.get("page", 1, type=int), per_page=per_page,
                                     only_findings=request.args.get("findings") == "1",
                                     search=request.args.get("q", ""))
    body = DeclarationBatchSchema(exclude=("persons",)).dump(batch)
    hidden = () if declarations.reads_staff_names(current_actor()) else ("decided_by",)
    body["persons"] = DeclaredPersonSchema(many=True, exclude=hidden).dump(shown.persons)
    for person in body["persons"]:
        person["problems"] = [c.message for c in shown.checks.get(person["id"], [])]
    return body | {"persons_total": shown.total, "persons_page": shown.page, "persons_per_page": per_page}
