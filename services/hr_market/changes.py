"""事项变更 (003 §2.7–2.8): an organisation asks to change its registered particulars — 机构名称,
法定代表人, 住所, and 其他: 机构类型, 行政许可事项, 业务备案事项 — several at once. 准予变更 writes the new
values into the register (and into the licence's or filing's items) and keeps each change as a record
with its value before and after; the 许可证编号 and 备案编号 stay the same. A change of the licence's
items needs a valid licence, of the filing's items a filing on record (R15). (A certificate printed
before the change still shows the old particulars: reprinting it with the new ones is to come.)
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.case_clock import CST
from engine.db import utcnow
from engine.errors import Conflict
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from services.hr_market import holdings
from services.hr_market.labels import CHANGE_TYPES, FILING_ITEMS, LICENCE_ITEMS, ORGANISATION_KINDS, items_text
from services.hr_market.models import ACTIVE, HrChangeRecord, HrOrganisation

PROCESS = "hr_change"  # processes/hr_market/hr_change.bpmn
TEXT_FIELDS = ("name", "legal_representative", "address", "kind")


def needs_holding(session: Session, organisation: HrOrganisation, data: dict[str, Any]) -> str | None:
    """Why the changes the form asks for cannot be applied for (start check, R15), or None."""
    types = set(data.get("change_types") or [])
    if "licence_items" in types and holdings.active_licence(session, organisation.id) is None:
        return "未找到有效的行政许可，不能申请变更行政许可事项"
    if "filing_items" in types and holdings.active_filing(session, organisation.id) is None:
        return "未找到有效的业务备案，不能申请变更业务备案事项"
    for key in TEXT_FIELDS:
        if key in types and str(data.get(f"new_{key}") or "").strip() == str(getattr(organisation, key)):
            raise Conflict("%(item)s与登记的相同，无需变更" % dict(item=CHANGE_TYPES[key]))
    return None


def before_values(session: Session, organisation: HrOrganisation) -> dict[str, Any]:
    """The particulars as registered, for the case (变更前, shown beside 变更后)."""
    licence = holdings.active_licence(session, organisation.id)
    filing = holdings.active_filing(session, organisation.id)
    return {"before_name": organisation.name, "before_legal_representative": organisation.legal_representative,
            "before_address": organisation.address, "before_kind": ORGANISATION_KINDS.get(organisation.kind, ""),
            "before_licence_items": items_text(licence.items) if licence else "",
            "before_filing_items": items_text(filing.items, FILING_ITEMS) if filing else ""}


def apply_change(session: Session, organisation_id: int, data: dict[str, Any], *, instance_id: int,
                 changed_by: str) -> list[HrChangeRecord]:
    """Write the approved values into the register, each change recorded with its value before."""
    organisation = session.scalar(select(HrOrganisation).where(HrOrganisation.id == organisation_id)
                                  .with_for_update())
    if organisation is None or organisation.status != ACTIVE:
        raise OperatorError("机构不存在或已注销，不能变更")
    day = (utcnow() + CST).date()
    records: list[HrChangeRecord] = []

    def record(field: str, before: str, after: str) -> None:
        records.append(HrChangeRecord(organisation_id=organisation.id, instance_id=instance_id, field=field,
                                      before=before[:500], after=after[:500], changed_on=day, changed_by=changed_by))

    types = [key for key in CHANGE_TYPES if key in (data.get("change_types") or [])]
    for key in (k for k in types if k in TEXT_FIELDS):
        after = str(data.get(f"new_{key}") or "").strip()
        if not after or (key == "kind" and after not in ORGANISATION_KINDS):
            raise OperatorError("变更后的%(item)s无效" % dict(item=CHANGE_TYPES[key]))
        shown = ORGANISATION_KINDS if key == "kind" else {}
        record(key, shown.get(getattr(organisation, key), getattr(organisation, key)), shown.get(after, after))
        setattr(organisation, key, after)
    for key, holding, table in (("licence_items", holdings.active_licence, LICENCE_ITEMS),
                                ("filing_items", holdings.active_filing, FILING_ITEMS)):
        if key not in types:
            continue
        held = holding(session, organisation.id)
        items = [code for code in table if code in (data.get(f"new_{key}") or [])]
        if held is None or not items:
            raise OperatorError("变更后的%(item)s无效，或已无有效的许可/备案" % dict(item=CHANGE_TYPES[key]))
        record(key, items_text(held.items, table), items_text(items, table))
        held.items = items
    if not records:
        raise OperatorError("未选择变更事项")
    session.add_all(records)
    session.flush()
    return records


def history(session: Session, organisation_id: int) -> list[HrChangeRecord]:
    return list(session.scalars(select(HrChangeRecord).where(HrChangeRecord.organisation_id == organisation_id)
                                .order_by(HrChangeRecord.id.desc())))


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("hr.apply_change", example={
        "changed": "机构名称", "records": [{"label": "机构名称", "before": "甲公司", "after": "乙公司"}]})
    def apply_operator(ctx: OperatorContext) -> dict:
        """The changes written, for the 准予变更决定书 (each with its value before and after)."""
        records = apply_change(ctx.session, int(ctx.data["organisation_id"]), ctx.data, instance_id=ctx.instance_id,
                               changed_by=ctx.actor)
        return {"changed": "、".join(CHANGE_TYPES[r.field] for r in records),
                "records": [{"label": CHANGE_TYPES[r.field], "before": r.before, "after": r.after} for r in records]}
