"""hr_change (事项变更, seed 003 §2.7–2.8): 准予变更 writes the new particulars into the register and the
licence's items, records each change before/after, keeps the numbers; a change of what the organisation
does not hold, or to the same value, is refused before anything is stored."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.errors import Conflict, InvalidData
from engine.models import ProcessInstance
from services.hr_market.models import HrChangeRecord, HrLicence, HrOrganisation
from services.platform.documents import CaseDocument
from tests.processes.hr_helpers import PDF, act, apply, register_organisation

PROOF = {"change_proof": [("变更登记.pdf", PDF)]}


def change(runtime, **data):
    return apply(runtime, data={"reason": "市场主体变更登记", **data}, uploads=PROOF, process="hr_change")


def licensed(runtime) -> int:
    organisation_id = register_organisation(runtime)
    case = apply(runtime)  # 为用人单位推荐劳动者 and 组织开展招聘会
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve"})
    return organisation_id


def test_an_approved_change_updates_the_register_and_the_licence_and_keeps_the_number(runtime):
    organisation_id = licensed(runtime)
    with runtime.unit_of_work() as uow:
        number = uow.session.scalars(select(HrLicence.licence_number)).one()
    case = change(runtime, change_types=["name", "licence_items"], new_name="北京东城人才集团有限公司",
                  new_licence_items=["recommend_workers", "online_recruitment"])
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "approve", "conclusion": "同意变更"})
    with runtime.unit_of_work() as uow:
        organisation = uow.session.get(HrOrganisation, organisation_id)
        licence = uow.session.scalars(select(HrLicence)).one()
        records = {r.field: (r.before, r.after) for r in uow.session.scalars(select(HrChangeRecord))}
        decision = uow.session.scalars(select(CaseDocument).where(CaseDocument.instance_id == case.id,
                                                                  CaseDocument.kind == "approval_decision")).one()
        text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(decision.content)).pages)
        assert uow.session.get(ProcessInstance, case.id).case_status == "closed_approved"
    assert organisation.name == "北京东城人才集团有限公司"
    assert (licence.licence_number, licence.items) == (number, ["recommend_workers", "online_recruitment"])
    assert records == {
        "name": ("北京东城人才服务有限公司", "北京东城人才集团有限公司"),
        "licence_items": ("为用人单位推荐劳动者、组织开展招聘会", "为用人单位推荐劳动者、开展网络招聘服务")}
    assert "准予变更决定书" in text and "北京东城人才集团有限公司" in text


def test_a_refused_change_leaves_the_register_as_it_was(runtime):
    organisation_id = licensed(runtime)
    case = change(runtime, change_types=["address"], new_address="北京市东城区新路 2 号")
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "reject", "conclusion": "未提供新住所的产权证明"})
    with runtime.unit_of_work() as uow:
        assert uow.session.get(HrOrganisation, organisation_id).address == "北京市东城区示范路 1 号"
        assert uow.session.scalars(select(HrChangeRecord)).all() == []


def test_what_cannot_be_changed_is_refused_before_anything_is_stored(runtime):
    register_organisation(runtime)
    with pytest.raises(Conflict, match="未找到有效的行政许可"):
        change(runtime, change_types=["licence_items"], new_licence_items=["job_fairs"])
    with pytest.raises(Conflict, match="与登记的相同"):
        change(runtime, change_types=["name"], new_name="北京东城人才服务有限公司")
    with pytest.raises(InvalidData) as missing:
        change(runtime, change_types=["name", "legal_representative"], new_name="新名称")
    assert list(missing.value.fields) == ["new_legal_representative"]
    with pytest.raises(InvalidData) as no_proof:
        apply(runtime, data={"reason": "x", "change_types": ["name"], "new_name": "新名称"}, uploads={},
              process="hr_change")
    assert "请上传“变更证明材料（营业执照变更登记等）”" in str(no_proof.value.fields)
    with runtime.unit_of_work() as uow:
        assert uow.session.scalars(select(ProcessInstance)).all() == []
