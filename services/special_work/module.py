"""全国特殊工种岗位人员信息审核系统 (seed 000) as a process module: declarations reviewed at 初审 and
复核 and entered into the register, early-retirement registration, spot checks, the catalogue."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.models import ProcessInstance
from services.platform.modules import MenuEntry, ProcessModule
from services.special_work import (
    batch_registration,
    batch_validation,
    catalogue,
    context,
    declaration_import,
    declarations,
    demo,
    early_retirement,
    enterprises,
    labels,
    operators,
    queries,
    register,
    spot_checks,
)
from services.special_work.models import Enterprise


def terminate(session: Session, instance: ProcessInstance, reason: str) -> None:
    declarations.terminate_batch(session, instance.id, reason)
    early_retirement.terminate_registration(session, instance.id, reason)


def _applicant(actor: Actor) -> bool:
    """An enterprise's account (not another system's applicant, such as a licensed organisation's)."""
    return actor.party is not None and actor.has_role("enterprise")


MENU = (
    MenuEntry("我的申报", "pages.portal", _applicant, applicants=True, active=("pages.portal", "pages.portal_batch")),
    MenuEntry("新增申报", "pages.portal_new", _applicant, applicants=True,
              active=("pages.portal_new", "pages.portal_upload", "pages.portal_import")),
    MenuEntry("人员信息管理", "pages.register_page", register.may_maintain, active=("pages.register*",)),
    MenuEntry("抽查", "pages.spot_checks_page", spot_checks.is_provincial_checker, active=("pages.spot_check*",)),
    MenuEntry("单位管理", "pages.enterprise_list", lambda actor: enterprises.may_manage(actor),
              active=("pages.enterprise*",)),
    MenuEntry("名录管理", "pages.catalogue_admin", catalogue.may_maintain, active=("pages.catalogue*",)),
)


def enterprise_region(session: Session, code: str) -> str | None:
    enterprise = session.get(Enterprise, code)
    return enterprise.region_code if enterprise is not None else None


MODULE = ProcessModule(
    name="special_work",
    title="特殊工种审核",
    process_keys=frozenset({"first_declaration_review", "annual_declaration_review", "declaration_review_flow",
                            "early_retirement_registration", "work_history_certificate"}),
    roles=labels.ROLES,
    applicant_roles=labels.APPLICANT_ROLES,
    setup=operators.setup,
    queries=queries.QUERIES,
    audit_actions=labels.AUDIT_ACTIONS,
    labels=labels.LABELS,
    party_region=enterprise_region,
    panels=context.PANELS,
    search=declarations.batches_declaring,
    demo=demo.load,
    on_terminate=terminate,
    menu=MENU,
    job_titles={batch_validation.KIND: "后台校验", batch_registration.KIND: "后台入库"},
    party_job=declaration_import.is_party_import,
)
