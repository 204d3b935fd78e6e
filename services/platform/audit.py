"""The audit log (操作日志): who changed which domain record, outside any BPMN flow.

Register maintenance, enterprise portal access and password resets, catalogue edits and spot
checks are direct actions without a case history, so each of them appends one row here.
Append-only, like the engine's history.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.actors import Actor
from engine.db import Base, utcnow

ACTION_LABELS: dict[str, str] = {}  # action → Chinese words, from the process modules (``audit_actions``)


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(50), index=True)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def label(self) -> str:
        """The action in words (the code itself for an action recorded before it had a label)."""
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def changed_fields(self) -> list[str]:
        """The fields an update changed (their values before are in ``details["before"]``)."""
        return sorted((self.details or {}).get("before") or {})


def record(session: Session, actor: Actor, action: str, target_type: str, target_id: object,
           region_code: str = "", **details: Any) -> None:
    session.add(AuditEntry(actor=actor.username, action=action, target_type=target_type,
                           target_id=str(target_id), region_code=region_code, details=details))


def entries_for(session: Session, target_type: str, target_id: object) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id)).order_by(AuditEntry.id)))
