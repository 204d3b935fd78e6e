"""来信简单登记 (004 §4.2, L937–961): letters that need no further handling are recorded by a registrar
with their type, count, recipient, 办理方式 and 去向 — a direct action, audited, never a case."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Forbidden, InvalidData
from services.petitions.labels import SIMPLE_KINDS, SIMPLE_MODES
from services.petitions.models import SimpleRegistration
from services.platform import audit
from services.platform.organisations import Organisation

MAX_LETTERS = 1000


@dataclass(frozen=True)
class SimpleLetter:
    name: str
    address: str
    kind: str
    letters: int = 1
    recipient: str = ""
    note: str = ""
    mode: str = "file"
    destination: str = ""


def may_register(actor: Actor, organisation_id: int) -> bool:
    return ("xf_registrar", organisation_id) in actor.posts


def register(session: Session, actor: Actor, organisation_id: int, letter: SimpleLetter) -> SimpleRegistration:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not may_register(actor, organisation_id):
        raise Forbidden("只有本信访部门的登记岗可以登记来信")
    problems: dict[str, list[str]] = {}
    for key, label, limit in (("name", "姓名", 50), ("address", "地址", 200)):
        value = getattr(letter, key).strip()
        if not value:
            problems[key] = [f"请填写{label}"]
        elif len(value) > limit:
            problems[key] = [f"{label}不能超过 {limit} 字"]
    if letter.kind not in SIMPLE_KINDS:
        problems["kind"] = ["请选择简单登记类型"]
    if letter.mode not in SIMPLE_MODES:
        problems["mode"] = ["请选择办理方式"]
    if not 1 <= letter.letters <= MAX_LETTERS:
        problems["letters"] = [f"来信数量应在 1 到 {MAX_LETTERS} 之间"]
    if letter.mode == "forward" and not letter.destination.strip():
        problems["destination"] = ["转出时请填写去向"]
    if problems:
        raise InvalidData("简单登记填写有误", fields=problems)
    row = SimpleRegistration(organisation_id=organisation_id, name=letter.name.strip(), address=letter.address.strip(),
                             kind=letter.kind, letters=letter.letters, recipient=letter.recipient.strip()[:100],
                             note=letter.note.strip()[:1000], mode=letter.mode,
                             destination=letter.destination.strip()[:200], registered_by=actor.username)
    session.add(row)
    session.flush()
    audit.record(session, actor, "xf_simple.register", "xf_simple_registration", row.id, organisation.region_code,
                 kind=letter.kind)
    return row


def recent(session: Session, actor: Actor, limit: int = 100) -> list[SimpleRegistration]:
    """The simple registrations of the offices where the actor registers, newest first."""
    offices = [org for post, org in actor.posts if post == "xf_registrar"]
    return list(session.scalars(select(SimpleRegistration).where(SimpleRegistration.organisation_id.in_(offices))
                                .order_by(SimpleRegistration.id.desc()).limit(limit)))
