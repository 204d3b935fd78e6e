from __future__ import annotations

from flask import request

from engine.definitions import DefinitionInvalid, list_definitions
from engine.errors import InvalidData
from services.platform import design
from web.api import api, documented
from web.api.review_schemas import BpmnUploadForm
from web.auth import api_login_required, current_actor
from web.context import runtime, uow
from web.schemas import DefinitionSchema, DeployedSchema


@api.get("/process-definitions")
@api_login_required
@documented("已部署流程（每个流程的最新版本）", response=DefinitionSchema, many=True)
def get_definitions():
    return {"items": DefinitionSchema(many=True).dump(list_definitions(uow().session))}


@api.post("/process-definitions")
@api_login_required
@documented("上传并部署 BPMN 文件（仅流程设计人员）", form=BpmnUploadForm, response=DeployedSchema, many=True,
            status=201)
def deploy_definition():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData("请上传 BPMN 文件（字段 file）", fields={"file": ["请上传 BPMN 文件"]})
    work = uow()
    outcome = design.upload(work.session, runtime().deployer, current_actor(), [(upload.read(), upload.filename)],
                            deploy=True)
    if outcome.problems:
        raise DefinitionInvalid(outcome.problems)  # the unit of work is rolled back, never committed
    work.commit()
    results = outcome.deployed
    return {"items": DeployedSchema(many=True).dump(
        {"key": r.key, "version": r.version, "created": r.created, "id": r.definition_id} for r in results)}, 201
