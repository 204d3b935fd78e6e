"""山东省网上信访信息系统 (seed 004, lines 660–1108) as a process module: petitioners register on the
portal and submit complaints; registrars of the 信访部门 register complaints and letters with 判重
and the 满意度评价 scope; each organisation an item reaches handles it (收件, 转送, 交办 and 报告,
告知, 自办, 直接回复, 存, 送审); the petitioner follows it and evaluates the answer."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.models import ProcessInstance
from services.petitions import context, demo, evaluations, intake, labels, operators, queries, scope
from services.petitions.models import Petition
from services.platform.modules import MenuEntry, ProcessModule


def _petitioner(actor: Actor) -> bool:
    return actor.has_role("petitioner")


def _petition_staff(actor: Actor) -> bool:
    """Holds a post of a 信访部门's workbench (登记, 处理)."""
    return actor.has_role("xf_registrar") or actor.has_role("xf_handler")


def withdrawn(session: Session, instance: ProcessInstance, ending: str) -> None:
    """An intake case that ended before its item was registered: the item is 已撤回 (or closed)."""
    petition = session.scalar(select(Petition).where(Petition.intake_instance_id == instance.id))
    if petition is not None and petition.status == "submitted":
        petition.status = "withdrawn"


MENU = (
    MenuEntry("反映问题", "pages.xf_new_complaint", _petitioner, applicants=True),
    MenuEntry("我反映的问题", "pages.xf_my_petitions", _petitioner, applicants=True,
              active=("pages.xf_my_petitions", "pages.xf_my_petition")),
    MenuEntry("个人信息", "pages.xf_profile", _petitioner, applicants=True,
              active=("pages.xf_profile", "pages.xf_change_profile")),
    MenuEntry("信访工作台", "pages.xf_workbench", _petition_staff,
              active=("pages.xf_workbench", "pages.xf_online_desk", "pages.xf_new_letter", "pages.xf_register_letter",
                      "pages.xf_new_visit", "pages.xf_register_visit", "pages.xf_simple", "pages.xf_add_simple",
                      "pages.xf_batch", "pages.xf_forward_batch")),
)

MODULE = ProcessModule(
    name="petitions",
    title="网上信访",
    process_keys=frozenset({"xf_online_intake", "xf_letter_intake", "xf_visit_intake", "xf_handling", "xf_review"}),
    roles=labels.ROLES,
    applicant_roles=labels.APPLICANT_ROLES,
    setup=operators.setup,
    queries=queries.QUERIES,
    audit_actions=labels.AUDIT_ACTIONS,
    decision_labels=labels.DECISIONS,
    labels=labels.LABELS + evaluations.MESSAGES + (scope.LOCKED, scope.MUST, scope.NEVER, scope.JUDGED)
    + tuple(intake.ONLINE_TABS.values()),
    panels=context.PANELS,
    demo=demo.load,
    menu=MENU,
    on_terminate=withdrawn,
    document_templates=Path(__file__).parent / "templates" / "documents",
)
