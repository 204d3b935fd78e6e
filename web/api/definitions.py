from __future__ import annotations

from flask import request

from engine.definitions import list_definitions
from engine.errors import Forbidden, InvalidData
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
    actor = current_actor()
    if not actor.has_role("designer"):
        raise Forbidden("只有流程设计人员可以部署流程")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData("请上传 BPMN 文件（字段 file）", fields={"file": ["请上传 BPMN 文件"]})
    work = uow()
    results = runtime().deployer.deploy(work.session, [(upload.read(), upload.filename)], actor.username)
    work.commit()
    return {"items": DeployedSchema(many=True).dump(
        {"key": r.key, "version": r.version, "created": r.created, "id": r.definition_id} for r in results)}, 201
