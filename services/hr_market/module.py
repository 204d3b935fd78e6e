"""人力资源市场管理系统 (seed 003, Tianjin's human-resources market management) as a process module:
licences applied for by registered organisations, accepted, returned for 补正, granted with generated
numbers and documents; the authority's organisation register."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from engine.actors import Actor
from services.hr_market import cancellations, context, demo, labels, operators, organisations, queries
from services.platform.modules import MenuEntry, ProcessModule


def organisation_region(session: Session, credit_code: str) -> str | None:
    """The region of an organisation an applicant account may be bound to (by its credit code)."""
    organisation = organisations.by_credit_code(session, credit_code)
    return organisation.region_code if organisation is not None else None


def _organisation_account(actor: Actor) -> bool:
    return actor.party is not None and actor.has_role("hr_org")


MENU = (
    MenuEntry("现场招聘会", "pages.hr_job_fairs", _organisation_account, applicants=True,
              active=("pages.hr_job_fairs", "pages.hr_add_job_fair")),
    MenuEntry("机构管理", "pages.hr_organisations", organisations.may_manage, active=("pages.hr_organisation*",)),
    MenuEntry("历史数据采集", "pages.hr_history", organisations.may_manage, active=("pages.hr_history*",)),
    MenuEntry("注销单位行政许可", "pages.hr_cancellations", cancellations.may_cancel,
              active=("pages.hr_cancellations", "pages.hr_cancel_licence")),
)

MODULE = ProcessModule(
    name="hr_market",
    title="人力资源市场管理",
    process_keys=frozenset({"hr_licence", "hr_filing", "hr_change", "hr_branch", "hr_deregistration",
                            "hr_annual_report"}),
    roles=labels.ROLES,
    applicant_roles=labels.APPLICANT_ROLES,
    setup=operators.setup,
    queries=queries.QUERIES,
    audit_actions=labels.AUDIT_ACTIONS,
    labels=labels.LABELS,
    party_region=organisation_region,
    panels=context.PANELS,
    demo=demo.load,
    menu=MENU,
    document_templates=Path(__file__).parent / "templates" / "documents",
)
