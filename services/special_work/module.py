"""全国特殊工种岗位人员信息审核系统 (seed 000) as a process module: declarations reviewed at 初审 and
复核 and entered into the register, early-retirement registration, spot checks, the catalogue."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from services.platform.modules import ProcessModule
from services.special_work import context, declarations, demo, early_retirement, labels, operators, queries
from services.special_work.models import Enterprise


def terminate(session: Session, instance: ProcessInstance, reason: str) -> None:
    declarations.terminate_batch(session, instance.id, reason)
    early_retirement.terminate_registration(session, instance.id, reason)


def enterprise_region(session: Session, code: str) -> str | None:
    enterprise = session.get(Enterprise, code)
    return enterprise.region_code if enterprise is not None else None


MODULE = ProcessModule(
    name="special_work",
    title="特殊工种审核",
    process_keys=frozenset({"first_declaration_review", "annual_declaration_review", "declaration_review_flow",
                            "early_retirement_registration"}),
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
)
