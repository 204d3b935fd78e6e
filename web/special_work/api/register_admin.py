"""属地特殊工种管理 (seed 000, 5.1–5.4) and the provincial spot check of declarations (4.5)."""
from __future__ import annotations

from flask import request

from services.special_work import early_retirement, person_view, register, spot_checks
from web.api import api, documented
from web.api.review_schemas import (
    EarlyRetirementRequest,
    EarlyRetirementSchema,
    PersonSchema,
    SavePersonRequest,
    SpotCheckRequest,
    SpotCheckSchema,
    UnfiledPersonRequest,
    WorkHistorySpotCheckRequest,
)
from web.auth import api_login_required, current_actor
from web.context import runtime, uow


def _person_body(session, id_number: str) -> dict:
    record = person_view.person_record(session, current_actor(), id_number)
    person = record.person
    return PersonSchema().dump({
        "id_number": person.id_number, "name": person.name, "gender": person.gender,
        "birth_date": person.birth_date, "region_code": person.region_code,
        "work_histories": record.work_histories, "early_retirements": record.early_retirements,
        "audit": record.audit})


def _histories(body: dict) -> list[register.HistoryInput]:
    return [register.HistoryInput(**h) for h in body["work_histories"]]


def _details(body: dict) -> register.PersonDetails | None:
    return register.PersonDetails(**body["person"]) if body.get("person") else None


@api.get("/register/persons/<id_number>")
@api_login_required
@documented("按证件号码查询库中人员：从业经历、提前退休登记历史", response=PersonSchema)
def get_register_person(id_number: str):
    return _person_body(uow().session, id_number)


@api.post("/register/persons")
@api_login_required
@documented("特殊工种人员信息管理：为库中人员新增从业经历；系统中没有此人时同时新增人员（需 person）",
            request=SavePersonRequest, response=PersonSchema, status=201)
def save_register_person():
    body = SavePersonRequest().load(request.get_json(silent=True) or {})
    work = uow()
    person = register.save_person_histories(work.session, current_actor(), body["id_number"], _histories(body),
                                            _details(body))
    work.commit()
    return _person_body(work.session, person.id_number), 201


@api.post("/register/unfiled-persons")
@api_login_required
@documented("未备案人员信息新增（已存在的人员不在此处理）", request=UnfiledPersonRequest, response=PersonSchema,
            status=201)
def add_unfiled_person():
    body = UnfiledPersonRequest().load(request.get_json(silent=True) or {})
    work = uow()
    person = register.add_unfiled_person(work.session, current_actor(), body["id_number"], _details(body),
                                         _histories(body))
    work.commit()
    return _person_body(work.session, person.id_number), 201


@api.post("/spot-checks/work-histories")
@api_login_required
@documented("企业申报省级抽查：将一条或几条从业经历置为有效（pass）或无效（fail，列为疑点数据）",
            request=WorkHistorySpotCheckRequest, response=SpotCheckSchema, many=True, status=201)
def spot_check_work_histories():
    body = WorkHistorySpotCheckRequest().load(request.get_json(silent=True) or {})
    work = uow()
    checks = spot_checks.spot_check_work_histories(work.session, current_actor(), body["history_ids"],
                                                   body["result"], body["note"])
    work.commit()
    return {"items": SpotCheckSchema(many=True).dump(checks)}, 201


@api.post("/early-retirements")
@api_login_required
@documented("特殊工种提前退休信息登记（核验条件后交审批）", request=EarlyRetirementRequest,
            response=EarlyRetirementSchema, status=201)
def register_early_retirement():
    body = EarlyRetirementRequest().load(request.get_json(silent=True) or {})
    work = uow()
    registration = early_retirement.register(work, runtime().engine, current_actor(), body["id_number"],
                                             body["nature"], body["retirement_date"], body["note"])
    work.commit()
    return EarlyRetirementSchema().dump(registration), 201


@api.get("/early-retirements/<int:registration_id>")
@api_login_required
@documented("提前退休登记详情", response=EarlyRetirementSchema)
def get_early_retirement(registration_id: int):
    registration = early_retirement.get_visible_registration(uow().session, current_actor(), registration_id)
    return EarlyRetirementSchema().dump(registration)


@api.post("/early-retirements/<int:registration_id>/spot-check")
@api_login_required
@documented("提前退休审批抽查：通过或不通过（不通过列为疑点数据）", request=SpotCheckRequest,
            response=EarlyRetirementSchema)
def spot_check_early_retirement(registration_id: int):
    body = SpotCheckRequest().load(request.get_json(silent=True) or {})
    work = uow()
    registration = early_retirement.spot_check(work.session, current_actor(), registration_id, body["result"],
                                               body["note"])
    work.commit()
    return EarlyRetirementSchema().dump(registration)
