"""Who may apply, for every application of the system (engine start check, 发起办件 and the API).

An application is started by an account bound to a registered organisation (机构端) in the
organisation's own region (住所地: the office there accepts and decides it). One at a time per
organisation and kind: a second application while one is open is refused (R14), and so is one the
organisation's holdings make pointless (a licence applied for while a valid one is held, a filing
while one is on record). Refused before anything is stored, with the user's message. A start that
passes takes the organisation's particulars from the register into the case — what the office and
the documents see is what the register says, not what the applicant typed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Conflict, InvalidData
from services.hr_market import annual_reports, branches, changes, deregistrations, holdings, organisations
from services.hr_market.models import ACTIVE, HrOrganisation

# process id → the kind of application
KINDS = {"hr_licence": "行政许可", "hr_filing": "业务备案", "hr_change": "事项变更", "hr_branch": "设立分支机构报告",
         "hr_deregistration": "注销", "hr_annual_report": "年度报告"}


def _licence_held(session: Session, organisation: HrOrganisation, _data: dict[str, Any]) -> str | None:
    held = holdings.active_licence(session, organisation.id)
    return f"您单位已持有有效的人力资源服务许可证（{held.licence_number}），不能重复申请" if held else None


def _filing_held(session: Session, organisation: HrOrganisation, _data: dict[str, Any]) -> str | None:
    held = holdings.active_filing(session, organisation.id)
    return (f"您单位已办理业务备案（{held.filing_number}），备案事项有变化的请申请事项变更"
            if held else None)


# process id → what the organisation already holds that makes the application (its start form's data) pointless
HELD: dict[str, Callable[[Session, HrOrganisation, dict[str, Any]], str | None]] = {
    "hr_licence": _licence_held, "hr_filing": _filing_held, "hr_change": changes.needs_holding,
    "hr_branch": branches.already_derived, "hr_deregistration": deregistrations.needs_holding,
    "hr_annual_report": annual_reports.already_reported}


def applicant_organisation(session: Session, actor: Actor, region_code: str) -> HrOrganisation:
    """The registered organisation the actor's account speaks for, in the region it applies in."""
    organisation = organisations.by_credit_code(session, actor.party or "")
    if organisation is None:
        raise InvalidData("您的账号未绑定已登记的人力资源服务机构，请联系所在区人社局办理机构登记")
    if organisation.status != ACTIVE:
        raise Conflict("您单位已注销，不能提交申请")
    if organisation.region_code != region_code:
        raise InvalidData("申请应向机构住所所在区的人社局提出")
    return organisation


def check_start(session: Session, process_key: str, actor: Actor, region_code: str,
                data: dict[str, Any]) -> dict[str, Any]:
    """The engine's start check for the system's applications (other processes pass untouched)."""
    if process_key not in KINDS:
        return {}
    organisation = applicant_organisation(session, actor, region_code)
    # the organisation's row lock: two starts at once are judged one after the other (one open at a time)
    session.scalars(select(HrOrganisation.id).where(HrOrganisation.id == organisation.id).with_for_update()).all()
    if (held := HELD[process_key](session, organisation, data)) is not None:
        raise Conflict(held)
    under_way = organisations.open_cases(session, organisation.credit_code, list(KINDS))
    if any(key == process_key for _number, key in under_way):
        raise Conflict("您单位已有一项正在办理的%(kind)s申请，请勿重复提交" % dict(kind=KINDS[process_key]))
    if process_key == deregistrations.PROCESS and under_way:
        cases = "、".join(f"{KINDS[key]} {number}" for number, key in under_way)
        raise Conflict("您单位尚有正在办理的申请（%(cases)s），办结或撤回后才能申请注销" % dict(cases=cases))
    if any(key == deregistrations.PROCESS for _number, key in under_way):
        raise Conflict("您单位的注销申请正在办理，不能再提交其他申请")
    added = {"organisation_id": organisation.id, "organisation_name": organisation.name,
             "credit_code": organisation.credit_code, "legal_representative": organisation.legal_representative,
             "address": organisation.address}
    if process_key == changes.PROCESS:
        added |= changes.before_values(session, organisation)
    elif process_key == branches.PROCESS:
        added |= branches.parent_values(session, organisation, data)
    return added
