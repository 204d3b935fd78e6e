"""hr_filing (业务备案, seed 003 §2.4–2.6): 受理 as for a licence, then 资料核查 — never by the 受理人 —
passes it (备案编号 drawn, filing recorded, 业务备案凭证 printed with that number) or fails it."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.errors import Conflict
from engine.models import ProcessInstance
from services.hr_market.models import HrFiling
from services.platform.documents import CaseDocument
from tests.processes.hr_helpers import act, apply, open_task, register_organisation


def filing_case(runtime) -> ProcessInstance:
    register_organisation(runtime)
    return apply(runtime, process="hr_filing")


def printed(runtime, instance_id: int) -> dict[str, tuple[str, str]]:
    with runtime.unit_of_work() as uow:
        return {d.kind: (d.number, "".join(p.extract_text() for p in PdfReader(io.BytesIO(d.content)).pages))
                for d in uow.session.scalars(select(CaseDocument).where(CaseDocument.instance_id == instance_id))}


def test_a_passed_check_records_the_filing_with_its_number_and_voucher(runtime):
    case = filing_case(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    check = open_task(runtime, case.id)
    assert (check.name, check.lane) == ("check", "approver")
    act(runtime, case.id, "approver", {"decision": "approve", "conclusion": "材料齐全"})
    with runtime.unit_of_work() as uow:
        filing = uow.session.scalars(select(HrFiling)).one()
        assert uow.session.get(ProcessInstance, case.id).case_status == "closed_approved"
    assert filing.filing_number.startswith("110101B") and filing.filing_number.endswith("0001")
    assert filing.items == ["supply_demand_info", "training"]
    number, text = printed(runtime, case.id)["approval_decision"]
    assert number == filing.filing_number
    assert "人力资源服务业务备案凭证" in text and "人力资源供求信息的收集和发布" in text
    with pytest.raises(Conflict, match="已办理业务备案"):
        apply(runtime, process="hr_filing")


def test_a_failed_check_ends_the_filing_with_the_reason(runtime):
    case = filing_case(runtime)
    act(runtime, case.id, "acceptor", {"decision": "approve"})
    act(runtime, case.id, "approver", {"decision": "reject", "conclusion": "营业执照经营范围不含人力资源服务"})
    with runtime.unit_of_work() as uow:
        assert uow.session.get(ProcessInstance, case.id).case_status == "closed_rejected"
        assert uow.session.scalars(select(HrFiling)).all() == []
    assert "营业执照经营范围不含人力资源服务" in printed(runtime, case.id)["denial_decision"][1]
    assert apply(runtime, process="hr_filing").id != case.id  # a new filing may follow


def test_one_open_filing_at_a_time_and_a_licence_application_beside_it(runtime):
    case = filing_case(runtime)
    with pytest.raises(Conflict, match="已有一项正在办理的业务备案申请"):
        apply(runtime, process="hr_filing")
    assert apply(runtime).process_key == "hr_licence"  # another kind of application is independent
    act(runtime, case.id, "acceptor", {"decision": "correct", "correction_items": "补充场所证明"})
    assert open_task(runtime, case.id).name == "resubmit"
