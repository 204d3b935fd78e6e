"""满意度评价 scope (004 L924–930, L992–999; requirements §B5): whether an item is evaluated by its
petitioner, and whether the registrar may say so. The rule is the DMN table
``processes/petitions/xf_satisfaction_scope.dmn`` (officials change it by deploying a new version);
it is evaluated here, on the server, at every save of a registration and again whenever 判重 changes
初次 — what a page shows is only its echo."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.runtime import WorkflowEngine
from services.petitions.labels import SEEKING

DECISION = "xf_satisfaction_scope"
LOCKED = "满意度评价范围由系统根据规则确定，不能修改"
MUST, NEVER, JUDGED = "必须纳入满意度评价（系统锁定）", "不能纳入满意度评价（系统锁定）", "人工判断是否纳入满意度评价"


@dataclass(frozen=True)
class Scope:
    locked: bool  # the system decides (checked, or forbidden); False: the registrar decides
    value: bool  # in scope (for an editable scope: the default)

    @property
    def words(self) -> str:
        if not self.locked:
            return JUDGED
        return MUST if self.value else NEVER


def decide(session: Session, engine: WorkflowEngine, *, first: bool, anonymous: bool, law_related: bool,
           purpose: str) -> Scope:
    outcome = engine.decide(session, DECISION, {"first": first, "anonymous": anonymous,
                                                "law_related": law_related, "seeking": purpose == SEEKING})
    if not outcome:  # the table is complete; a version that is not refuses rather than guesses
        raise InvalidData("满意度评价范围规则没有适用的条目，请联系系统管理员")
    return Scope(outcome["state"] == "locked", bool(outcome["value"]))


def settle(scope: Scope, requested: bool | None) -> bool:
    """The value to store: the rule's when it is locked (a different one asked for is refused),
    otherwise the registrar's."""
    if scope.locked:
        if requested is not None and bool(requested) != scope.value:
            raise InvalidData(LOCKED, fields={"in_scope": [LOCKED]})
        return scope.value
    return bool(requested)
